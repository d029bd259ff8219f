"""The Spark ingest: backfill rate, incremental cost against the size of the log, and the seed algorithm.

All on the same simulated events, in a keyspace and lakehouse database of the benchmark's own:

- incremental: the time to land 50,000 new events when the log holds 0.5 million events, then 2 million
  (target: ratio <= 1.2, the cost follows the new data, not the history);
- backfill: events/s landed from the 2-million-event log, beside the fastest plain full scan of that table
  (every column read, nothing written: Spark's `noop` sink), the ceiling;
- the seed algorithm, as the original project does it: read the whole log and keep `ts >= watermark`, on
  the same data, for the same 50,000 new events.

The ingest runs in the Thrift server's Spark application; the seed algorithm and the ceiling scan run in a
Spark session of the benchmark's own, configured the same way (local[2]). `ingest_run_seconds` is what a
scheduled run pays in all (the `jobpulse ingest` process included), measured once.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bench import results
from ingest.events import Event
from jobpulse.config import Settings, environment, load_settings
from jobpulse.namespace import drop, named

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

NAMESPACE = "bench_ingest"  # dropped at the end (jobpulse.namespace)
NEW_EVENTS = 50_000


def events_from(simulator: Iterator[dict[str, Any]], count: int) -> Iterator[Event]:
    from ingest.events import parse_event
    from ingest.simulator import encode

    return (parse_event(encode(event)) for event in itertools.islice(simulator, count))


_stored: Any = None  # in a store_history worker: the events all its workers have stored (a shared counter)


def _share_stored(counter: Any) -> None:
    global _stored
    _stored = counter


def store(settings: Settings, events: Iterator[Event], count: int, *, change_feed: bool = True) -> None:
    """Write ``count`` events to the raw log (without its change feed: see RawLog.store); returns when they are
    past the safety lag."""
    from ingest.raw_log import RawLog
    from jobpulse.clients import cassandra_cluster
    from jobpulse.progress import Progress

    cluster = cassandra_cluster(settings)
    # a store_history worker's progress is its parent's to show
    shown = Progress(
        f"storing events in {settings.cassandra_keyspace}", total=count, unit="ev", enabled=_stored is None
    )
    try:
        raw_log = RawLog(cluster.connect(), settings.cassandra_keyspace)
        # a store call must have sent all its writes within MAX_SEND_DELAY of its arrival stamp: 5,000 events
        # take about a second on one node, and a few on the cluster topology's three replicas on one machine
        for start in range(0, count, 5_000):
            chunk = list(itertools.islice(events, min(5_000, count - start)))
            raw_log.store(chunk, change_feed=change_feed)
            shown.update(len(chunk))
            if _stored is not None:
                with _stored.get_lock():
                    _stored.value += len(chunk)
        raw_log.close()
    finally:
        shown.close()
        cluster.shutdown()
    time.sleep(settings.ingest_safety_lag + 0.5)


def _store_slice(settings: Settings, seed: int, start: datetime, rate: float, count: int, change_feed: bool) -> None:
    from ingest.simulator import Simulator

    events = events_from(Simulator(seed=seed, start=start, rate=rate).events(), count)
    store(settings, events, count, change_feed=change_feed)


def store_history(
    settings: Settings, *, start: datetime, rate: float, count: int, seed: int, workers: int = 2,
    change_feed: bool = False,
) -> datetime:  # fmt: skip
    """Write ``count`` simulated events, ``rate`` events/s from ``start`` (event time runs to the moment returned),
    to the raw log: ``workers`` processes in parallel, each a consecutive slice of the event time with a seed of
    its own. History goes to `tracking` alone by default, for a backfill to land: half of Cassandra's work (which
    bounds the rate here, about 4,500 events/s with the change feed)."""
    import multiprocessing

    share = -(-count // workers)
    slices = [(seed + worker, start + timedelta(seconds=worker * share / rate), rate,
               min(share, count - worker * share), change_feed) for worker in range(workers)]  # fmt: skip
    from jobpulse.progress import Progress

    context = multiprocessing.get_context("spawn")
    stored = context.Value("q", 0)
    what = f"storing {count:,} events of history in {settings.cassandra_keyspace} ({workers} workers)"
    with (
        context.Pool(workers, initializer=_share_stored, initargs=(stored,)) as pool,
        Progress(what, total=count, unit="ev") as progress,
    ):
        done = pool.starmap_async(_store_slice, [(settings, *part) for part in slices if part[3] > 0])
        while not done.ready():
            done.wait(1.0)
            progress.update(stored.value - progress.done)
        done.get()  # a worker's error
    return start + timedelta(seconds=count / rate)


def fresh(settings: Settings, spark: SparkSession) -> None:
    from jobpulse.clients import cassandra_cluster
    from jobpulse.migrations import migrate_cassandra, migrate_lakehouse

    spark.sql(f"DROP DATABASE IF EXISTS {settings.lakehouse_database} CASCADE")
    cluster = cassandra_cluster(settings)
    try:
        cluster.connect().execute(f"DROP KEYSPACE IF EXISTS {settings.cassandra_keyspace}", timeout=120)
    finally:
        cluster.shutdown()
    migrate_cassandra(settings, say=lambda message: None)
    migrate_lakehouse(settings, say=lambda message: None)


def land_due(settings: Settings) -> tuple[float, int]:
    """Land every batch due now through the Thrift server; (seconds, rows)."""
    from ingest.capture import plan, read_position
    from ingest.spark.ingest_job import capture_until, land
    from jobpulse.clients import thrift_cursor
    from jobpulse.lakehouse import landing_table_path

    began = time.perf_counter()
    windows = plan(
        read_position(landing_table_path(settings)),
        capture_until(settings, datetime.now(UTC)),
        max_span=timedelta(hours=2),
    )
    with thrift_cursor(settings) as cursor:
        rows = sum(land(cursor, settings, window).rows or 0 for window in windows)
    return time.perf_counter() - began, rows


def timed(action: Callable[[], object]) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=500_000)
    parser.add_argument("--large", type=int, default=2_000_000)
    results.add_arguments(parser)
    args = parser.parse_args()

    settings = dataclasses.replace(named(load_settings(), NAMESPACE), ingest_safety_lag=1)
    try:
        measured = measure(settings, args.small, args.large)
    finally:
        drop(settings)
    results.write("ingest", measured, record=args.write)


def measure(settings: Settings, small: int, large: int) -> dict[str, Any]:
    """Landing on a log of ``small``, then ``large`` events; the seed's watermark pass; a backfill; a run."""
    from pyspark.sql import functions as F

    from ingest.capture import Window, ticks_of
    from ingest.simulator import Simulator
    from ingest.spark.ingest_job import land
    from jobpulse.clients import thrift_cursor
    from jobpulse.lakehouse import spark_session

    spark = spark_session(settings, "jobpulse-bench-ingest")
    fresh(settings, spark)
    simulator = Simulator(seed=11, start=datetime(2026, 11, 1), rate=1000).events()
    history = events_from(simulator, large + 2 * NEW_EVENTS)

    store(settings, history, small)
    land_due(settings)  # the first run: a backfill of the 0.5M events
    store(settings, history, NEW_EVENTS)
    incremental_small, rows_small = land_due(settings)

    store(settings, history, large - small - NEW_EVENTS)
    land_due(settings)
    watermark = (
        spark.table(f"{settings.lakehouse_database}.tracking").agg(F.max("ts")).first()[0]
    )  # the seed's watermark
    store(settings, history, NEW_EVENTS)
    incremental_large, rows_large = land_due(settings)

    log = spark.read.table(f"cassandra.{settings.cassandra_keyspace}.tracking")
    seed_rows = log.where(F.col("ts") >= watermark).count()
    seed_seconds = timed(lambda: log.where(F.col("ts") >= watermark).write.format("noop").mode("overwrite").save())
    log_rows = log.count()
    scan_seconds = timed(lambda: log.write.format("noop").mode("overwrite").save())

    spark.sql(f"DROP DATABASE IF EXISTS {settings.lakehouse_database} CASCADE")
    from jobpulse.migrations import migrate_lakehouse

    migrate_lakehouse(settings, say=lambda message: None)
    backfill = Window(batch=1, after_ticks=None, to_ticks=ticks_of(datetime.now(UTC)))
    with thrift_cursor(settings) as cursor:
        backfill_seconds = timed(lambda: land(cursor, settings, backfill))
    spark.stop()

    store(settings, events_from(simulator, 1000), 1000)
    env = {**os.environ, **environment(settings)}
    run_seconds = timed(lambda: subprocess.run([sys.executable, "-m", "jobpulse.cli", "ingest"], env=env, check=True))

    return {
        "log_events": {"small": small + NEW_EVENTS, "large": log_rows},
        "incremental": {
            "new_events": NEW_EVENTS,
            "seconds_on_small_log": round(incremental_small, 2),
            "seconds_on_large_log": round(incremental_large, 2),
            "rows_landed": [rows_small, rows_large],
            "ratio_large_to_small": round(incremental_large / incremental_small, 3),
            "target_ratio": 1.2,
            "seed_algorithm_seconds_on_large_log": round(seed_seconds, 2),
            "seed_algorithm_rows_selected": seed_rows,
        },
        "backfill": {
            "events": log_rows,
            "seconds": round(backfill_seconds, 2),
            "events_per_s": round(log_rows / backfill_seconds),
            "ceiling_full_scan_seconds": round(scan_seconds, 2),
            "ceiling_full_scan_events_per_s": round(log_rows / scan_seconds),
            "share_of_ceiling": round(scan_seconds / backfill_seconds, 3),
        },
        "ingest_run_seconds_for_1000_new_events": round(run_seconds, 2),
    }


if __name__ == "__main__":
    main()
