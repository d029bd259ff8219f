"""The Spark ingest: land what arrived in Cassandra's raw log since the last run into the lakehouse.

    jobpulse ingest                                  # the same as:
    spark-submit ingest/spark/ingest_job.py          # (SPARK_CONF_DIR from `jobpulse stack up`)
    jobpulse ingest --check                          # exit 0 if there is something to land, 99 if not

Each batch reads the change feed partitions of the minutes its arrival window spans, with the window's
timeuuid range pushed down to Cassandra, and appends them to the landing table in one Delta commit that also
records the new position (``ingest.capture``). Delta's idempotent writes (application id + batch number)
make a batch land at most once: a rerun after a crash lands the batch that did not commit, and a second run
racing the first is refused by the run lock or, failing that, skipped by Delta. The first run, with no
position, backfills from the log itself.

Exit codes: 0 done (or nothing to land), 99 (``--check``) nothing new, 75 another run holds the lock.
"""

from __future__ import annotations

import argparse
import fcntl
import logging
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from ingest.capture import APP_ID, SHARDS, Position, Window, plan, read_position, ticks_of
from jobpulse.config import Settings, load_settings
from jobpulse.lakehouse import landing_table, landing_table_path
from jobpulse.reprocessing import DateRange

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger("jobpulse.ingest")

EXIT_NOTHING_NEW = 99  # Airflow's BashOperator marks a task skipped on this code
EXIT_BUSY = 75  # EX_TEMPFAIL: try again later
DEFAULT_MAX_SPAN = timedelta(hours=2)


class IngestBusy(RuntimeError):
    pass


@contextmanager
def run_lock(settings: Settings) -> Iterator[None]:
    """One ingest at a time on this machine: a second run is refused at once rather than queued."""
    path = settings.state_dir / "ingest.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            raise IngestBusy(f"another ingest run holds {path} ({handle.read().strip() or 'unknown pid'})") from None
        handle.truncate(0)
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        yield


def has_new_arrivals(settings: Settings, position: Position | None, now: datetime) -> bool:
    """Whether a run now would land anything, asked of Cassandra directly (no Spark)."""
    from cassandra.concurrent import execute_concurrent_with_args

    from jobpulse.clients import cassandra_cluster, keyspace

    space = keyspace(settings)
    cluster = cassandra_cluster(settings)
    try:
        session = cluster.connect()
        if position is None:
            return session.execute(f"SELECT create_time FROM {space}.tracking LIMIT 1").one() is not None
        to_ticks = ticks_of(now - timedelta(seconds=settings.ingest_safety_lag))
        if to_ticks <= position.to_ticks:
            return False
        window = Window(batch=position.batch + 1, after_ticks=position.to_ticks, to_ticks=to_ticks)
        low, high = (uuid.UUID(bound) for bound in window.arrival_id_range())
        probe = session.prepare(
            f"SELECT arrival_id FROM {space}.tracking_changes WHERE arrival_minute = ? AND shard = ? "
            "AND arrival_id >= ? AND arrival_id <= ? LIMIT 1"
        )
        keys = [(minute, shard, low, high) for minute in window.minutes() for shard in range(SHARDS)]
        for start in range(0, len(keys), 512):  # newest-first would find data sooner; any order is correct
            results = execute_concurrent_with_args(session, probe, keys[start : start + 512], concurrency=64)
            if any(success and result.one() is not None for success, result in results):
                return True
        return False
    finally:
        cluster.shutdown()


def has_new_arrivals_now(settings: Settings) -> bool:
    """``--check``: is there anything to land at this moment?"""
    return has_new_arrivals(settings, read_position(landing_table_path(settings)), datetime.now(UTC))


def commit_batch(rows: DataFrame, settings: Settings, window: Window, metadata: str) -> None:
    """Append ``rows`` to the landing table as batch ``window.batch``, in one Delta commit carrying the position
    (``metadata``); Delta skips the write if this application already committed that batch number."""
    (
        rows.write.format("delta")
        .mode("append")
        .option("txnAppId", APP_ID)
        .option("txnVersion", window.batch)
        .option("userMetadata", metadata)
        .saveAsTable(landing_table(settings))
    )


