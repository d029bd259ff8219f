-- The collector's counters, published by each collector process (ingest/collector_stats.py) from a thread of
-- its own every stats interval, for the pipeline-health dashboard and the alerts. One row per process in
-- `collector_instances` (cumulative totals since it started, its consumer lag, when it last reported, and
-- `stopped_at` once it stopped cleanly: a row that stops reporting without it is a dead or stuck collector).
-- `collector_samples` holds what each report added since the instance's previous stored report (increments,
-- so a rate over any window is a SUM, across restarts too) and the lag at that moment; the collector prunes
-- samples and stopped instances older than its retention.
CREATE TABLE IF NOT EXISTS collector_instances (
    instance_id VARCHAR(100) NOT NULL PRIMARY KEY,
    consumer_group VARCHAR(255) NOT NULL,
    topic VARCHAR(255) NOT NULL,
    host VARCHAR(255) NOT NULL,
    pid INT NOT NULL,
    mode VARCHAR(20) NOT NULL,
    started_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    stopped_at DATETIME(6) NULL,
    consumed BIGINT NOT NULL,
    written BIGINT NOT NULL,
    dead_lettered BIGINT NOT NULL,
    dead_lettered_by_reason JSON NOT NULL,
    batches BIGINT NOT NULL,
    retries BIGINT NOT NULL,
    lag_messages BIGINT NULL,
    KEY collector_instances_updated (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;

CREATE TABLE IF NOT EXISTS collector_samples (
    instance_id VARCHAR(100) NOT NULL,
    sampled_at DATETIME(6) NOT NULL,
    consumed BIGINT NOT NULL,
    written BIGINT NOT NULL,
    dead_lettered BIGINT NOT NULL,
    lag_messages BIGINT NULL,
    PRIMARY KEY (instance_id, sampled_at),
    KEY collector_samples_sampled (sampled_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
