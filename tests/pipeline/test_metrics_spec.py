"""The whole pipeline (`jobpulse run`) against the real stack, on small fixtures whose expected `events` rows
are written out by hand from docs/metrics.md.

Runs in a namespace of its own (Kafka topic, Cassandra keyspace, lakehouse databases, MySQL database), with the
test process, the ingest's JVM and the Spark SQL session of dbt all in time zones other than UTC: the hours
come from the text of `ts` and must not shift.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import date

import pytest

from ingest.reference_data import reference_data
from jobpulse import dbt
from jobpulse.clients import cassandra_cluster, mysql_connect
from jobpulse.config import Settings
from jobpulse.pipeline import run_once
from tests.ingest.conftest import new_create_time, produce
from tests.pipeline.namespace import isolated_pipeline

COMPANY_OF_JOB_1 = 113  # from ingest.reference_data, checked below
UNKNOWN_JOB = 999_999  # not in the job table: company_id null

COLUMNS = (
    "job_id", "dates", "hours", "publisher_id", "campaign_id", "group_id", "clicks", "spend_hour", "bid_set",
    "conversion", "qualified_application", "disqualified_application", "company_id", "sources",
)  # fmt: skip
A = (1.0, date(2026, 11, 27), 23, 2.0, 201.0, 553.0)  # the grain of cell A, and so on
B = (1.0, date(2026, 11, 27), 22, 2.0, 201.0, 553.0)
C = (1.0, date(2026, 11, 28), 0, 2.0, 201.0, 553.0)
D = (1.0, date(2026, 11, 28), 0, 0.0, 0.0, 0.0)
E = (float(UNKNOWN_JOB), date(2026, 11, 28), 10, 3.0, 7.0, 8.0)
F = (1.0, date(2026, 11, 20), 8, 5.0, 201.0, 553.0)


def event(track: str | None, ts: str, *, job: float | None = 1, publisher: float | None = 2,
          campaign: float | None = 201, group: float | None = 553, bid: float | None = 1.0,
          create_time: str | None = None) -> bytes:  # fmt: skip
    fields = {
        "create_time": create_time or new_create_time(),
        "job_id": job, "publisher_id": publisher, "campaign_id": campaign, "group_id": group, "bid": bid,
        "custom_track": track, "ts": ts, "bn": "Chrome", "ua": "Mozilla/5.0",
    }  # fmt: skip
    return json.dumps(fields).encode()


FIRST_CLICK = new_create_time()
FIRST_CONVERSION = new_create_time()
RUN_1 = [
    # cell A: 2026-11-27 23h, job 1, publisher 2, campaign 201, group 553
    event("click", "2026-11-27 23:59:59", bid=1.5, create_time=FIRST_CLICK),
    event("click", "2026-11-27 23:59:59", bid=1.5, create_time=FIRST_CLICK),  # the same event twice in a run
    event(" CLICK ", "2026-11-27T23:15:00.250", bid=0.5),  # case, spaces, a T and fractional seconds
    event("click", "2026-11-27 23:00:00", bid=1.0),  # the first second of the hour
    event("Conversion", "2026-11-27 23:10:00", create_time=FIRST_CONVERSION),
    event("qualified", "2026-11-27 23:20:00"),
    event("UnQualified ", "2026-11-27 23:30:00"),
    event("alive", "2026-11-27 23:40:00"),  # not a counted kind
    event("", "2026-11-27 23:40:01"),
    event(None, "2026-11-27 23:40:02"),
    # cell B: the last instant of the previous hour
    event("click", "2026-11-27 22:59:59.999", bid=4.0),
    # cell C: the first instant of the next day
    event("click", "2026-11-28 00:00:00", bid=2.25),
    event("conversion", " 2026-11-28 00:00:01 "),
    # cell D: null publisher, campaign, group and bid become 0
    event("click", "2026-11-28 00:30:00.999999", publisher=None, campaign=None, group=None, bid=None),
    # cell E: a job the job table does not know
    event("conversion", "2026-11-28 10:00:00", job=UNKNOWN_JOB, publisher=3, campaign=7, group=8),
    # never counted: no job, a ts that does not parse, an impossible date
    event("click", "2026-11-28 01:00:00", job=None),
    event("click", "not a time"),
    event("click", "2026-13-01 10:00:00"),
]
EXPECTED_1 = {
    A: (3, 3.0, 1.0, 1, 1, 1, COMPANY_OF_JOB_1),
    B: (1, 4.0, 4.0, 0, 0, 0, COMPANY_OF_JOB_1),
    C: (1, 2.25, 2.25, 1, 0, 0, COMPANY_OF_JOB_1),
    D: (1, 0.0, 0.0, 0, 0, 0, COMPANY_OF_JOB_1),
    E: (0, 0.0, 0.0, 1, 0, 0, None),
}
RUN_2 = [
    event("click", "2026-11-27 23:59:59", bid=1.5, create_time=FIRST_CLICK),  # delivered again, a run later
    event("Conversion", "2026-11-27 23:10:00", create_time=FIRST_CONVERSION),
    event("click", "2026-11-27 23:45:00", bid=2.0),  # late: cell A was aggregated in run 1
    event("unqualified", "2026-11-20 08:00:00", publisher=5),  # a week late, a cell of its own
]
EXPECTED_2 = {
    **EXPECTED_1,
    A: (4, 5.0, 1.25, 1, 1, 1, COMPANY_OF_JOB_1),
    F: (0, 0.0, 0.0, 0, 0, 1, COMPANY_OF_JOB_1),
}

FIRST_WITHOUT_JOB = new_create_time()
RUN_3 = [
    # Delivered again a run later with a `ts` on other dates and other fields: still the first arrival counts,
    # once, in cell A (rule 5 across dates).
    event("click", "2026-11-25 10:00:00", bid=9.0, create_time=FIRST_CLICK),
    event("conversion", "2026-11-26 23:10:00", job=None, create_time=FIRST_CONVERSION),
    # First seen without a job (not counted); a later delivery with one is the same event, still not counted.
    event("click", "2026-11-28 00:10:00", job=None, create_time=FIRST_WITHOUT_JOB),
]
RUN_4 = [event("click", "2026-11-28 00:10:00", create_time=FIRST_WITHOUT_JOB)]


@pytest.fixture(scope="module")
def namespace(running_stack: Settings) -> Iterator[Settings]:
    with isolated_pipeline(running_stack, "metrics") as settings:
        saved_tz = os.environ.get("TZ")
        os.environ.update(TZ="America/New_York", JOBPULSE_SPARK_SESSION_TIMEZONE="Asia/Ho_Chi_Minh")
        time.tzset()
        try:
            yield settings
        finally:
            os.environ.pop("JOBPULSE_SPARK_SESSION_TIMEZONE", None)
            if saved_tz is None:
                os.environ.pop("TZ", None)
            else:
                os.environ["TZ"] = saved_tz
            time.tzset()


def mart(settings: Settings) -> dict[tuple, tuple]:
    """`events` as {grain: (metrics..., company_id)}, after checking every row's sources column."""
    connection = mysql_connect(settings)
    cursor = connection.cursor()
    cursor.execute(f"SELECT {', '.join(COLUMNS)} FROM events")
    rows = cursor.fetchall()
    connection.close()
    assert {row[-1] for row in rows} <= {"Cassandra"}
    return {tuple(row[:6]): tuple(row[6:13]) for row in rows}