def land(spark: SparkSession, settings: Settings, window: Window) -> Position:
    """Append one window's events to the landing table in a single Delta commit that records the position."""
    from pyspark.sql import functions as F

    from ingest.spark.transforms import changes_to_landing, log_to_landing

    ingested_at = datetime.now(UTC)
    run = uuid.uuid4().hex
    from jobpulse.clients import keyspace as checked_keyspace

    keyspace = checked_keyspace(settings)
    if window.backfill:
        # The whole log. What arrives while it is read is captured again by the next batch (same event ids).
        rows = log_to_landing(spark.read.table(f"cassandra.{keyspace}.tracking"), window.batch, ingested_at)
    else:
        low, high = window.arrival_id_range()
        changes = spark.read.table(f"cassandra.{keyspace}.tracking_changes").where(
            F.col("arrival_minute").isin(window.minutes())
            & F.col("shard").isin(list(range(SHARDS)))
            & (F.col("arrival_id") >= low)  # all four predicates are pushed down to Cassandra: the range is
            & (F.col("arrival_id") <= high)  # evaluated there, in timeuuid order, never by Spark as text
        )
        rows = changes_to_landing(changes, window.batch, ingested_at).coalesce(2)
    commit_batch(rows, settings, window, window.metadata(landed_at=ingested_at.isoformat(), run=run))
    landed = read_position(landing_table_path(settings))
    if landed is None or landed.batch < window.batch:
        raise RuntimeError(f"batch {window.batch} was not committed to {landing_table(settings)}")
    if landed.run != run:
        log.warning("batch %d was landed by another run; this run's write was skipped", window.batch)
    else:
        log.info("landed batch %d: %s rows, arrivals up to %s", window.batch, landed.rows, landed.to.isoformat())
    return landed


def reland(spark: SparkSession, settings: Settings, dates: DateRange) -> Position | None:
    """A reprocess's first step: land again, as one extra batch, the raw log's events dated ``dates`` that the
    landing table lacks. The batch moves no arrival position (its window is empty), so the change capture
    carries on where it was; staging merges the events in by id like any redelivery. None if none lacked.
    (Called by ``run`` under the run lock.)"""
    from ingest.spark.transforms import log_to_landing, missing_events_on_dates
    from jobpulse.clients import keyspace as checked_keyspace

    position = read_position(landing_table_path(settings))
    if position is None:
        raise RuntimeError("nothing has been ingested yet: run the ingest (a backfill) before a reprocess")
    log_rows = spark.read.table(f"cassandra.{checked_keyspace(settings)}.tracking")
    landed_rows = spark.read.table(landing_table(settings))
    missing = missing_events_on_dates(log_rows, landed_rows, dates.first, dates.last).cache()
    try:
        if missing.isEmpty():
            log.info("reprocess %s: the landing table lacks none of the raw log's events", dates)
            return None
        window = Window(batch=position.batch + 1, after_ticks=position.to_ticks, to_ticks=position.to_ticks)
        ingested_at = datetime.now(UTC)
        run = uuid.uuid4().hex
        metadata = window.metadata(landed_at=ingested_at.isoformat(), run=run, reland=str(dates))
        commit_batch(log_to_landing(missing, window.batch, ingested_at), settings, window, metadata)
    finally:
        missing.unpersist()
    landed = read_position(landing_table_path(settings))
    if landed is None or landed.run != run:
        raise RuntimeError(f"reprocess batch {window.batch} was not committed to {landing_table(settings)}")
    log.info("reprocess %s: relanded %s events as batch %d", dates, landed.rows, landed.batch)
    return landed


def run(
    settings: Settings, max_span: timedelta = DEFAULT_MAX_SPAN, reprocess: DateRange | None = None
) -> list[Position]:
    """Land every batch due now and, for a reprocess, the events of its dates that the landing table lacks;
    returns the positions committed (empty when there was nothing to land)."""
    from jobpulse.lakehouse import spark_session

    with run_lock(settings):
        position = read_position(landing_table_path(settings))
        safety_lag = timedelta(seconds=settings.ingest_safety_lag)
        windows = plan(position, datetime.now(UTC), safety_lag=safety_lag, max_span=max_span)
        if not windows and reprocess is None:
            log.info("nothing can have arrived since the position (%s)", position.to if position else "none")
            return []
        from pyspark.sql import SparkSession

        borrowed = SparkSession.getActiveSession() is not None  # e.g. a test's session: not ours to stop
        spark = spark_session(settings, "jobpulse-ingest")
        try:
            landed = [land(spark, settings, window) for window in windows]
            if reprocess is not None and (relanded := reland(spark, settings, reprocess)) is not None:
                landed.append(relanded)
            return landed
        finally:
            if not borrowed:
                spark.stop()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true", help=f"exit 0 if there is new data, {EXIT_NOTHING_NEW} if not")
    parser.add_argument("--max-span-minutes", type=int, default=120, help="longest arrival window of one batch")


def execute(args: argparse.Namespace) -> int:
    settings = load_settings()
    if args.check:
        if has_new_arrivals_now(settings):
            print("new arrivals to land")
            return 0
        print("nothing new to land")
        return EXIT_NOTHING_NEW
    try:
        landed = run(settings, timedelta(minutes=args.max_span_minutes))
    except IngestBusy as busy:
        print(f"jobpulse ingest: {busy}; refusing to run a second one", file=sys.stderr)
        return EXIT_BUSY
    print(f"landed {len(landed)} batch(es): {sum(position.rows or 0 for position in landed)} rows")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ingest_job.py", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return execute(parser.parse_args(argv))


if __name__ == "__main__":  # spark-submit ingest/spark/ingest_job.py
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sys.exit(main())
