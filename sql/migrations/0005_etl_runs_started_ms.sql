-- Start time in milliseconds, appended to meta.etl_runs so that runs started within the same
-- second (the steps of a backfill) keep their order in the history.
ALTER TABLE meta.etl_runs {{ON_CLUSTER}}
    ADD COLUMN IF NOT EXISTS started_ms UInt64 DEFAULT toUInt64(toUnixTimestamp(started_at)) * 1000;
