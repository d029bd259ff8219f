-- The landing table of the lakehouse: every event the Spark ingest captured from Cassandra's change feed,
-- with the raw fields as the collector stored them, plus where and when it was landed. dbt reads it as the
-- source `datalake.tracking` (the database is created by the migration runner).
--
-- Append-only: a batch is one Delta commit, and the capture position (ingest_batch and its arrival window)
-- is recorded in that same commit, so data and position can never disagree. An event delivered more than
-- once (a replay, a redelivery) may be landed more than once, always with its event id: the dbt staging
-- model keeps one row per create_time before anything is counted.
--
-- Partitioned by arrival date: a run of dbt reads the batches landed since its last run, which live in the
-- newest one or two partitions (min/max statistics on ingest_batch skip the rest of their files).

CREATE TABLE IF NOT EXISTS tracking (
    create_time STRING NOT NULL COMMENT 'event id: a version-1 UUID, as sent',
    bid DOUBLE,
    bn STRING,
    campaign_id DOUBLE,
    cd DOUBLE,
    custom_track STRING,
    de STRING,
    dl STRING,
    dt STRING,
    ed STRING,
    ev DOUBLE,
    group_id DOUBLE,
    id STRING,
    job_id DOUBLE,
    md STRING,
    publisher_id DOUBLE,
    rl STRING,
    sr STRING,
    ts STRING,
    tz DOUBLE,
    ua STRING,
    uid STRING,
    utm_campaign STRING,
    utm_content STRING,
    utm_medium STRING,
    utm_source STRING,
    utm_term STRING,
    v DOUBLE,
    vp STRING,
    arrived_at TIMESTAMP NOT NULL COMMENT 'when the collector stored the event (its arrival in the raw log)',
    arrival_date DATE NOT NULL COMMENT 'partition: UTC date of arrived_at',
    ingest_batch BIGINT NOT NULL COMMENT 'the ingest batch that landed the row (one Delta commit each)',
    ingested_at TIMESTAMP NOT NULL COMMENT 'when that batch was landed'
)
USING delta
PARTITIONED BY (arrival_date)
TBLPROPERTIES ('delta.appendOnly' = 'true', 'delta.dataSkippingNumIndexedCols' = '33');
