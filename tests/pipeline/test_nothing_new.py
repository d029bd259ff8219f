"""`jobpulse run` when nothing new lands: it says why and skips dbt, unless batches an earlier run landed are
not yet modelled (that run failed after its ingest), which it carries through dbt first."""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from ingest.capture import read_position, ticks_of
from ingest.events import parse_event
from ingest.raw_log import RawLog
from ingest.simulator import Simulator, encode
from ingest.spark import ingest_job
from jobpulse.clients import cassandra_cluster
from jobpulse.config import Settings
from jobpulse.lakehouse import landing_table_path
from jobpulse.pipeline import RunReport, run_once
from tests.pipeline.mart import company_of_job, mart_rows
from tests.pipeline.namespace import isolated_pipeline
from tests.pipeline.spec_oracle import expected_events


@pytest.fixture(scope="module")
def pipeline(running_stack: Settings) -> Iterator[Settings]:
    with isolated_pipeline(running_stack, "nothing_new") as settings:
        yield settings


def simulated(seed: int, count: int) -> list[dict]:
    return list(itertools.islice(Simulator(seed=seed, start=datetime(2026, 11, 27, 9, 0), rate=2).events(), count))


def store(settings: Settings, events: list[dict]) -> None:
    """Write ``events`` to the raw log as a collector does (its writer registered, then unregistered)."""
    cluster = cassandra_cluster(settings)
    try:
        raw_log = RawLog(cluster.connect(), settings.cassandra_keyspace)
        raw_log.store([parse_event(encode(event)) for event in events])
        raw_log.close()
    finally:
        cluster.shutdown()
    time.sleep(settings.ingest_safety_lag + 1)


def run(settings: Settings) -> tuple[RunReport, str]:
    said: list[str] = []
    report = run_once(settings, say=said.append)
    return report, "\n".join(said)


def test_a_run_with_nothing_new_skips_dbt_after_completing_what_a_failed_run_landed(pipeline: Settings):
    first, second = simulated(61, 300), simulated(62, 200)
    store(pipeline, first)
    report, said = run(pipeline)
    assert report.events_landed == len(first) and "dbt skipped" not in said

    # What a run that failed in dbt leaves behind: its batch landed, not modelled (no successful run carried it).
    store(pipeline, second)
    assert sum(position.rows or 0 for position in ingest_job.run(pipeline)) == len(second)
    report, said = run(pipeline)
    assert report.events_landed == 0 and "dbt lakehouse" in report.step_seconds, said
    assert mart_rows(pipeline) == expected_events(first + second, company_of_job())

    report, said = run(pipeline)  # now caught up
    assert "nothing new to land: no event arrived since the last batch" in said
    assert "dbt skipped" in said
    assert not {"dbt lakehouse", "publish", "dbt warehouse"} & set(report.step_seconds)


def test_a_run_says_how_many_events_wait_to_become_capturable(pipeline: Settings):
    if read_position(landing_table_path(pipeline)) is None:  # run alone: a first run backfills the whole log
        store(pipeline, simulated(60, 50))
        run(pipeline)
    waiting = simulated(63, 100)
    # A writer of the raw log that still has a write from now in flight: nothing after it is capturable.
    cluster = cassandra_cluster(pipeline)
    try:
        session = cluster.connect()
        session.execute(
            f"INSERT INTO {pipeline.cassandra_keyspace}.raw_log_writers (writer, low_watermark, host, pid) "
            "VALUES (uuid(), %s, 'test', 0) USING TTL 600",
            (ticks_of(datetime.now(UTC)),),
        )
        store(pipeline, waiting)
        held_back = dataclasses.replace(pipeline, ingest_safety_lag=300)  # the lag alone releases nothing either
        report, said = run(held_back)
        assert report.events_landed == 0
        assert "nothing new to land: 100 event(s) that arrived in the last" in said and "dbt skipped" in said, said
        assert not {"dbt lakehouse", "dbt warehouse"} & set(report.step_seconds)
    finally:
        session.execute(f"TRUNCATE {pipeline.cassandra_keyspace}.raw_log_writers")
        cluster.shutdown()
    report, said = run(pipeline)  # the writer gone: they land
    assert report.events_landed == len(waiting), said
