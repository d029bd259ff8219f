"""The Spark ingest: land what arrived in Cassandra's raw log since the last run into the lakehouse.

    jobpulse ingest                                  # land what is due
    jobpulse ingest --check                          # exit 0 if there is something to land, 99 if not
    jobpulse ingest --resync                         # recovery: land what the landing table lacks, move on

The work runs as Spark SQL in the long-running Spark application, the Thrift server dbt uses too: a run
starts no JVM of its own (that cost a scheduled run 15-25 s of its 20-25). This process plans the batches
from the Delta log, sends one statement per batch and checks the commit.

Each batch reads the change feed partitions of the minutes its arrival window spans, with the window's
timeuuid range pushed down to Cassandra, and appends them to the landing table in one Delta commit that also
records the new position (``ingest.capture``). Delta's idempotent writes (application id + batch number)
make a batch land at most once: a rerun after a crash (of this process or of the Spark application) lands
the batch that did not commit, and a second run racing the first is refused by the run lock or, failing
that, skipped by Delta. The first run, with no position, backfills from the log itself.

The change feed keeps an arrival 14 days: a position older than that (an ingest stopped for two weeks) may
stand before arrivals already gone, so the ingest refuses to run from it and lands nothing. The recovery,
``--resync``, lands every event of the raw log the landing table lacks (a full scan of the log) as the next
batch and moves the position to now; batch numbers carry on, so every model takes the events in as usual.
A landing table found empty while the models hold batches (it was emptied or made anew) is refused the same
way, since a backfill numbered from 1 would fall behind every model's watermark.

Exit codes: 0 done (or nothing to land), 99 (``--check``) nothing new, 75 another run holds the lock, 1 the
position cannot be trusted (the message says how to recover).
"""

from __future__ import annotations

import argparse
import logging
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from ingest.capture import (
    APP_ID,
    CHANGE_FEED_TTL,
    SHARDS,
    TICKS_PER_SECOND,
    Position,
    Window,
    capture_bound,
    plan,
    read_position,
    ticks_of,
)
from jobpulse.clients import thrift_cursor
from jobpulse.config import Settings, load_settings
from jobpulse.lakehouse import BATCH_WATERMARKS, landing_table, landing_table_path
from jobpulse.reprocessing import DateRange

if TYPE_CHECKING:
    from cassandra.cluster import Session
    from pyhive.hive import Cursor

log = logging.getLogger("jobpulse.ingest")

EXIT_NOTHING_NEW = 99  # Airflow's BashOperator marks a task skipped on this code
EXIT_BUSY = 75  # EX_TEMPFAIL: try again later
DEFAULT_MAX_SPAN = timedelta(hours=2)


class IngestBusy(RuntimeError):
    pass


class ResyncNeeded(RuntimeError):
    """The position cannot be trusted to capture everything: nothing was landed; ``--resync`` recovers."""

    RECOVERY = (
        "Nothing was landed. Recover with `jobpulse ingest --resync`: it lands every event of the raw log that "
        "the landing table lacks (a full scan of the log) and moves the position to now; the models then take "
        "the events in as usual."
    )


@contextmanager
def run_lock(settings: Settings) -> Iterator[None]:
    """One ingest of a pipeline at a time, on whichever machine it runs: a named lock in the serving database,
    which every worker reaches, held by this run's own connection (a run that dies releases it with the
    connection). A second run is refused at once rather than queued."""
    from jobpulse.clients import mysql_connect

    name = f"jobpulse_ingest.{settings.lakehouse_database}"
    connection = mysql_connect(settings)
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT GET_LOCK(%s, 0)", (name,))
        if cursor.fetchone()[0] != 1:
            cursor.execute("SELECT IS_USED_LOCK(%s)", (name,))
            raise IngestBusy(f"another ingest run holds the lock {name} (MySQL connection {cursor.fetchone()[0]})")
        yield
    finally:
        connection.close()


