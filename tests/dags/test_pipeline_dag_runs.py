"""`airflow dags test jobpulse_pipeline` against the local stack: the DAG lands simulated events and leaves
`events` equal to a from-scratch recomputation; with nothing new it waits, then ends skipped; when MySQL is
down it fails visibly, and the next run after recovery catches up exactly; a run triggered with reprocess
dates rebuilds them.

Runs in a pipeline namespace of its own (tests/pipeline/namespace.py); Airflow gets it as AIRFLOW_CONN_*
connections plus the JOBPULSE_* names, exactly as a deployment would."""

from __future__ import annotations

import itertools
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from ingest.collector import Collector
from ingest.simulator import Simulator, encode
from jobpulse import namespace, stack
from jobpulse.clients import mysql_connect
from jobpulse.config import Settings
from jobpulse.config import environment as jobpulse_environment
from jobpulse.scheduling import connection_uris
from tests.dags.conftest import AIRFLOW_HOME
from tests.ingest.conftest import produce
from tests.pipeline.mart import company_of_job, mart_rows
from tests.pipeline.namespace import isolated_pipeline
from tests.pipeline.spec_oracle import expected_events

DAG_ID = "jobpulse_pipeline"

pytestmark = pytest.mark.stack_lifecycle  # it stops MariaDB: run after every other test


@pytest.fixture(scope="module")
def pipeline(running_stack: Settings, manifests: dict[str, Path]) -> Iterator[Settings]:
    with isolated_pipeline(running_stack, "dag") as settings:
        airflow(settings, "db", "migrate")
        yield settings


def environment(settings: Settings) -> dict[str, str]:
    env = {**os.environ, **connection_uris(settings), **jobpulse_environment(settings)}
    return {**env, "JOBPULSE_TASK_RETRIES": "0", "JOBPULSE_PIPELINE_IDLE_WAIT": "6"}  # a run with nothing waits 6 s


def airflow(settings: Settings, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), *arguments],
        env=environment(settings),
        capture_output=True,
        text=True,
        timeout=900,
    )


def dag_test(
    settings: Settings, logical_date: str, *options: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """Run the DAG once; return the process and the state of each of its tasks in that run."""
    result = airflow(settings, "dags", "test", DAG_ID, logical_date, *options)
    with sqlite3.connect(AIRFLOW_HOME / "airflow.db") as database:
        rows = database.execute(
            "SELECT ti.task_id, ti.state FROM task_instance ti "
            "JOIN dag_run dr ON dr.dag_id = ti.dag_id AND dr.run_id = ti.run_id "
            # the run just made (another module's runs in this Airflow may have later logical dates)
            "WHERE ti.dag_id = ? AND dr.id = (SELECT MAX(id) FROM dag_run WHERE dag_id = ?)",
            (DAG_ID, DAG_ID),
        ).fetchall()
    return result, dict(rows)


def simulate_and_collect(settings: Settings, count: int, seed: int) -> list[dict]:
    """Events into Kafka and through the collector (which runs beside Airflow, not in the DAG)."""
    events = list(itertools.islice(Simulator(seed=seed, start=datetime(2026, 11, 27, 22, 30), rate=5).events(), count))
    produce(settings, [encode(event) for event in events])
    Collector(settings).run(drain=True)
    return events


def test_scheduled_runs_land_skip_fail_visibly_and_catch_up(pipeline: Settings, running_stack: Settings):
    first = simulate_and_collect(pipeline, 1500, seed=21)
    result, states = dag_test(pipeline, "2026-11-28T00:00:00+00:00")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert states["new_data"] == "success" and states["warehouse"] == "success"
    assert mart_rows(pipeline) == expected_events(first, company_of_job())

    result, states = dag_test(pipeline, "2026-11-28T00:01:00+00:00")  # nothing new: it waits, then gives up
    assert result.returncode == 0, result.stderr[-3000:]
    assert set(states.values()) == {"skipped"}, states

    second = simulate_and_collect(pipeline, 500, seed=22)
    mariadb = stack.service(pipeline, "mariadb")
    mariadb.process.stop()
    try:
        result, states = dag_test(pipeline, "2026-11-28T00:02:00+00:00")
        assert result.returncode != 0, "a run with MySQL (and the metastore it holds) down must fail"
        assert "failed" in states.values()
    finally:
        # MariaDB back with the stack's own accounts and grants, as `jobpulse stack up` makes them (the namespace's
        # settings would grant the pipeline account its database only), then the namespace's granted again
        stack.up(running_stack, say=lambda message: None)
        namespace.create(pipeline)
    with sqlite3.connect(AIRFLOW_HOME / "airflow.db") as database:
        (failed,) = database.execute(
            # this test's runs (of the 28th): another module's share this Airflow
            "SELECT COUNT(*) FROM dag_run WHERE dag_id = ? AND state = 'failed' AND logical_date LIKE '2026-11-28%'",
            (DAG_ID,),
        ).fetchone()
    assert failed == 1

    result, states = dag_test(pipeline, "2026-11-28T00:03:00+00:00")  # nothing new arrived: it catches up
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert states["warehouse"] == "success"
    assert mart_rows(pipeline) == expected_events(first + second, company_of_job())

    # a triggered reprocess of the 27th repairs what went wrong in MySQL there
    connection = mysql_connect(pipeline)
    connection.cursor().execute("UPDATE events SET clicks = clicks + 100 WHERE dates = '2026-11-27'")
    connection.commit()
    connection.close()
    assert mart_rows(pipeline) != expected_events(first + second, company_of_job())
    result, states = dag_test(pipeline, "2026-11-28T00:04:00+00:00", "--conf", '{"reprocess_from": "2026-11-27"}')
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert mart_rows(pipeline) == expected_events(first + second, company_of_job())

    connection = mysql_connect(pipeline)
    cursor = connection.cursor()
    cursor.execute("SELECT source, status FROM pipeline_runs WHERE source <> 'cli' ORDER BY started_at")
    assert cursor.fetchall() == [("airflow", "success")] * 2 + [("reprocess", "success")]
    connection.close()
