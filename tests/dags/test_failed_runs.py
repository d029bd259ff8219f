"""A failed pipeline run is logged with its run and failed task, and emailed through Airflow's SMTP connection
when JOBPULSE_ALERT_EMAIL names anyone."""

from __future__ import annotations

import dataclasses
import logging
import socket
from types import SimpleNamespace

import pytest

from jobpulse import failed_runs
from jobpulse.config import Settings


def context(dag_id: str = "jobpulse_pipeline", ti: object | None = None, reason: str = "task_failure") -> dict:
    """What Airflow 3's DAG processor passes a DAG's failure callback (the task instance only when one failed)."""
    return {
        "dag": SimpleNamespace(dag_id=dag_id),
        "run_id": "scheduled__2026-12-06T23:00:00",
        "reason": reason,
        "ti": ti,
    }


def test_the_report_names_the_dag_the_run_and_the_failed_task():
    subject, text = failed_runs.failure_report(context(ti=SimpleNamespace(task_id="warehouse", try_number=3)))
    assert subject == "JobPulse: jobpulse_pipeline run scheduled__2026-12-06T23:00:00 failed in task warehouse"
    assert "run: scheduled__2026-12-06T23:00:00" in text.splitlines()
    assert "failed task: warehouse (try 3)" in text.splitlines()
    assert "reason: task_failure" in text.splitlines()


def test_a_run_that_timed_out_blames_no_task():
    subject, text = failed_runs.failure_report(context(reason="timed_out"))
    assert subject == "JobPulse: jobpulse_pipeline run scheduled__2026-12-06T23:00:00 failed"
    assert "failed task: none (the run as a whole)" in text.splitlines() and "reason: timed_out" in text


def test_without_recipients_the_failure_is_only_logged(settings: Settings, caplog: pytest.LogCaptureFixture):
    notify = failed_runs.on_failure(dataclasses.replace(settings, alert_email=""))
    with caplog.at_level(logging.ERROR, logger=failed_runs.__name__):
        notify(context(ti=SimpleNamespace(task_id="ingest", try_number=1)))
    (record,) = caplog.records
    assert "failed in task ingest" in record.getMessage()


def test_recipients_are_emailed_through_airflows_smtp_connection(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    """The notice goes to the server of the `smtp_default` connection: here a port nothing listens on, so the
    attempt is refused, after the failure was logged."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again on leaving: nothing listens there
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", f"smtp://127.0.0.1:{port}?from_email=jobpulse%40example.com")
    notify = failed_runs.on_failure(dataclasses.replace(settings, alert_email="oncall@example.com"))
    with caplog.at_level(logging.ERROR, logger=failed_runs.__name__), pytest.raises(ConnectionRefusedError):
        notify(context(ti=SimpleNamespace(task_id="ingest", try_number=1)))
    assert len(caplog.records) == 1


def test_the_pipeline_dag_calls_it_when_a_run_fails(dagbag):
    notify, *_ = dagbag.dags["jobpulse_pipeline"].on_failure_callback
    assert notify.__qualname__ == "on_failure.<locals>.notify" and notify.__module__ == failed_runs.__name__
