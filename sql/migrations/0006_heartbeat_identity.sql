-- Process identity (boot id and start time) of an in-flight run, so that a killed run is
-- recognised even when another process now has its pid (reboot, containers, pid reuse).
ALTER TABLE meta.etl_heartbeats {{ON_CLUSTER}}
    ADD COLUMN IF NOT EXISTS proc_identity String DEFAULT '';
