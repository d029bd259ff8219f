"""Pure DataFrame transforms of the ingest: raw log rows in, landing-table rows out. No I/O here."""

from __future__ import annotations

from datetime import date, datetime

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import (
    DateType,
    DoubleType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from ingest.capture import GREGORIAN_OFFSET
from ingest.events import NUMERIC_FIELDS, VALUE_FIELDS

EVENT_FIELDS = [
    StructField("create_time", StringType(), nullable=False),
    *(StructField(name, DoubleType() if name in NUMERIC_FIELDS else StringType()) for name in VALUE_FIELDS),
]
LANDING_SCHEMA = StructType(
    [
        *EVENT_FIELDS,
        StructField("arrived_at", TimestampType(), nullable=False),
        StructField("arrival_date", DateType(), nullable=False),
        StructField("ingest_batch", LongType(), nullable=False),
        StructField("ingested_at", TimestampType(), nullable=False),
    ]
)


def timeuuid_micros(column: Column) -> Column:
    """Microseconds since the Unix epoch of a version-1 UUID given as text (time_hi, time_mid, time_low)."""
    hex_ticks = F.concat(F.substring(column, 16, 3), F.substring(column, 10, 4), F.substring(column, 1, 8))
    ticks = F.conv(hex_ticks, 16, 10).cast(LongType())
    return F.floor((ticks - F.lit(GREGORIAN_OFFSET)) / 10).cast(LongType())


def _utc_date(micros: Column) -> Column:
    """The UTC calendar date of an instant, whatever the session's time zone."""
    return F.date_from_unix_date(F.floor(micros / F.lit(86_400_000_000)).cast("int"))


def _landing(events: DataFrame, arrived_micros: Column, batch: int, ingested_at: datetime) -> DataFrame:
    return events.select(
        *(F.col(field.name).cast(field.dataType).alias(field.name) for field in EVENT_FIELDS),
        F.timestamp_micros(arrived_micros).alias("arrived_at"),
        _utc_date(arrived_micros).alias("arrival_date"),
        F.lit(batch).cast(LongType()).alias("ingest_batch"),
        F.lit(ingested_at).cast(TimestampType()).alias("ingested_at"),
    )


def changes_to_landing(changes: DataFrame, batch: int, ingested_at: datetime) -> DataFrame:
    """Rows of the change feed (``tracking_changes``) as landing rows; the arrival comes from ``arrival_id``."""
    return _landing(changes, timeuuid_micros(F.col("arrival_id")), batch, ingested_at)


def log_to_landing(log: DataFrame, batch: int, ingested_at: datetime) -> DataFrame:
    """Rows of the log itself (``tracking``, a backfill) as landing rows; the arrival is ``arrived_at``."""
    return _landing(log, F.unix_micros(F.col("arrived_at")), batch, ingested_at)


# The spec's rule for `ts` (cleaning rule 3), as dbt's jobpulse__ts_is_valid / jobpulse__event_date apply it.
TS_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]+)?$"


def event_date(ts: Column) -> Column:
    """The calendar date written in ``ts``, or null when ``ts`` does not follow the spec's format."""
    text = F.trim(ts)
    return F.when(text.rlike(TS_PATTERN), F.to_date(F.substring(text, 1, 10), "yyyy-MM-dd"))


def missing_events(log: DataFrame, landed: DataFrame, first: date | None = None, last: date | None = None) -> DataFrame:
    """Rows of the raw log whose event id is nowhere in the landing table: what a resync lands, or with dates,
    what a reprocess of ``first``..``last`` lands again (events whose `ts` gives no date are not counted by
    any metric: a reprocess does not reland them)."""
    if first is not None and last is not None:
        log = log.where(event_date(F.col("ts")).between(F.lit(first), F.lit(last)))
    return log.join(landed.select("create_time"), on="create_time", how="left_anti")
