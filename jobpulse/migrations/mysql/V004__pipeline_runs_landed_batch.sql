-- The newest landing batch a successful run carried all the way into `events`: the scheduler's new-data
-- check compares it with the landing table's position, so a run that failed after the ingest is finished by
-- the next one even when nothing new has arrived since. One statement, so it applies whole or not at all.
ALTER TABLE pipeline_runs
    ADD COLUMN landed_through_batch BIGINT NULL,
    ADD COLUMN source VARCHAR(20) NOT NULL DEFAULT 'cli';
