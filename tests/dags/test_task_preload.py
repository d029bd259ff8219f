"""The processes that fork Airflow's tasks load what the pipeline's tasks import, once (the scheduler and
Celery workers, through orchestration/airflow_local_settings.py); the others do not."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from jobpulse import demo, scheduling
from jobpulse.config import Settings
from jobpulse.scheduling import TASK_MODULES, preload_task_modules


def modules_loaded_by_the_local_settings(environment: dict[str, str], *command: str) -> set[str]:
    """What importing Airflow's local settings, as the `airflow <command>` process would, loads of TASK_MODULES."""
    script = (
        f"import sys, json; sys.argv = ['airflow', *{list(command)!r}]; import airflow_local_settings; "
        f"print(json.dumps([name for name in {list(TASK_MODULES)!r} if name in sys.modules]))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True, check=True, cwd="/"
    )
    return set(json.loads(completed.stdout.splitlines()[-1]))


@pytest.mark.parametrize("command", [("scheduler",), ("celery", "worker")])
def test_a_process_that_forks_tasks_loads_what_they_import(settings: Settings, command: tuple[str, ...]):
    assert modules_loaded_by_the_local_settings(demo.airflow_environment(settings), *command) == set(TASK_MODULES)


@pytest.mark.parametrize("command", [("api-server",), ("dag-processor",), ("tasks", "test")])
def test_the_other_airflow_processes_do_not(settings: Settings, command: tuple[str, ...]):
    assert "dbt.cli.main" not in modules_loaded_by_the_local_settings(demo.airflow_environment(settings), *command)


def test_no_airflow_process_warns_of_its_own_packaging(settings: Settings):
    """The standard provider's sensors import a moved name: a DAG with a sensor would warn in every task."""
    script = "import airflow_local_settings\nfrom airflow.sdk import task\ntask.sensor"
    environment = {**demo.airflow_environment(settings), "PYTHONWARNINGS": "default"}
    completed = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True, check=True, cwd="/"
    )
    assert "is deprecated" not in completed.stdout + completed.stderr


def test_a_scheduler_that_forks_no_task_loads_nothing():
    assert not preload_task_modules(["scheduler"], "CeleryExecutor")
    assert not preload_task_modules(["dag-processor"], "LocalExecutor")


def test_a_module_that_fails_to_load_is_left_to_the_tasks(monkeypatch: pytest.MonkeyPatch, caplog):
    monkeypatch.setattr(scheduling, "TASK_MODULES", ("jobpulse_no_such_module",))
    assert preload_task_modules(["celery", "worker"], "CeleryExecutor")
    assert "could not preload jobpulse_no_such_module" in caplog.text
