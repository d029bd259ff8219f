"""The ingest's transforms (SQL text), run on small DataFrames registered as views of a local session."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from pyspark.sql.types import (
    ByteType,
    DateType,
    DoubleType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)
from pyspark.testing import assertDataFrameEqual

from ingest.capture import Window, ticks_of, timeuuid_bound
from ingest.events import VALUE_FIELDS
from ingest.spark.transforms import (
    EVENT_COLUMNS,
    LANDING_COLUMNS,
    TS_PATTERN,
    changes_to_landing,
    event_date,
    log_to_landing,
    missing_events,
    timeuuid_micros,
)
from jobpulse.config import PROJECT_ROOT
from jobpulse.migrations import discover

TYPES = {"string": StringType(), "double": DoubleType(), "timestamp": TimestampType(), "date": DateType(),
         "bigint": LongType()}  # fmt: skip
EVENT_FIELDS = [StructField(name, TYPES[kind]) for name, kind in EVENT_COLUMNS]
LANDING_SCHEMA = StructType([StructField(name, TYPES[kind]) for name, kind in LANDING_COLUMNS])

UTC = dt.UTC
LANDED = dt.datetime(2026, 11, 28, 0, 5, tzinfo=UTC)
CHANGES_SCHEMA = StructType(
    [
        StructField("arrival_minute", TimestampType()),
        StructField("shard", ByteType()),
        StructField("arrival_id", StringType()),
        *EVENT_FIELDS,
    ]
)


def event_values(**overrides: object) -> dict:
    values = {name: None for name in VALUE_FIELDS}
    values.update(overrides)
    return values


@pytest.fixture
def utc_minus_eight(spark):
    """A session time zone far from UTC: landing dates must not move with it."""
    previous = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", "America/Los_Angeles")
    yield spark
    spark.conf.set("spark.sql.session.timeZone", previous)


def view(frame, name: str) -> str:
    frame.createOrReplaceTempView(name)
    return name


def test_timeuuid_micros_reads_the_uuid_clock(spark):
    moment = dt.datetime(2026, 11, 27, 23, 59, 59, 999999, tzinfo=UTC)
    text = timeuuid_bound(ticks_of(moment), upper=True)
    view(spark.createDataFrame([(text,)], "id string"), "uuids")
    [row] = spark.sql(f"SELECT {timeuuid_micros('id')} AS micros FROM uuids").collect()
    assert row.micros == int(moment.timestamp() * 1_000_000)


def test_landing_columns_are_the_landing_tables():
    [migration] = [m for m in discover("lakehouse") if m.name == "landing_table"]
    table = migration.statements()[0]
    declared = [line.split()[:2] for line in table.splitlines() if line.startswith("    ") and "USING" not in line]
    assert [(name, kind.lower().rstrip(",")) for name, kind in declared] == list(LANDING_COLUMNS)


def test_change_feed_rows_land_with_their_arrival_date_in_utc(utc_minus_eight):
    spark = utc_minus_eight
    arrival = dt.datetime(2026, 11, 28, 0, 30, tzinfo=UTC)  # Nov 27 in Los Angeles
    create_time = str(uuid.uuid1())

    def change(moment: dt.datetime, create_time: str, **values: object) -> dict:
        return {
            "arrival_minute": moment.replace(second=0, microsecond=0),
            "shard": 3,
            "arrival_id": timeuuid_bound(ticks_of(moment), upper=False),
            "create_time": create_time,
            **event_values(**values),
        }

    window = Window(batch=5, after_ticks=ticks_of(arrival - dt.timedelta(seconds=1)), to_ticks=ticks_of(arrival))
    changes = spark.createDataFrame(
        [
            change(arrival, create_time, job_id=12.0, custom_track="Click ", ts="2026-11-27 23:59:59", dt="“q” 😀"),
            change(arrival - dt.timedelta(seconds=1), str(uuid.uuid1()), job_id=1.0),  # the window's lower bound
            change(arrival + dt.timedelta(microseconds=1), str(uuid.uuid1()), job_id=2.0),  # after its end
        ],
        CHANGES_SCHEMA,
    )
    landed = spark.sql(changes_to_landing(view(changes, "changes"), window, ingested_at=LANDED))
    expected = spark.createDataFrame(
        [
            {
                "create_time": create_time,
                **event_values(job_id=12.0, custom_track="Click ", ts="2026-11-27 23:59:59", dt="“q” 😀"),
                "arrived_at": arrival,
                "arrival_date": dt.date(2026, 11, 28),
                "ingest_batch": 5,
                "ingested_at": LANDED,
            }
        ],
        LANDING_SCHEMA,
    )
    assertDataFrameEqual(landed, expected)
    # names and types of the landing table (Delta enforces its NOT NULL columns when writing)
    assert [(f.name, f.dataType) for f in landed.schema] == [(f.name, f.dataType) for f in LANDING_SCHEMA]


def test_log_rows_of_a_backfill_keep_their_stored_arrival(spark):
    arrival = dt.datetime(2026, 11, 27, 23, 59, 59, 500000, tzinfo=UTC)
    create_time = str(uuid.uuid1())
    log = spark.createDataFrame(
        [{"create_time": create_time, **event_values(bid=1.5, custom_track="click"), "arrived_at": arrival}],
        StructType([*EVENT_FIELDS, StructField("arrived_at", TimestampType())]),
    )
    [row] = spark.sql(log_to_landing(view(log, "log"), batch=1, ingested_at=LANDED)).collect()
    assert (row.create_time, row.bid, row.custom_track) == (create_time, 1.5, "click")
    assert row.arrival_date == dt.date(2026, 11, 27)
    assert row.ingest_batch == 1


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        ("2026-11-27 23:59:59", dt.date(2026, 11, 27)),
        (" 2026-11-27T00:00:00.250 ", dt.date(2026, 11, 27)),
        ("2026-02-30 10:00:00", None),  # no such day
        ("2026-11-27 24:00:00", None),
        ("27/11/2026 10:00:00", None),
        ("2026-11-27", None),
        (None, None),
    ],
)
def test_event_date_follows_the_spec_rule_for_ts(utc_minus_eight, ts, expected):
    view(utc_minus_eight.createDataFrame([(ts,)], "ts string"), "stamps")
    [row] = utc_minus_eight.sql(f"SELECT {event_date('ts')} AS day FROM stamps").collect()
    assert row.day == expected


def test_a_reprocess_relands_only_the_dated_events_the_landing_table_lacks(spark):
    schema = StructType([*EVENT_FIELDS, StructField("arrived_at", TimestampType())])
    arrival = dt.datetime(2026, 11, 28, 1, 0, tzinfo=UTC)

    def event(name: str, ts: str | None) -> dict:
        return {"create_time": name, **event_values(ts=ts, custom_track="click"), "arrived_at": arrival}

    log = spark.createDataFrame(
        [
            event("landed", "2026-11-20 10:00:00"),
            event("lost", "2026-11-20 11:00:00"),
            event("lost-last-day", "2026-11-21 23:59:59"),
            event("lost-but-outside", "2026-11-22 00:00:00"),
            event("lost-undated", "not a time"),
        ],
        schema,
    )
    view(log, "log")
    view(spark.createDataFrame([("landed",), ("elsewhere",)], "create_time string"), "landed")
    missing = spark.sql(missing_events("log", "landed", dt.date(2026, 11, 20), dt.date(2026, 11, 21)))
    assertDataFrameEqual(
        missing,
        spark.createDataFrame(
            [event("lost", "2026-11-20 11:00:00"), event("lost-last-day", "2026-11-21 23:59:59")], schema
        ),
    )
    # a resync: every event the landing table lacks, dated or not
    assertDataFrameEqual(spark.sql(missing_events("log", "landed")), log.where("create_time != 'landed'"))


def test_the_ts_rule_is_the_one_dbt_applies():
    macro = PROJECT_ROOT / "dbt_project" / "lakehouse" / "macros" / "event_time.sql"
    assert f"'{TS_PATTERN}'" in macro.read_text()
