"""Recovery of the ingest position, end to end: a position older than the change feed keeps arrivals, and a
landing table emptied under models that already hold its batches. Either way the ingest refuses to run,
lands nothing, and says to resync; after `jobpulse ingest --resync` the next run counts every event of the raw
log exactly once."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from ingest.capture import SHARDS, read_position, ticks_of, timeuuid_bound
from ingest.events import parse_event
from ingest.raw_log import RawLog
from ingest.simulator import Simulator, encode
from ingest.spark import ingest_job
from jobpulse.clients import cassandra_cluster
from jobpulse.config import Settings
from jobpulse.lakehouse import landing_table, landing_table_path
from jobpulse.migrations import discover
from jobpulse.pipeline import run_once
from tests.pipeline.mart import company_of_job, mart_rows
from tests.pipeline.namespace import isolated_pipeline
from tests.pipeline.spec_oracle import expected_events


@pytest.fixture(scope="module")
def pipeline(running_stack: Settings) -> Iterator[Settings]:
    with isolated_pipeline(running_stack, "recovery") as settings:
        yield settings


def store(settings: Settings, events: list[dict], *, expire_from_the_change_feed: bool = False) -> None:
    """Write ``events`` to the raw log as the collector does; optionally drop their change-feed rows, as the
    feed's 14-day TTL would have."""
    cluster = cassandra_cluster(settings)
    try:
        session = cluster.connect()
        began = datetime.now(UTC)
        RawLog(session, settings.cassandra_keyspace).store([parse_event(encode(event)) for event in events])
        ended = datetime.now(UTC)
        if expire_from_the_change_feed:
            low, high = timeuuid_bound(ticks_of(began), upper=False), timeuuid_bound(ticks_of(ended), upper=True)
            minutes = {began.replace(second=0, microsecond=0), ended.replace(second=0, microsecond=0)}
            for minute, shard in itertools.product(minutes, range(SHARDS)):
                session.execute(
                    f"DELETE FROM {settings.cassandra_keyspace}.tracking_changes WHERE arrival_minute = %s "
                    f"AND shard = %s AND arrival_id >= {low} AND arrival_id <= {high}",
                    (minute, shard),
                )
    finally:
        cluster.shutdown()
    time.sleep(settings.ingest_safety_lag + 1)  # capturable once older than the safety lag


def simulated(seed: int, count: int) -> list[dict]:
    return list(itertools.islice(Simulator(seed=seed, start=datetime(2026, 11, 27, 22, 0), rate=2).events(), count))


def test_an_expired_position_and_an_emptied_landing_table_are_refused_and_resynced(pipeline: Settings):
    before_the_gap, during_the_gap, after_the_rebuild = simulated(51, 1500), simulated(52, 1000), simulated(53, 500)
    store(pipeline, before_the_gap)
    run_once(pipeline, say=lambda message: None)
    assert mart_rows(pipeline) == expected_events(before_the_gap, company_of_job())

    # Two weeks of arrivals the change feed no longer has: only the log holds them.
    store(pipeline, during_the_gap, expire_from_the_change_feed=True)
    position = read_position(landing_table_path(pipeline))
    fifteen_days_later = position.to + timedelta(days=15)
    with pytest.raises(ingest_job.ResyncNeeded, match="jobpulse ingest --resync"):
        ingest_job.run(pipeline, now=fifteen_days_later)
    assert read_position(landing_table_path(pipeline)) == position, "nothing may be landed"

    first_resync = ingest_job.resync(pipeline)
    assert (first_resync.batch, first_resync.rows) == (position.batch + 1, len(during_the_gap))
    run_once(pipeline, say=lambda message: None)
    assert mart_rows(pipeline) == expected_events(before_the_gap + during_the_gap, company_of_job())

    # The landing table made anew (the old recovery): a backfill would number its batch 1, behind every model.
    from pyhive import hive

    cursor = hive.connect(host=pipeline.spark_thrift_host, port=pipeline.spark_thrift_port).cursor()
    cursor.execute(f"DROP TABLE {landing_table(pipeline)}")
    cursor.execute(f"USE {pipeline.lakehouse_database}")
    for statement in discover("lakehouse")[0].statements():
        cursor.execute(statement)
    store(pipeline, after_the_rebuild)
    with pytest.raises(ingest_job.ResyncNeeded, match="made anew"):
        ingest_job.run(pipeline)
    assert read_position(landing_table_path(pipeline)) is None

    second_resync = ingest_job.resync(pipeline)
    assert second_resync.batch == first_resync.batch + 1  # after every batch the models hold
    run_once(pipeline, say=lambda message: None)
    everything = before_the_gap + during_the_gap + after_the_rebuild
    assert mart_rows(pipeline) == expected_events(everything, company_of_job())
