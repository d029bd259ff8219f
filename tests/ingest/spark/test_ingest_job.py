"""The Spark ingest against the real Cassandra and lakehouse: incremental runs, late and replayed events, the
Spark application killed between writing a batch's data and committing it, and two runs at once.

Each test gets a keyspace and a lakehouse database of its own; the ingest runs as `jobpulse ingest` in a
separate process (as the scheduler runs it), except where a test drives ``land`` directly."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psutil
import pytest

from ingest.capture import plan, read_position, ticks_of
from ingest.events import Event, parse_event
from ingest.raw_log import RawLog
from ingest.spark.ingest_job import EXIT_BUSY, EXIT_NOTHING_NEW, IngestBusy, land, run_lock
from jobpulse import stack
from jobpulse.clients import cassandra_cluster, thrift_cursor
from jobpulse.config import Settings, environment
from jobpulse.lakehouse import landing_table, landing_table_path
from jobpulse.migrations import migrate_cassandra, migrate_lakehouse
from tests.ingest.conftest import event_json

LAG = 1  # seconds: enough on one machine, where every write has returned before the ingest starts


@pytest.fixture
def lake(running_stack: Settings, spark) -> Iterator[Settings]:
    suffix = uuid.uuid4().hex[:8]
    settings = dataclasses.replace(
        running_stack,
        cassandra_keyspace=f"test_ingest_{suffix}",
        lakehouse_database=f"test_lake_{suffix}",
        ingest_safety_lag=LAG,
    )
    migrate_cassandra(settings, say=lambda message: None)
    migrate_lakehouse(settings, say=lambda message: None)
    yield settings
    with thrift_cursor(settings) as cursor:  # not the test's session: a test may restart what it depends on
        cursor.execute(f"DROP DATABASE IF EXISTS {settings.lakehouse_database} CASCADE")
    cluster = cassandra_cluster(settings)
    try:
        cluster.connect().execute(f"DROP KEYSPACE IF EXISTS {settings.cassandra_keyspace}", timeout=60)
    finally:
        cluster.shutdown()


def events(count: int, **fields: object) -> list[Event]:
    return [
        parse_event(event_json(**{"job_id": index, "custom_track": "click", "bid": 0.5, **fields}))
        for index in range(count)
    ]


def store(settings: Settings, batch: list[Event]) -> None:
    cluster = cassandra_cluster(settings)
    try:
        raw_log = RawLog(cluster.connect(), settings.cassandra_keyspace)
        for start in range(0, len(batch), 5000):
            raw_log.store(batch[start : start + 5000])
        raw_log.close()
    finally:
        cluster.shutdown()
    time.sleep(LAG + 0.2)  # let the arrivals age past the safety lag


def ingest_process(settings: Settings, *arguments: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "JOBPULSE_CASSANDRA_KEYSPACE": settings.cassandra_keyspace,
        "JOBPULSE_LAKEHOUSE_DATABASE": settings.lakehouse_database,
        "JOBPULSE_INGEST_SAFETY_LAG": str(settings.ingest_safety_lag),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "jobpulse.cli", "ingest", *arguments],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def ingest(settings: Settings, *arguments: str) -> tuple[int, str]:
    process = ingest_process(settings, *arguments)
    output, _ = process.communicate(timeout=600)
    return process.returncode, output


def landed(spark, settings: Settings) -> Counter:
    """How many times each event id was landed."""
    rows = spark.table(landing_table(settings)).select("create_time").collect()
    return Counter(row.create_time for row in rows)


def landed_through_thrift(settings: Settings) -> tuple[int, int, int]:
    """(rows, distinct event ids, most deliveries of one id) of the landing table, asked of the Thrift server."""
    with thrift_cursor(settings) as cursor:
        cursor.execute(
            "SELECT SUM(deliveries), COUNT(*), MAX(deliveries) FROM (SELECT create_time, COUNT(*) AS deliveries "
            f"FROM {landing_table(settings)} GROUP BY create_time)"
        )
        rows, distinct, most = cursor.fetchone()
    return int(rows), int(distinct), int(most)


def ids(batch: list[Event]) -> set[str]:
    return {str(event.create_time) for event in batch}


def test_incremental_runs_land_what_arrived_and_nothing_else(lake: Settings, spark):
    first = events(300)
    store(lake, first)
    assert ingest(lake, "--check")[0] == 0
    code, output = ingest(lake)
    assert code == 0, output
    position = read_position(landing_table_path(lake))
    assert position is not None and position.batch == 1 and position.rows == 300  # a backfill of the log
    assert ingest(lake, "--check")[0] == EXIT_NOTHING_NEW

    second = events(200, custom_track="conversion")
    store(lake, second)
    assert ingest(lake, "--check")[0] == 0
    assert ingest(lake)[0] == 0
    position = read_position(landing_table_path(lake))
    assert position is not None and position.batch == 2 and position.rows == 200  # read from the change feed
    counts = landed(spark, lake)
    assert set(counts) == ids(first) | ids(second) and set(counts.values()) == {1}

    batches = spark.table(landing_table(lake)).groupBy("ingest_batch").count().collect()
    assert sorted((row.ingest_batch, row["count"]) for row in batches) == [(1, 300), (2, 200)]

    assert ingest(lake)[0] == 0  # nothing new: nothing landed
    assert sum(landed(spark, lake).values()) == 500


def test_late_replayed_and_redelivered_events_are_landed(lake: Settings, spark):
    store(lake, events(10))
    assert ingest(lake)[0] == 0

    years_ago = datetime(2023, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp()
    replayed = [  # an old log file: event ids and times from years ago
        parse_event(event_json(create_time=_old_uuid(years_ago + index), job_id=index, ts="2023-01-02 03:04:05"))
        for index in range(50)
    ]
    late = events(20, ts=(datetime.now() - timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S"))
    store(lake, replayed + late)
    assert ingest(lake)[0] == 0
    counts = landed(spark, lake)
    assert ids(replayed) | ids(late) <= set(counts)
    assert all(counts[event_id] == 1 for event_id in ids(replayed) | ids(late))

    # A redelivery of an event already landed is landed again, with its id: the staging model keeps one.
    again = late[:5]
    store(lake, again)
    assert ingest(lake)[0] == 0
    counts = landed(spark, lake)
    assert [counts[event_id] for event_id in ids(again)] == [2] * 5
    assert sum(counts.values()) == 10 + 50 + 20 + 5


def _old_uuid(seconds: float) -> str:
    from cassandra.util import uuid_from_time

    return str(uuid_from_time(seconds))


@pytest.mark.stack_lifecycle  # it kills the Thrift server: run after every other test
def test_a_landing_cut_by_the_spark_application_dying_is_redone_exactly_once(lake: Settings):
    store(lake, events(10))
    assert ingest(lake)[0] == 0
    table = landing_table_path(lake)
    log_before = sorted((table / "_delta_log").glob("*.json"))
    files_before = set(table.rglob("*.parquet"))

    bulk = events(150_000)
    store(lake, bulk)
    thrift = stack.service(lake, "spark-thrift").process
    process = ingest_process(lake)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and process.poll() is None:
            if set(table.rglob("*.parquet")) - files_before:
                break
            time.sleep(0.02)
        os.kill(thrift.pid, signal.SIGKILL)  # the long-running application the landing runs in
        output, _ = process.communicate(timeout=60)
        assert process.returncode not in (0, None), output  # the run fails visibly
        orphans = set(table.rglob("*.parquet")) - files_before
        assert orphans, "the application must be killed after it wrote data files"
        assert sorted((table / "_delta_log").glob("*.json")) == log_before, "and before it committed them"
        assert read_position(table).batch == 1
    finally:
        stack.up(lake, say=lambda message: None)

    assert ingest(lake)[0] == 0
    assert landed_through_thrift(lake) == (150_010, 150_010, 1)
    assert read_position(table).batch == 2


@pytest.mark.stack_lifecycle  # it kills Cassandra: run after every other test
def test_the_spark_application_reads_cassandra_again_after_a_query_met_its_outage(lake: Settings):
    """A query that met Cassandra down used to leave the Java driver's schema refresh jammed in the Spark
    application (scylladb/java-driver#841: a failed refresh is never cleared): every later read of Cassandra,
    the ingest's included, waited forever until the Thrift server was restarted. The connector's sessions now
    replace themselves after a failed refresh, and look for one before the catalog reads their metadata
    (ingest/spark/jvm)."""
    from pyhive.exc import OperationalError

    store(lake, events(10))
    assert ingest(lake)[0] == 0
    store(lake, events(20))
    cassandra = psutil.Process(stack.service(lake, "cassandra").process.pid)
    try:
        cassandra.kill()
        cassandra.wait(timeout=60)
        with thrift_cursor(lake) as cursor, pytest.raises(OperationalError):
            cursor.execute(f"SELECT COUNT(*) FROM cassandra.{lake.cassandra_keyspace}.tracking_changes")
    finally:
        stack.up(lake, say=lambda message: None)

    # The catalog looks tables up in the session's schema without refreshing it, so a session jammed since the
    # outage never saw a table made after it (found by the soak: a new namespace's raw log).
    made_after = "made_after_the_outage"
    cluster = cassandra_cluster(lake)
    try:
        cluster.connect().execute(f"CREATE TABLE {lake.cassandra_keyspace}.{made_after} (id text PRIMARY KEY)")
    finally:
        cluster.shutdown()
    assert found_through_thrift(lake, f"cassandra.{lake.cassandra_keyspace}.{made_after}", within=60)

    process = ingest_process(lake)
    try:
        output, _ = process.communicate(timeout=240)  # a landing of 20 events: seconds, when nothing hangs
    finally:
        process.kill()
    assert process.returncode == 0, output
    assert landed_through_thrift(lake) == (30, 30, 1)


def found_through_thrift(settings: Settings, table: str, within: float) -> bool:
    """Whether the Thrift server reads ``table`` within ``within`` seconds of asking."""
    from pyhive.exc import OperationalError

    deadline = time.monotonic() + within
    while True:
        try:
            with thrift_cursor(settings) as cursor:
                cursor.execute(f"SELECT COUNT(*) FROM {table}")
                return cursor.fetchall() == [(0,)]
        except OperationalError as error:
            if "TABLE_OR_VIEW_NOT_FOUND" not in str(error) or time.monotonic() > deadline:
                raise
        time.sleep(2)


def test_two_runs_started_at_once_never_both_land(lake: Settings, spark):
    store(lake, events(10))
    assert ingest(lake)[0] == 0
    batch = events(20_000)
    store(lake, batch)

    first, second = ingest_process(lake), ingest_process(lake)
    outputs = [process.communicate(timeout=600)[0] for process in (first, second)]
    codes = sorted(process.returncode for process in (first, second))
    assert codes in ([0, 0], [0, EXIT_BUSY]), outputs
    if codes == [0, EXIT_BUSY]:
        assert any("refusing" in output for output in outputs)
    counts = landed(spark, lake)
    assert len(counts) == 20_010 and set(counts.values()) == {1}


def test_the_run_lock_holds_off_only_the_same_pipeline_and_goes_with_its_holder(running_stack: Settings):
    mine = dataclasses.replace(running_stack, lakehouse_database=f"test_lock_{uuid.uuid4().hex[:8]}")
    other = dataclasses.replace(mine, lakehouse_database=f"{mine.lakehouse_database}_other")
    with run_lock(mine):
        with pytest.raises(IngestBusy, match="another ingest run holds"), run_lock(mine):
            pass
        with run_lock(other):  # another pipeline on the same stack ingests meanwhile
            pass

    # held by another process (as on another worker), which is then killed: the lock goes with it
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom ingest.spark.ingest_job import run_lock\n"
         "from jobpulse.config import load_settings\nwith run_lock(load_settings()):\n"
         "    print('held', flush=True)\n    time.sleep(600)"],
        env={**os.environ, **environment(mine)}, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(IngestBusy), run_lock(mine):
            pass
    finally:
        holder.kill()
        holder.wait()
    with run_lock(mine):
        pass


def test_a_batch_commits_at_most_once_even_when_two_writers_race_past_the_lock(lake: Settings, spark):
    store(lake, events(10))
    assert ingest(lake)[0] == 0
    store(lake, events(100))
    position = read_position(landing_table_path(lake))
    [window] = plan(position, ticks_of(datetime.now(UTC) - timedelta(seconds=LAG)), max_span=timedelta(hours=2))

    with thrift_cursor(lake) as first, thrift_cursor(lake) as second:
        kept = land(first, lake, window)
        again = land(second, lake, window)  # the same batch number: Delta's idempotent write skips it

    assert again == kept and kept.batch == window.batch
    assert sum(landed(spark, lake).values()) == 110


class HeldSession:
    """The raw log's session, except that a write reaches Cassandra only ``delay`` seconds after it is sent:
    a write stuck in flight (a slow network, a long pause), as the ingest must expect one."""

    def __init__(self, session, delay: float) -> None:
        self._session, self._delay = session, delay

    def __getattr__(self, name: str):
        return getattr(self._session, name)

    def execute_async(self, request):
        session, delay = self._session, self._delay

        class Held:
            def add_callbacks(self, callback, errback) -> None:
                send = lambda: session.execute_async(request).add_callbacks(callback, errback)  # noqa: E731
                threading.Timer(delay, send).start()

        return Held()


def test_the_capture_waits_for_a_write_in_flight_however_young_the_fixed_lag_allows(lake: Settings, spark):
    """With a fixed lag far longer than the test, only the writers' low watermarks let the ingest capture: it
    must capture what a fast writer stored, but never past an older arrival another writer still has in
    flight (that arrival would land behind the position and never be captured)."""
    patient = dataclasses.replace(lake, ingest_safety_lag=600)
    store(lake, events(10))
    assert ingest(patient)[0] == 0  # no writer registered: the backfill reaches the clock

    in_flight, after_it = events(50, ts="2026-11-27 10:00:00"), events(40, ts="2026-11-27 11:00:00")
    cluster = cassandra_cluster(lake)
    try:
        session = cluster.connect()
        slow = RawLog(HeldSession(session, 15.0), lake.cassandra_keyspace)
        fast = RawLog(session, lake.cassandra_keyspace)
        held = slow.start_store(in_flight)  # stamped now, in Cassandra 15 s later
        fast.store(after_it)  # stamped after it, stored at once
        fast.heartbeat()
        assert ingest(patient)[0] == 0
        assert ids(after_it).isdisjoint(landed(spark, lake)), "captured past an arrival still in flight"
        held.wait(60)
        slow.close()
        fast.close()
    finally:
        cluster.shutdown()
    assert ingest(patient)[0] == 0
    counts = landed(spark, lake)
    assert all(counts[event_id] == 1 for event_id in ids(in_flight) | ids(after_it))
    assert sum(counts.values()) == 100
