"""Every pipeline DAG run that did work is one `pipeline_runs` row, written by its tasks as they end: each task's
time from its task instance, under the CLI's step names, and a run whose task failed recorded failed with the
error; a run that found nothing new is not recorded. The end-to-end test runs `airflow dags test` against the
local stack in a pipeline namespace of its own, failing the warehouse step without stopping any service."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from jobpulse import dashboards, scheduling
from jobpulse.clients import mysql_connect
from jobpulse.config import Settings
from jobpulse.config import environment as jobpulse_environment
from jobpulse.pipeline import record, record_step
from jobpulse.scheduling import connection_uris
from tests.dags.conftest import AIRFLOW_HOME
from tests.dags.test_pipeline_dag_runs import DAG_ID, airflow, dag_test, simulate_and_collect
from tests.pipeline.namespace import isolated_pipeline

STARTED = datetime(2026, 12, 6, 23, 0, tzinfo=UTC)


def context(task_id: str, seconds: float, params: dict | None = None, error: BaseException | None = None) -> dict:
    """What Airflow passes a task's callback, in the worker, as far as the record reads it."""
    ti = SimpleNamespace(task_id=task_id, start_date=STARTED + timedelta(seconds=5))
    ti.end_date = ti.start_date + timedelta(seconds=seconds)
    return {
        "run_id": "scheduled__2026-12-06T23:00:00",
        "dag_run": SimpleNamespace(run_id="scheduled__2026-12-06T23:00:00", start_date=STARTED),
        "ti": ti,
        "params": params or {"reprocess_from": None, "reprocess_to": None},
        "exception": error,
    }


def test_a_tasks_step_is_its_task_instances_time_under_the_clis_name():
    report = scheduling.task_report(context("lakehouse", 12.345))
    assert (report.run_id, report.started_at, report.source) == ("scheduled__2026-12-06T23:00:00", STARTED, "airflow")
    assert report.step_seconds == {"dbt lakehouse": 12.35}
    assert scheduling.task_report(context("new_data", 3)).step_seconds == {"wait for new data": 3}
    assert scheduling.task_report(context("ingest", 4)).step_seconds == {"ingest": 4}


def test_what_a_scheduled_run_cannot_know_is_not_recorded_as_zero():
    report = scheduling.task_report(context("ingest", 4))
    assert (report.events_collected, report.events_dead_lettered, report.events_landed, report.cells_changed) == (
        None,
        None,
        None,
        None,
    )


def test_a_triggered_reprocess_is_recorded_as_one():
    params = {"reprocess_from": "2026-11-27", "reprocess_to": None}
    assert scheduling.task_report(context("ingest", 4, params)).source == "reprocess"


def test_the_failure_is_the_tasks_error():
    assert scheduling.failure_of(context("warehouse", 1, error=KeyError("events"))) == "KeyError: 'events'"
    assert scheduling.failure_of(context("warehouse", 1)) == "task warehouse failed"


@pytest.fixture
def mysql_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.sdk import BaseHook  # noqa: F401 - Airflow sets up logging on import: before the test's capture

    monkeypatch.setenv("AIRFLOW_CONN_JOBPULSE_MYSQL", "mysql://jobpulse:secret@127.0.0.1:9/data_warehouse")


def test_a_failure_to_record_is_logged_and_hides_nothing(mysql_unreachable: None, caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.ERROR, logger="jobpulse.scheduling"):
        scheduling.record_task_failure(context("warehouse", 1, error=RuntimeError("MySQL is down")))
        scheduling.record_task_success(context("ingest", 1))
    assert [record.getMessage() for record in caplog.records] == [
        "could not record run scheduled__2026-12-06T23:00:00 in pipeline_runs"
    ] * 2


def test_the_warehouse_task_records_its_success_itself(mysql_unreachable: None, caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.ERROR, logger="jobpulse.scheduling"):
        scheduling.record_task_success(context("warehouse", 1))
    assert caplog.records == []  # its callback wrote nothing: the task's own write is the run's last


# -- end to end -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pipeline(running_stack: Settings, manifests: dict[str, Path]) -> Iterator[Settings]:
    with isolated_pipeline(running_stack, "runs") as settings:
        airflow(settings, "db", "migrate")
        yield settings


def mysql(settings: Settings, statement: str) -> list[tuple]:
    connection = mysql_connect(settings)
    try:
        cursor = connection.cursor()
        cursor.execute(statement)
        return cursor.fetchall() if cursor.description else []
    finally:
        connection.close()


def task_seconds(run_id: str) -> dict[str, float]:
    """Each task's time in the run, from Airflow's own task instance records."""
    with sqlite3.connect(AIRFLOW_HOME / "airflow.db") as database:
        rows = database.execute(
            "SELECT task_id, (julianday(end_date) - julianday(start_date)) * 86400 FROM task_instance "
            "WHERE dag_id = ? AND run_id = ?",
            (DAG_ID, run_id),
        ).fetchall()
    return {scheduling.STEP_OF_TASK.get(task_id, task_id): seconds for task_id, seconds in rows}