def capture_until(settings: Settings, now: datetime, session: Session | None = None) -> int:
    """The arrival tick a batch may cover up to now (``ingest.capture.capture_bound``), from the low watermarks
    the raw log's writers publish."""
    from jobpulse.clients import cassandra_cluster, keyspace

    cluster = None
    if session is None:
        cluster = cassandra_cluster(settings)
        session = cluster.connect()
    try:
        rows = session.execute(f"SELECT low_watermark FROM {keyspace(settings)}.raw_log_writers")
        marks = [row.low_watermark for row in rows if row.low_watermark is not None]
    finally:
        if cluster is not None:
            cluster.shutdown()
    return capture_bound(now, timedelta(seconds=settings.ingest_safety_lag), marks)


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
        to_ticks = capture_until(settings, now, session)
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


def arrivals_held_back(settings: Settings, now: datetime) -> tuple[int, float]:
    """The arrivals no batch may cover yet (newer than ``capture_until``: a writer still has older writes in
    flight, or they are within the safety lag), and how many seconds the capture trails ``now``: what a run
    that lands nothing is waiting for."""
    from cassandra.concurrent import execute_concurrent_with_args

    from jobpulse.clients import cassandra_cluster, keyspace

    space = keyspace(settings)
    cluster = cassandra_cluster(settings)
    try:
        session = cluster.connect()
        bound, now_ticks = capture_until(settings, now, session), ticks_of(now)
        if bound >= now_ticks:
            return 0, 0.0
        window = Window(batch=0, after_ticks=bound, to_ticks=now_ticks)
        low, high = (uuid.UUID(limit) for limit in window.arrival_id_range())
        count = session.prepare(
            f"SELECT COUNT(*) FROM {space}.tracking_changes WHERE arrival_minute = ? AND shard = ? "
            "AND arrival_id >= ? AND arrival_id <= ?"
        )
        keys = [(minute, shard, low, high) for minute in window.minutes() for shard in range(SHARDS)]
        results = execute_concurrent_with_args(session, count, keys, concurrency=64, raise_on_first_error=True)
        return sum(result.one()[0] for _, result in results), (now_ticks - bound) / TICKS_PER_SECOND
    finally:
        cluster.shutdown()


def has_new_arrivals_now(settings: Settings) -> bool:
    """``--check``: is there anything to land at this moment?"""
    return has_new_arrivals(settings, read_position(landing_table_path(settings)), datetime.now(UTC))


IDEMPOTENT_WRITE = (  # Delta's session settings for an idempotent write (and the commit's userMetadata)
    "spark.databricks.delta.write.txnAppId",
    "spark.databricks.delta.write.txnVersion",
    "spark.databricks.delta.commitInfo.userMetadata",
)


def commit_batch(cursor: Cursor, settings: Settings, window: Window, rows: str, metadata: str) -> None:
    """Append the rows of the query ``rows`` to the landing table as batch ``window.batch``, in one Delta commit
    carrying the position (``metadata``); Delta skips the write if this application already committed that
    batch number."""
    for key, value in zip(IDEMPOTENT_WRITE, (APP_ID, window.batch, metadata), strict=True):
        cursor.execute(f"SET {key}={value}")
    try:
        cursor.execute(f"INSERT INTO {landing_table(settings)} {rows}")
    finally:  # the session's next write is not this batch
        for key in IDEMPOTENT_WRITE:
            cursor.execute(f"RESET {key}")


def land(cursor: Cursor, settings: Settings, window: Window) -> Position:
    """Append one window's events to the landing table in a single Delta commit that records the position."""
    from ingest.spark.transforms import changes_to_landing, log_to_landing
    from jobpulse.clients import keyspace

    ingested_at = datetime.now(UTC)
    run = uuid.uuid4().hex
    if window.backfill:
        # The whole log. What arrives while it is read is captured again by the next batch (same event ids).
        rows = log_to_landing(f"cassandra.{keyspace(settings)}.tracking", window.batch, ingested_at)
    else:
        rows = changes_to_landing(f"cassandra.{keyspace(settings)}.tracking_changes", window, ingested_at)
    commit_batch(cursor, settings, window, rows, window.metadata(landed_at=ingested_at.isoformat(), run=run))
    landed = read_position(landing_table_path(settings))
    if landed is None or landed.batch < window.batch:
        raise RuntimeError(f"batch {window.batch} was not committed to {landing_table(settings)}")
    if landed.run != run:
        log.warning("batch %d was landed by another run; this run's write was skipped", window.batch)
    else:
        log.info("landed batch %d: %s rows, arrivals up to %s", window.batch, landed.rows, landed.to.isoformat())
    return landed


