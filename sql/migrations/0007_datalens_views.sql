-- DataLens datasets over the run registry (docs/datalens.md lists every field and the charts).
-- Two views, read by a read-only DataLens user:
--   meta.v_etl_runs        one row per row of meta.etl_runs, with durations in seconds and dates
--                          in the ETL zone ({{TIMEZONE}});
--   meta.v_etl_runs_daily  one row per run date (ETL zone) and job: runs, errors, error rate,
--                          p50/p95/max duration, rows.
--
-- Portability rules kept here (the same SQL runs on embedded chdb and on a server, old analyzer or new):
-- * No output alias equals a column of the SELECT's own source: ClickHouse resolves identifiers
--   to aliases first, so `sum(rows_written) AS rows_written` or
--   `toTimeZone(started_at, …) AS started_at` makes every other use of that name refer to the
--   alias (an aggregate inside an aggregate, or a silently different value). Derived values are
--   computed under distinct names in an inner query and only renamed in the outer one.
-- * meta.etl_runs.started_at/finished_at are `DateTime` without a zone, i.e. displayed in
--   whatever zone the server or session uses. The views convert them explicitly to the ETL
--   zone, and derive dates with toDate(x, zone): DataLens sessions do not set session_timezone,
--   and toDate(column) ignores it anyway on a stored DateTime.

-- One row per run (every row of meta.etl_runs: step jobs, backfill_all parents, interrupted runs).
CREATE OR REPLACE VIEW meta.v_etl_runs {{ON_CLUSTER}} AS
SELECT
    job,
    run_id,
    status,
    r_is_error AS is_error,
    trigger,
    actor,
    host,
    version_tag,
    parent_run_id,
    r_is_step AS is_step,
    r_started_at AS started_at,
    r_finished_at AS finished_at,
    started_ms,
    r_run_date AS run_date,
    to_date AS data_date,
    from_date,
    to_date,
    r_window_days AS window_days,
    r_duration_s AS duration_s,
    rows_read,
    rows_written,
    err_msg
FROM
(
    SELECT
        job,
        run_id,
        status,
        -- Anything but 'ok' is a failure ('error' today, including interrupted and timed-out
        -- runs); a future status must not silently disappear from the error rate. The CAST
        -- drops LowCardinality: a comparison on it would yield LowCardinality(UInt8), which
        -- CREATE VIEW refuses (SUSPICIOUS_TYPE_FOR_LOW_CARDINALITY).
        toUInt8(CAST(status AS String) != 'ok') AS r_is_error,
        trigger,                                   -- '' on rows written before zakaz-etl
        actor,
        host,
        version_tag,
        parent_run_id,                             -- Nullable(UUID): the backfill_all run of a step
        toUInt8(parent_run_id IS NOT NULL) AS r_is_step,
        toTimeZone(started_at, '{{TIMEZONE}}') AS r_started_at,
        toTimeZone(finished_at, '{{TIMEZONE}}') AS r_finished_at,
        started_ms,                                -- unix ms; orders runs started within one second
        toDate(started_at, '{{TIMEZONE}}') AS r_run_date,
        from_date,
        to_date,
        toUInt32(greatest(dateDiff('day', from_date, to_date) + 1, 0)) AS r_window_days,
        -- duration_ms is UInt64 DEFAULT 0: rows written before it existed (or by the customer's
        -- earlier loader) hold 0, so those fall back to the whole seconds between start and
        -- finish, never negative (clock steps).
        if(
            ifNull(duration_ms, 0) > 0,
            duration_ms / 1000,
            toFloat64(greatest(dateDiff('second', started_at, finished_at), 0))
        ) AS r_duration_s,
        rows_read,
        rows_written,
        err_msg
    FROM meta.etl_runs
);

-- One row per run date (the start's date in the ETL zone) and job.
-- Every run counts under its own job: a backfill's steps under vk_fetch, build_dm_sales, …, and
-- the backfill itself once under backfill_all, so per-job numbers are complete and nothing is
-- counted twice within a job. backfill_all's rows are the sums of its steps' rows, though: a
-- total over all jobs must leave out job = 'backfill_all' (or is_step = 1 in meta.v_etl_runs).
--
-- Percentiles use quantileExactInclusive: exact (DataLens users compare them with a handful of
-- runs they can count, and a day has tens of runs, so the exact sort costs nothing) and linearly
-- interpolated between neighbours, the definition of Excel/Sheets PERCENTILE(.INC) and numpy's
-- default, so p50 of two runs is their mean, the usual median. quantileExact would return an
-- observed value at index floor(level·n) instead (the larger of two runs as the "median"), and
-- quantile() is a sampling estimate, not guaranteed exact.
CREATE OR REPLACE VIEW meta.v_etl_runs_daily {{ON_CLUSTER}} AS
SELECT
    run_date,
    job,
    d_runs AS runs,
    d_errors AS errors,
    d_errors / d_runs AS error_rate,               -- Float64 in 0..1; d_runs ≥ 1 in every group
    d_p50_s AS p50_duration_s,
    d_p95_s AS p95_duration_s,
    d_max_s AS max_duration_s,
    d_rows_written AS rows_written,
    d_rows_read AS rows_read,
    d_last_status AS last_status,
    d_last_finished_at AS last_finished_at
FROM
(
    SELECT
        run_date,
        job,
        count() AS d_runs,
        toUInt64(sum(is_error)) AS d_errors,
        quantileExactInclusive(0.5)(duration_s) AS d_p50_s,
        quantileExactInclusive(0.95)(duration_s) AS d_p95_s,
        max(duration_s) AS d_max_s,
        sum(rows_written) AS d_rows_written,
        sum(rows_read) AS d_rows_read,
        -- The day's last run is the latest started one (as in `etl history`); its status and
        -- finish come from the same row.
        argMax(status, (started_ms, finished_at)) AS d_last_status,
        argMax(finished_at, (started_ms, finished_at)) AS d_last_finished_at
    FROM meta.v_etl_runs
    GROUP BY run_date, job
);