def runs(settings: Settings) -> list[tuple]:
    return [
        (run_id, source, status, json.loads(steps), error, collected)
        for run_id, source, status, steps, error, collected in mysql(
            settings,
            "SELECT run_id, source, status, step_seconds, error, events_collected FROM pipeline_runs "
            "WHERE finished_at IS NOT NULL ORDER BY started_at",
        )
    ]


def test_a_failed_run_is_recorded_with_its_step_times_and_a_skipped_one_not_at_all(pipeline: Settings):
    simulate_and_collect(pipeline, 300, seed=31)
    mysql(pipeline, "RENAME TABLE job_hourly_facts TO job_hourly_facts_away")  # the warehouse step's publish fails
    try:
        result, states = dag_test(pipeline, "2026-11-29T00:00:00+00:00")
    finally:
        mysql(pipeline, "RENAME TABLE job_hourly_facts_away TO job_hourly_facts")
    assert result.returncode != 0 and states["warehouse"] == "failed", states
    ((run_id, source, status, steps, error, collected),) = runs(pipeline)
    assert (source, status, collected) == ("airflow", "failed", None)
    assert "job_hourly_facts" in error
    airflow_seconds = task_seconds(run_id)
    assert steps.keys() == airflow_seconds.keys() == {"wait for new data", "ingest", "dbt lakehouse", "warehouse"}
    assert all(abs(steps[step] - airflow_seconds[step]) < 0.05 for step in steps), (steps, airflow_seconds)

    result, states = dag_test(pipeline, "2026-11-29T00:01:00+00:00")  # the next run completes it
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    failed, succeeded = runs(pipeline)
    assert (failed[0], failed[2]) == (run_id, "failed") and (succeeded[2], succeeded[4]) == ("success", None)
    assert succeeded[3].keys() == {"wait for new data", "ingest", "dbt lakehouse", "publish", "dbt warehouse"}
    airflow_seconds = task_seconds(succeeded[0])
    assert all(abs(succeeded[3][step] - airflow_seconds[step]) < 0.05 for step in ("ingest", "dbt lakehouse"))
    assert succeeded[3]["publish"] + succeeded[3]["dbt warehouse"] <= airflow_seconds["warehouse"]

    # the dashboard's step-duration panel shows both runs' steps
    board = dashboards.load("pipeline_health")
    # `airflow dags test` starts a run at its logical date (a scheduled run starts when it starts)
    time_range = dashboards.TimeRange(datetime(2026, 11, 29, tzinfo=UTC), datetime.now(UTC) + timedelta(minutes=1))
    connection = dashboards.connect(pipeline)  # as Grafana's data source does
    try:
        (durations,) = dashboards.run_panel(connection, dashboards.panel(board, "Run duration"), time_range, {})
    finally:
        connection.close()
    shown = [dict(zip(durations.columns, row, strict=True)) for row in durations.rows]
    assert [row["ingest"] is not None and row["dbt lakehouse"] is not None for row in shown] == [True, True]
    assert [row["dbt warehouse"] is not None for row in shown] == [False, True]
    for row in shown:
        steps = [value for column, value in row.items() if column not in ("time", "total") and value is not None]
        assert 0 < sum(steps) <= float(row["total"]) + 0.5

    result, states = dag_test(pipeline, "2026-11-29T00:02:00+00:00")  # nothing new: skipped, and not recorded
    assert result.returncode == 0 and set(states.values()) == {"skipped"}, states
    assert mysql(pipeline, "SELECT COUNT(*) FROM pipeline_runs") == [(2,)]


def test_the_pipeline_dag_records_each_task_and_a_run_no_task_recorded(dagbag):
    pipeline_dag = dagbag.dags[DAG_ID]
    assert scheduling.record_run_failure in pipeline_dag.on_failure_callback
    for task in pipeline_dag.tasks:
        assert (task.on_success_callback, task.on_failure_callback) == (
            [scheduling.record_task_success],
            [scheduling.record_task_failure],
        ), task.task_id


def test_a_run_that_ended_recorded_running_is_recorded_failed(pipeline: Settings, monkeypatch: pytest.MonkeyPatch):
    for variable, value in {**connection_uris(pipeline), **jobpulse_environment(pipeline)}.items():
        monkeypatch.setenv(variable, value)
    timed_out, failed = (scheduling.scheduled_run(f"scheduled__{name}", STARTED, None) for name in ("late", "failed"))
    record_step(pipeline, timed_out)
    record(pipeline, failed, "failed", "KeyError: 'events'")
    for run in (timed_out, failed):
        scheduling.record_run_failure({"run_id": run.run_id, "reason": "timed_out"})
    assert mysql(
        pipeline,
        "SELECT run_id, status, error, finished_at IS NOT NULL FROM pipeline_runs "
        "WHERE run_id IN ('scheduled__late', 'scheduled__failed') ORDER BY run_id",
    ) == [
        ("scheduled__failed", "failed", "KeyError: 'events'", 1),
        ("scheduled__late", "failed", "the run failed: timed_out", 1),
    ]
