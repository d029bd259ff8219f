-- Copies of the lakehouse marts in the serving database, kept by `jobpulse.publish` (an upsert of the rows
-- that changed since the last copy, in one transaction) and read by the dbt-mysql models as sources.

CREATE TABLE IF NOT EXISTS job_hourly_facts (
    job_id DOUBLE NOT NULL,
    dates DATE NOT NULL,
    hours TINYINT NOT NULL,
    publisher_id DOUBLE NOT NULL,
    campaign_id DOUBLE NOT NULL,
    group_id DOUBLE NOT NULL,
    clicks BIGINT NOT NULL,
    spend_hour DOUBLE NOT NULL,
    bid_set DOUBLE NOT NULL,
    conversion BIGINT NOT NULL,
    qualified_application BIGINT NOT NULL,
    disqualified_application BIGINT NOT NULL,
    last_ingest_batch BIGINT NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    PRIMARY KEY (job_id, dates, hours, publisher_id, campaign_id, group_id),
    KEY job_hourly_facts_updated (updated_at),
    KEY job_hourly_facts_batch (last_ingest_batch)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE IF NOT EXISTS tracking_quality_daily (
    arrival_date DATE NOT NULL PRIMARY KEY,
    deliveries BIGINT NOT NULL,
    events BIGINT NOT NULL,
    events_without_job BIGINT NOT NULL,
    events_unparseable_ts BIGINT NOT NULL,
    events_unclassified_track BIGINT NOT NULL,
    last_ingest_batch BIGINT NOT NULL,
    updated_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

-- One row per `jobpulse run` (or scheduled run): what it did and how long each step took.
CREATE TABLE IF NOT EXISTS pipeline_runs (
    run_id VARCHAR(64) NOT NULL PRIMARY KEY,
    started_at DATETIME(6) NOT NULL,
    finished_at DATETIME(6) NULL,
    status VARCHAR(20) NOT NULL,
    events_collected BIGINT NULL,
    events_dead_lettered BIGINT NULL,
    events_landed BIGINT NULL,
    cells_changed BIGINT NULL,
    step_seconds JSON NULL,
    error TEXT NULL,
    KEY pipeline_runs_started (started_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
