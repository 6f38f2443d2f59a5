-- Run registry and alert registry (DESIGN §3). meta.etl_runs keeps the customer's twelve
-- columns, types, engine and keys exactly; columns after version_tag are appended by zakaz-etl.
-- {{ON_CLUSTER}} and {{ENGINE:…}} are rendered per deployment (single node or cluster).

CREATE DATABASE IF NOT EXISTS meta {{ON_CLUSTER}};

CREATE TABLE IF NOT EXISTS meta.etl_runs {{ON_CLUSTER}} (
    job LowCardinality(String),
    run_id UUID,
    started_at DateTime,
    finished_at DateTime,
    status LowCardinality(String),  -- 'ok' | 'error'
    rows_written UInt64,
    rows_read UInt64,
    err_msg String,
    from_date Date,
    to_date Date,
    host String,
    version_tag String,              -- git commit
    trigger LowCardinality(String) DEFAULT '',   -- cli | schedule | catchup | chat | ci | demo | backfill
    actor String DEFAULT '',                     -- who started it (Telegram user, $USER, CI actor)
    parent_run_id Nullable(UUID),                -- the backfill_all run a step belongs to
    duration_ms UInt64 DEFAULT 0,
    pid UInt32 DEFAULT 0
) ENGINE = {{ENGINE:MergeTree}} ORDER BY (started_at, job) PARTITION BY toYYYYMM(started_at);

-- In-flight runs: one row per heartbeat, the newest wins. A 'running' row whose process is gone
-- is closed as an 'interrupted' error in meta.etl_runs by the next etl invocation.
CREATE TABLE IF NOT EXISTS meta.etl_heartbeats {{ON_CLUSTER}} (
    run_id UUID,
    job LowCardinality(String),
    state LowCardinality(String),    -- 'running' | 'finished'
    started_at DateTime,
    beat_at DateTime64(3, 'UTC'),
    from_date Date,
    to_date Date,
    host String,
    pid UInt32,
    version_tag String,
    trigger LowCardinality(String),
    actor String,
    parent_run_id Nullable(UUID)
) ENGINE = {{ENGINE:ReplacingMergeTree}}(beat_at) ORDER BY run_id
TTL toDateTime(beat_at) + INTERVAL 30 DAY;

-- One row per alert (the customer's six columns first). State changes (a repeat, a delivery, a
-- resolution) write a newer version of the same alert_id; read with FINAL.
CREATE TABLE IF NOT EXISTS meta.etl_alerts {{ON_CLUSTER}} (
    ts DateTime,                     -- when the problem was first raised
    severity LowCardinality(String), -- 'info' | 'warning' | 'critical'
    job LowCardinality(String),
    code LowCardinality(String),     -- 'RUN_FAILED' | 'ZERO_ROWS' | 'ANOMALY' | 'RECOVERED' | ...
    message String,                  -- plain text, as told
    context_json String,
    alert_id UUID,
    dedup_key String,                -- code|job|data date|signature: the same problem has the same key
    run_id Nullable(UUID),           -- the run that raised it
    data_date Nullable(Date),        -- the MSK business date it is about
    occurrences UInt32,              -- times the problem was seen; repeats do not send again
    last_seen DateTime,
    delivery_state LowCardinality(String), -- 'pending' | 'delivered' | 'printed' | 'rejected'
    delivery_error String,
    notified_at Nullable(DateTime),  -- last time it was told (first delivery or reminder)
    chat_id String,
    message_id Nullable(Int64),      -- Telegram message of the first delivery
    resolved_at Nullable(DateTime),
    resolved_by_run_id Nullable(UUID),
    version UInt64                   -- ms; the newest version of an alert_id wins
) ENGINE = {{ENGINE:ReplacingMergeTree}}(version)
ORDER BY alert_id
PARTITION BY toYYYYMM(ts);