def update_times(settings: Settings) -> dict[tuple, object]:
    connection = mysql_connect(settings)
    cursor = connection.cursor()
    cursor.execute("SELECT job_id, dates, hours, publisher_id, campaign_id, group_id, latest_update_time FROM events")
    result = {tuple(row[:6]): row[6] for row in cursor.fetchall()}
    connection.close()
    return result


def quality(settings: Settings) -> list[tuple]:
    """`tracking_data_quality`'s figures, by arrival date."""
    connection = mysql_connect(settings)
    cursor = connection.cursor()
    cursor.execute(
        "SELECT arrival_date, deliveries, events, events_without_job, events_unparseable_ts, "
        "events_unclassified_track FROM tracking_data_quality ORDER BY arrival_date"
    )
    rows = cursor.fetchall()
    connection.close()
    return rows


def raw_log_events(settings: Settings) -> int:
    cluster = cassandra_cluster(settings)
    try:
        return cluster.connect().execute(f"SELECT COUNT(*) FROM {settings.cassandra_keyspace}.tracking").one()[0]
    finally:
        cluster.shutdown()


def test_the_fixture_job_belongs_to_the_company_the_expectations_name():
    assert reference_data().jobs[0].id == 1 and reference_data().jobs[0].company_id == COMPANY_OF_JOB_1
    assert UNKNOWN_JOB not in {job.id for job in reference_data().jobs}


