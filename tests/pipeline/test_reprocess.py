"""`jobpulse run --reprocess FIRST LAST` against the real stack: it rebuilds those event dates from the raw log,
whatever the lakehouse and MySQL lost or got wrong there, and does not rewrite the other dates.

The damage is done by hand in a namespace of the test's own: events deleted from the landing and staging
tables (as by a bad restore), mart cells with wrong counts, and cells that should not exist.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date, datetime

import pytest

from ingest.collector import Collector
from ingest.simulator import Simulator, encode
from jobpulse.clients import mysql_connect
from jobpulse.config import Settings
from jobpulse.lakehouse import landing_table
from jobpulse.pipeline import run_once
from jobpulse.reprocessing import DateRange
from tests.ingest.conftest import produce
from tests.pipeline.mart import company_of_job, mart_rows
from tests.pipeline.namespace import isolated_pipeline
from tests.pipeline.spec_oracle import expected_events

DAMAGED_DAY = date(2026, 11, 27)


@pytest.fixture(scope="module")
def pipeline(running_stack: Settings) -> Iterator[Settings]:
    with isolated_pipeline(running_stack, "reprocess") as settings:
        yield settings


def thrift(settings: Settings, *statements: str) -> None:
    from pyhive import hive

    connection = hive.connect(host=settings.spark_thrift_host, port=settings.spark_thrift_port)
    try:
        cursor = connection.cursor()
        for statement in statements:
            cursor.execute(statement)
    finally:
        connection.close()


def mysql(settings: Settings, *statements: str) -> None:
    connection = mysql_connect(settings)
    try:
        for statement in statements:
            connection.cursor().execute(statement)
        connection.commit()
    finally:
        connection.close()


def last_writes(settings: Settings, day: date) -> tuple:
    connection = mysql_connect(settings)
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT COUNT(*), MAX(latest_update_time) FROM events WHERE dates = %s", (day,))
        return cursor.fetchone()
    finally:
        connection.close()


def test_a_reprocess_rebuilds_its_dates_from_the_raw_log_and_only_them(pipeline: Settings):
    # two days of traffic: 23:00 on the 27th to about 00:40 on the 28th
    raw = list(itertools.islice(Simulator(seed=31, start=datetime(2026, 11, 27, 23, 0), rate=1).events(), 6000))
    produce(pipeline, [encode(event) for event in raw])
    Collector(pipeline).run(drain=True)
    run_once(pipeline, say=lambda message: None)
    expected = expected_events(raw, company_of_job())
    assert mart_rows(pipeline) == expected
    assert {cell[1] for cell in expected} == {DAMAGED_DAY, date(2026, 11, 28)}

    lost = [event["create_time"] for event in raw if event["ts"].startswith("2026-11-27 23:1")]  # ten minutes
    models = pipeline.dbt_lakehouse_schema
    ids = ", ".join(f"'{create_time}'" for create_time in lost)
    thrift(
        pipeline,
        # the landing table is append-only: losing its rows takes an operator's deliberate act
        f"ALTER TABLE {landing_table(pipeline)} SET TBLPROPERTIES (delta.appendOnly = false)",
        f"DELETE FROM {landing_table(pipeline)} WHERE create_time IN ({ids})",
        f"ALTER TABLE {landing_table(pipeline)} SET TBLPROPERTIES (delta.appendOnly = true)",
        f"DELETE FROM {models}.stg_datalake__tracking WHERE create_time IN ({ids})",
        # a cell no event makes (job 424242), as if a wrong rule had made it
        f"INSERT INTO {models}.fct_job_hourly SELECT 424242.0, DATE'2026-11-27', 5, 1.0, 1.0, 1.0, "
        "3, 1.0, 1.0, 0, 0, 0, 0, current_timestamp()",
    )
    mysql(
        pipeline,
        "UPDATE events SET clicks = clicks + 100 WHERE dates = '2026-11-27'",
        "INSERT INTO events (job_id, dates, hours, publisher_id, campaign_id, group_id, clicks, spend_hour, bid_set, "
        "conversion, qualified_application, disqualified_application, company_id, sources, latest_update_time) "
        "VALUES (424242, '2026-11-27', 6, 1, 1, 1, 9, 9, 1, 0, 0, 0, NULL, 'Cassandra', NOW(6))",
    )

    written_on_the_28th = last_writes(pipeline, date(2026, 11, 28))
    report = run_once(pipeline, say=lambda message: None, reprocess=DateRange(DAMAGED_DAY, DAMAGED_DAY))

    assert report.events_landed == len(set(lost))  # relanded from the raw log, nothing else
    rows = mart_rows(pipeline)
    assert {cell: value for cell, value in rows.items() if cell[1] == DAMAGED_DAY} == {
        cell: value for cell, value in expected.items() if cell[1] == DAMAGED_DAY
    }
    assert rows == expected
    assert last_writes(pipeline, date(2026, 11, 28)) == written_on_the_28th  # outside the range: not rewritten

    connection = mysql_connect(pipeline)
    cursor = connection.cursor()
    cursor.execute("SELECT MAX(latest_update_time) FROM events")
    (written_before,) = cursor.fetchone()
    connection.close()
    run_once(pipeline, say=lambda message: None, reprocess=DateRange(DAMAGED_DAY, DAMAGED_DAY))
    connection = mysql_connect(pipeline)
    cursor = connection.cursor()
    cursor.execute("SELECT MAX(latest_update_time), COUNT(*) FROM events")
    assert cursor.fetchone() == (written_before, len(rows))  # a second reprocess finds nothing to change
    cursor.execute("SELECT source, status FROM pipeline_runs ORDER BY started_at")
    assert cursor.fetchall() == [("cli", "success"), ("reprocess", "success"), ("reprocess", "success")]
    connection.close()