def land_showing_progress(cursor: Cursor, settings: Settings, window: Window, number: int, batches: int) -> Position:
    """``land``, saying which batch is being landed and for how long: a backfill is one statement of minutes."""
    from jobpulse.progress import Progress

    what = "a backfill of the whole raw log" if window.backfill else f"arrivals up to {window.to:%H:%M:%S} UTC"
    with Progress(f"landing batch {window.batch}, {number} of {batches} ({what})", counted=False, heartbeat=True):
        return land(cursor, settings, window)


MISSING = "jobpulse_ingest_missing"  # the session's cached view of the events a resync or a reprocess lands


def land_missing(cursor: Cursor, settings: Settings, window: Window, dates: DateRange | None = None) -> Position | None:
    """Land, as batch ``window.batch``, the raw log's events the landing table lacks (only those dated
    ``dates`` if given); the commit records ``window``'s position. None, and no commit, when none lack and the
    window does not move the position."""
    from ingest.spark.transforms import log_to_landing, missing_events
    from jobpulse.clients import keyspace

    first, last = (dates.first, dates.last) if dates is not None else (None, None)
    missing = missing_events(f"cassandra.{keyspace(settings)}.tracking", landing_table(settings), first, last)
    cursor.execute(f"CACHE TABLE {MISSING} AS {missing}")  # read the log once, for the count and the write
    try:
        cursor.execute(f"SELECT COUNT(*) FROM {MISSING}")
        (count,) = cursor.fetchone()
        if count == 0 and window.after_ticks == window.to_ticks:
            return None
        ingested_at = datetime.now(UTC)
        run = uuid.uuid4().hex
        kind = {"reland": str(dates)} if dates is not None else {"resync": True}
        metadata = window.metadata(landed_at=ingested_at.isoformat(), run=run, **kind)
        commit_batch(cursor, settings, window, log_to_landing(MISSING, window.batch, ingested_at), metadata)
    finally:
        cursor.execute(f"UNCACHE TABLE IF EXISTS {MISSING}")
        cursor.execute(f"DROP VIEW IF EXISTS {MISSING}")
    landed = read_position(landing_table_path(settings))
    if landed is None or landed.run != run:
        raise RuntimeError(f"batch {window.batch} was not committed to {landing_table(settings)}")
    return landed


def reland(cursor: Cursor, settings: Settings, dates: DateRange) -> Position | None:
    """A reprocess's first step: land again, as one extra batch, the raw log's events dated ``dates`` that the
    landing table lacks. The batch moves no arrival position (its window is empty), so the change capture
    carries on where it was; staging merges the events in by id like any redelivery. None if none lacked.
    (Called by ``run`` under the run lock.)"""
    position = read_position(landing_table_path(settings))
    if position is None:
        raise RuntimeError("nothing has been ingested yet: run the ingest (a backfill) before a reprocess")
    window = Window(batch=position.batch + 1, after_ticks=position.to_ticks, to_ticks=position.to_ticks)
    landed = land_missing(cursor, settings, window, dates)
    if landed is None:
        log.info("reprocess %s: the landing table lacks none of the raw log's events", dates)
    else:
        log.info("reprocess %s: relanded %s events as batch %d", dates, landed.rows, landed.batch)
    return landed