def test_the_mart_follows_the_spec_run_after_run(namespace: Settings):
    produce(namespace, RUN_1)
    report = run_once(namespace, say=lambda message: None)
    assert report.events_collected in (len(RUN_1) - 1, len(RUN_1))  # a repeat within one batch is written once
    assert mart(namespace) == EXPECTED_1

    connection = mysql_connect(namespace)
    cursor = connection.cursor()
    cursor.execute(
        "SELECT SUM(events_without_job), SUM(events_unparseable_ts), SUM(events_unclassified_track) "
        "FROM tracking_data_quality"
    )
    assert tuple(int(value) for value in cursor.fetchone()) == (1, 2, 3)
    cursor.execute("SHOW COLUMNS FROM events")
    assert tuple(row[0] for row in cursor.fetchall()) == (*COLUMNS, "latest_update_time")
    connection.close()
    first_writes = update_times(namespace)

    produce(namespace, RUN_2)
    run_once(namespace, say=lambda message: None)
    assert mart(namespace) == EXPECTED_2
    second_writes = update_times(namespace)
    unchanged = [B, C, D, E]
    assert [second_writes[cell] for cell in unchanged] == [first_writes[cell] for cell in unchanged]
    assert second_writes[A] > first_writes[A]

    for redeliveries in (RUN_3, RUN_4):
        produce(namespace, redeliveries)
        run_once(namespace, say=lambda message: None)  # its staging tests (one row per event id) pass
        assert mart(namespace) == EXPECTED_2
    assert update_times(namespace) == second_writes

    report = run_once(namespace, say=lambda message: None)  # nothing new
    assert (report.events_collected, report.events_landed, report.cells_changed) == (0, 0, 0)
    assert mart(namespace) == EXPECTED_2
    assert update_times(namespace) == second_writes
    added_up = quality(namespace)  # each run added its batches' figures: every event once
    assert sum(row[2] for row in added_up) == raw_log_events(namespace) < sum(row[1] for row in added_up)

    for target in (dbt.LAKEHOUSE, dbt.WAREHOUSE):
        dbt.dbt(namespace, ["build", "--select", f"tag:{target}", "--full-refresh"], target)
    assert mart(namespace) == EXPECTED_2
    assert quality(namespace) == added_up  # the same figures computed at once


@pytest.mark.parametrize(
    ("target", "reconciliation", "drift"),
    [
        (dbt.WAREHOUSE, "events_reconciles_with_the_lakehouse_facts", "mysql"),
        (dbt.LAKEHOUSE, "fct_job_hourly_reconciles_with_classified_events", "spark"),
    ],
)
def test_the_reconciliation_tests_pass_on_the_mart_and_fail_once_it_drifts(
    namespace: Settings, target: str, reconciliation: str, drift: str
):
    connection = mysql_connect(namespace)
    cursor = connection.cursor()
    cursor.execute("SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'events'")
    built = cursor.fetchone() is not None
    connection.close()
    if not built or not mart(namespace):  # run alone: give the mart something to reconcile
        produce(namespace, RUN_1)
        run_once(namespace, say=lambda message: None)
    dbt.dbt(namespace, ["test", "--select", reconciliation], target)

    if drift == "mysql":
        connection = mysql_connect(namespace)
        connection.cursor().execute("UPDATE events SET clicks = clicks + 1")
        connection.commit()
        connection.close()
    else:
        from pyhive import hive

        cursor = hive.connect(host=namespace.spark_thrift_host, port=namespace.spark_thrift_port).cursor()
        cursor.execute(f"UPDATE {namespace.dbt_lakehouse_schema}.fct_job_hourly SET clicks = clicks + 1")
    try:
        with pytest.raises(dbt.DbtFailure):
            dbt.dbt(namespace, ["test", "--select", reconciliation], target)
    finally:  # put the mart back for whatever runs next in this namespace
        dbt.dbt(namespace, ["build", "--select", f"tag:{target}", "--full-refresh"], target)
    dbt.dbt(namespace, ["test", "--select", reconciliation], target)
