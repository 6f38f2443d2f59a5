-- Rollback of zakaz-etl's own objects in ClickHouse: the run registry, alerts, heartbeats, the
-- migration ledger and the views over them (database `meta`). The data product in `zakaz`
-- (staging tables, marts, dim_city_alias, v_roi_daily) is left alone: dashboards read it.
-- Run it with `etl rollback` (asks for confirmation, fills in the cluster clause) or by hand with
-- clickhouse-client after replacing the ON_CLUSTER placeholder in double braces with nothing or
-- with ON CLUSTER '<cluster>'.
-- The run history is gone afterwards; export it first if you need it:
--   SELECT * FROM meta.etl_runs FORMAT CSVWithNames
-- `etl migrate` recreates everything: it re-applies every migration, which also re-inserts the
-- seed rows of zakaz.dim_city_alias (re-apply your own corrections to it afterwards).

DROP VIEW IF EXISTS meta.v_etl_runs_daily {{ON_CLUSTER}};
DROP VIEW IF EXISTS meta.v_etl_runs {{ON_CLUSTER}};
DROP VIEW IF EXISTS meta.v_quality_last_day {{ON_CLUSTER}};
DROP TABLE IF EXISTS meta.etl_heartbeats {{ON_CLUSTER}};
DROP TABLE IF EXISTS meta.etl_alerts {{ON_CLUSTER}};
DROP TABLE IF EXISTS meta.etl_runs {{ON_CLUSTER}};
DROP TABLE IF EXISTS meta.schema_migrations {{ON_CLUSTER}};