def highest_modelled_batch(cursor: Cursor, settings: Settings) -> int:
    """The highest landing batch any lakehouse model holds (0 if none): where they all resume after."""
    from jobpulse.migrations import _identifier

    highest = 0
    schema = _identifier(settings.dbt_lakehouse_schema)
    cursor.execute(f"SHOW DATABASES LIKE '{schema}'")
    if not cursor.fetchall():
        return 0
    for model, column in BATCH_WATERMARKS:
        cursor.execute(f"SHOW TABLES IN {schema} LIKE '{model}'")
        if cursor.fetchall():
            cursor.execute(f"SELECT MAX({column}) FROM {schema}.{model}")
            highest = max(highest, cursor.fetchone()[0] or 0)
    return highest


def resync(settings: Settings, now: datetime | None = None) -> Position:
    """The recovery of a position the change feed no longer covers (or of a landing table made anew): land
    every raw-log event the landing table lacks as the batch after the highest any table holds, and move the
    position to now less the safety lag. What arrives during the scan is captured again by the next run."""
    with run_lock(settings), thrift_cursor(settings) as cursor:
        position = read_position(landing_table_path(settings))
        to_ticks = capture_until(settings, now or datetime.now(UTC))
        batch = max(position.batch if position else 0, highest_modelled_batch(cursor, settings)) + 1
        window = Window(batch=batch, after_ticks=position.to_ticks if position else None, to_ticks=to_ticks)
        landed = land_missing(cursor, settings, window)
    assert landed is not None  # the window moves the position: always committed
    log.info("resync: landed %s events as batch %d; position now %s", landed.rows, landed.batch, landed.to.isoformat())
    return landed


def run(
    settings: Settings,
    max_span: timedelta = DEFAULT_MAX_SPAN,
    reprocess: DateRange | None = None,
    now: datetime | None = None,
) -> list[Position]:
    """Land every batch due now and, for a reprocess, the events of its dates that the landing table lacks;
    returns the positions committed (empty when there was nothing to land)."""
    with run_lock(settings):
        position = read_position(landing_table_path(settings))
        now = now or datetime.now(UTC)
        if position is not None and position.expired(now):
            raise ResyncNeeded(
                f"the ingest position ({position.to.isoformat()}) is older than the change feed keeps arrivals "
                f"({CHANGE_FEED_TTL.days} days): events that arrived since may be gone from it. "
                + ResyncNeeded.RECOVERY
            )
        windows = plan(position, capture_until(settings, now), max_span=max_span)
        if not windows and reprocess is None:
            log.info("nothing can have arrived since the position (%s)", position.to if position else "none")
            return []
        with thrift_cursor(settings) as cursor:
            if position is None and (modelled := highest_modelled_batch(cursor, settings)):
                raise ResyncNeeded(
                    f"the landing table {landing_table(settings)} holds no batch, but the models hold batches "
                    f"up to {modelled}: it was emptied or made anew, and a backfill numbered from 1 would fall "
                    "behind them. " + ResyncNeeded.RECOVERY
                )
            landed = [
                land_showing_progress(cursor, settings, window, number, len(windows))
                for number, window in enumerate(windows, start=1)
            ]
            if reprocess is not None and (relanded := reland(cursor, settings, reprocess)) is not None:
                landed.append(relanded)
            return landed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help=f"exit 0 if there is new data, {EXIT_NOTHING_NEW} if not")
    mode.add_argument(
        "--resync", action="store_true", help="land every raw-log event the landing table lacks; position to now"
    )
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
        landed = [resync(settings)] if args.resync else run(settings, timedelta(minutes=args.max_span_minutes))
    except IngestBusy as busy:
        print(f"jobpulse ingest: {busy}; refusing to run a second one", file=sys.stderr)
        return EXIT_BUSY
    except ResyncNeeded as needed:
        print(f"jobpulse ingest: {needed}", file=sys.stderr)
        return 1
    print(f"landed {len(landed)} batch(es): {sum(position.rows or 0 for position in landed)} rows")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ingest_job.py", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return execute(parser.parse_args(argv))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sys.exit(main())
