"""The ingest's transforms as Spark SQL text: raw log rows in, landing-table rows out. No I/O here.

SQL rather than DataFrames because the ingest runs in the long-running Spark application (the Thrift server)
instead of a JVM of its own per run. Every value spliced into the text is a number, a date, a timestamp or
a UUID this module formats itself; relation names come from the caller, checked there.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from ingest.capture import GREGORIAN_OFFSET, SHARDS, Window
from ingest.events import NUMERIC_FIELDS, VALUE_FIELDS

# The landing table's columns in its order (jobpulse/migrations/lakehouse/V001__landing_table.sql).
EVENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("create_time", "string"),
    *((name, "double" if name in NUMERIC_FIELDS else "string") for name in VALUE_FIELDS),
)
LANDING_COLUMNS: tuple[tuple[str, str], ...] = (
    *EVENT_COLUMNS,
    ("arrived_at", "timestamp"),
    ("arrival_date", "date"),
    ("ingest_batch", "bigint"),
    ("ingested_at", "timestamp"),
)

# The rule for `ts` (docs/metrics.md, cleaning rule 3), as dbt's jobpulse__ts_is_valid and jobpulse__event_date
# apply it.
TS_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]+)?$"


def timestamp_literal(moment: datetime) -> str:
    """An instant as a Spark timestamp literal that names its zone: the same whatever the session's zone."""
    return f"TIMESTAMP '{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S.%f}+00:00'"


def timeuuid_micros(column: str) -> str:
    """Microseconds since the Unix epoch of a version-1 UUID given as text (time_hi, time_mid, time_low)."""
    hex_ticks = f"concat(substring({column}, 16, 3), substring({column}, 10, 4), substring({column}, 1, 8))"
    return f"CAST(floor((CAST(conv({hex_ticks}, 16, 10) AS BIGINT) - {GREGORIAN_OFFSET}) / 10) AS BIGINT)"


def _landing(source: str, arrived_micros: str, batch: int, ingested_at: datetime) -> str:
    """``source``'s rows as landing rows, columns in the landing table's order."""
    events = ", ".join(f"CAST({name} AS {kind}) AS {name}" for name, kind in EVENT_COLUMNS)
    return (
        f"SELECT {events}, timestamp_micros(arrived_micros) AS arrived_at, "
        # the UTC calendar date of the arrival, whatever the session's time zone
        "date_from_unix_date(CAST(floor(arrived_micros / 86400000000) AS INT)) AS arrival_date, "
        f"CAST({int(batch)} AS BIGINT) AS ingest_batch, {timestamp_literal(ingested_at)} AS ingested_at "
        f"FROM (SELECT *, {arrived_micros} AS arrived_micros FROM {source})"
    )


def changes_to_landing(changes: str, window: Window, ingested_at: datetime) -> str:
    """The change feed's rows of ``window`` (``changes``: the ``tracking_changes`` table) as landing rows of
    batch ``window.batch``; the arrival comes from ``arrival_id``. All four predicates are pushed down to
    Cassandra: the arrival_id range is evaluated there, in timeuuid order, never by Spark as text."""
    low, high = window.arrival_id_range()
    minutes = ", ".join(timestamp_literal(minute) for minute in window.minutes())
    shards = ", ".join(str(shard) for shard in range(SHARDS))
    in_window = (
        f"(SELECT * FROM {changes} WHERE arrival_minute IN ({minutes}) AND shard IN ({shards}) "
        f"AND arrival_id >= '{low}' AND arrival_id <= '{high}')"
    )
    return _landing(in_window, timeuuid_micros("arrival_id"), window.batch, ingested_at)


def log_to_landing(log: str, batch: int, ingested_at: datetime) -> str:
    """Rows of the log itself (``tracking``, a backfill) as landing rows; the arrival is ``arrived_at``."""
    return _landing(log, "unix_micros(arrived_at)", batch, ingested_at)


def event_date(ts: str) -> str:
    """The calendar date written in ``ts``, or null when ``ts`` does not follow the spec's format."""
    return f"CASE WHEN trim({ts}) RLIKE '{TS_PATTERN}' THEN to_date(substring(trim({ts}), 1, 10), 'yyyy-MM-dd') END"


def missing_events(log: str, landed: str, first: date | None = None, last: date | None = None) -> str:
    """Rows of the raw log whose event id is nowhere in the landing table: what a resync lands, or with dates,
    what a reprocess of ``first``..``last`` lands again (events whose `ts` gives no date are not counted by
    any metric: a reprocess does not reland them)."""
    dated = ""
    if first is not None and last is not None:
        dated = f"WHERE {event_date('log.ts')} BETWEEN DATE '{first.isoformat()}' AND DATE '{last.isoformat()}' "
    return (
        f"SELECT log.* FROM {log} AS log LEFT ANTI JOIN (SELECT create_time FROM {landed}) AS landed "
        f"ON log.create_time = landed.create_time {dated}".rstrip()
    )
