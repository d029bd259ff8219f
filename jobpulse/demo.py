"""`make demo`: the whole system working on this machine. The local stack, the collector and a steady simulator
as services, Airflow in standalone mode running the `jobpulse_pipeline` DAG continuously (and `jobpulse_checks`),
and the dbt docs sites.
`make demo-down` stops every process it started, by PID file.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from jobpulse.config import PROJECT_ROOT, Settings
from jobpulse.stack.process import ManagedProcess, ServiceError, wait_until

AIRFLOW_PORT = 8080
DOCS_PORTS = {"lakehouse": 8081, "warehouse": 8082}  # the dbt projects' docs sites
DOCS_PROCESSES = {"lakehouse": "dbt-docs", "warehouse": "dbt-docs-warehouse"}
DOCS_NAMES = {
    "lakehouse": "JobPulse dbt docs: the whole lineage",
    "warehouse": "JobPulse dbt docs: the MySQL warehouse",
}
DAG_ID = "jobpulse_pipeline"
SCHEDULER_IDLE_SLEEP_SECONDS = "0.25"  # compose's Airflow has the same (tests/deploy/test_compose.py)
CHECKS_DAG_ID = "jobpulse_checks"
JOBPULSE = [sys.executable, "-m", "jobpulse.cli"]
# what `up` starts, in the order `down` stops them
PROCESSES = ("airflow", "simulator", "collector", *DOCS_PROCESSES.values())


def managed_process(settings: Settings, name: str) -> ManagedProcess:
    return ManagedProcess(
        name=name,
        pid_file=settings.state_dir / "run" / f"{name}.pid",
        log_file=settings.state_dir / "logs" / f"{name}.log",
    )


def airflow_home(settings: Settings) -> Path:
    return settings.state_dir / "airflow"


def airflow_environment(settings: Settings) -> dict[str, str]:
    """Airflow configured for this machine: two cores, no examples, no telemetry, the stack's connections."""
    from jobpulse.dbt import PROJECTS, target_path
    from jobpulse.scheduling import connection_uris

    return {
        **os.environ,
        **connection_uris(settings),
        # `airflow standalone` starts its components as `airflow ...` from PATH: this virtualenv's first
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        "AIRFLOW_HOME": str(airflow_home(settings)),
        # orchestration/airflow_local_settings.py: the scheduler loads what the tasks it forks import
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT / "orchestration"), os.getenv("PYTHONPATH")])),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "orchestration" / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "2",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(AIRFLOW_PORT),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "30",
        # an idle scheduler loop sleeps this long (default 1 s) before it sees a finished task or run and
        # starts the next: up to a second per handoff, four handoffs in every pipeline run
        "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": SCHEDULER_IDLE_SLEEP_SECONDS,
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        # the Airflow 3 asset URI form, which Cosmos uses on Airflow 3 anyway: confirmed, it stops warning of it
        "AIRFLOW__COSMOS__ENABLE_DATASET_AIRFLOW3_URI": "True",
        # Cosmos' plugin: both dbt docs sites in the Airflow UI, under Browse > "JobPulse dbt docs: ..."
        "AIRFLOW__COSMOS__DBT_DOCS_PROJECTS": json.dumps(
            {
                project: {"dir": str(target_path(project)), "index": "index.html", "name": DOCS_NAMES[project]}
                for project in PROJECTS
            }
        ),
        "NO_PROXY": "*",
    }


def _airflow(settings: Settings, *arguments: str) -> str:
    import subprocess

    result = subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), *arguments],
        env=airflow_environment(settings),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        raise ServiceError(f"airflow {' '.join(arguments)} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return result.stdout


def _http_ok(url: str) -> None:
    with urllib.request.urlopen(url, timeout=5) as response:
        if response.status != 200:
            raise ServiceError(f"{url} answered {response.status}")


def start_collector(settings: Settings, say: Callable[[str], None] = print) -> None:
    """The collector as a service of its own, unless it runs already (settings from the environment)."""
    _start(managed_process(settings, "collector"), [*JOBPULSE, "collect"], dict(os.environ), say)


def _start(process: ManagedProcess, command: list[str], env: dict[str, str], say: Callable[[str], None]) -> None:
    if process.pid is None:
        process.start(command, env=env, cwd=PROJECT_ROOT)
        say(f"{process.name}: started (PID {process.pid}), log {process.log_file}")


def up(
    settings: Settings,
    *,
    rate: float,
    say: Callable[[str], None] = print,
    dags: tuple[str, ...] = (DAG_ID, CHECKS_DAG_ID),
    simulate: bool = True,
    docs: bool = True,
) -> None:
    """Everything `make demo` runs, with the DAGs ``dags`` unpaused; without ``simulate``, no simulator (the
    caller sends its own traffic), without ``docs`` no dbt docs sites."""
    from jobpulse import dbt, stack

    stack.up(settings, say=say)
    say("dbt: writing both projects' manifests (the DAGs render from them)" + (" and docs sites" if docs else ""))
    dbt.parse(settings)
    sites = dbt.generate_docs(settings) if docs else {}
    env = dict(os.environ)
    start_collector(settings, say)
    if simulate:
        _start(
            managed_process(settings, "simulator"), [*JOBPULSE, "simulate", "--rate", str(rate), "--quiet"], env, say
        )
    for project, port in DOCS_PORTS.items() if docs else ():
        _start(managed_process(settings, DOCS_PROCESSES[project]), [sys.executable, "-m", "http.server", str(port),
               "--bind", "127.0.0.1", "--directory", str(sites[project])], env, say)  # fmt: skip

    airflow = managed_process(settings, "airflow")
    if airflow.pid is None:
        _airflow(settings, "db", "migrate")
        _start(
            airflow, [str(Path(sys.executable).parent / "airflow"), "standalone"], airflow_environment(settings), say
        )
    wait_until(lambda: _http_ok(f"http://127.0.0.1:{AIRFLOW_PORT}/api/v2/monitor/health"), process=airflow,
               timeout=240, waiting="airflow: waiting for its API server to answer")  # fmt: skip
    for dag_id in dags:  # the DAG exists once the DAG processor has parsed its file
        wait_until(lambda dag_id=dag_id: _airflow(settings, "dags", "unpause", dag_id), process=airflow, timeout=240,
                   interval=5, waiting=f"airflow: waiting for {dag_id} to be parsed, to unpause it")  # fmt: skip
    say(f"Airflow:   http://127.0.0.1:{AIRFLOW_PORT}  (user admin, password in {_password_file(settings)})")
    for project, port in DOCS_PORTS.items() if docs else ():
        say(f"dbt docs ({project}):  http://127.0.0.1:{port}")
    say(f"DAGs unpaused: {', '.join(dags)} ({DAG_ID} runs continuously); `make demo-down` stops everything")


def _password_file(settings: Settings) -> Path:
    return airflow_home(settings) / "simple_auth_manager_passwords.json.generated"


def text_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """``rows`` under their column names, as aligned plain-text lines: a column of numbers aligned right (so their
    digits line up), any other column left; NULL for None, every other value as its text (``str``)."""
    cells = [["NULL" if value is None else str(value) for value in row] for row in rows]
    numeric = [
        all(isinstance(row[index], int | float | Decimal) for row in rows if row[index] is not None)
        for index in range(len(columns))
    ]
    widths = [
        max(len(text) for text in (column, *(row[index] for row in cells))) for index, column in enumerate(columns)
    ]

    def line(texts: Sequence[str]) -> str:
        return "  ".join(
            text.rjust(width) if right else text.ljust(width)
            for text, width, right in zip(texts, widths, numeric, strict=True)
        ).rstrip()

    return [line(columns), line(["-" * width for width in widths]), *(line(row) for row in cells)]


def wait_for_rows(settings: Settings, timeout: float, say: Callable[[str], None] = print) -> None:
    """Wait until `events` has rows, then show a few of them."""
    from jobpulse.clients import mysql_connect
    from jobpulse.progress import Progress

    deadline = time.monotonic() + timeout
    waiting = Progress(f"waiting for the first run of {DAG_ID} to fill data_warehouse.events", counted=False)
    while time.monotonic() < deadline:
        waiting.tick()
        connection = mysql_connect(settings)
        cursor = connection.cursor()
        try:
            cursor.execute(
                "SELECT job_id, dates, hours, publisher_id, clicks, spend_hour, conversion, company_id, "
                "latest_update_time FROM events ORDER BY latest_update_time DESC, clicks DESC LIMIT 5"
            )
            rows = cursor.fetchall()
            columns = [column[0] for column in cursor.description]
        except Exception:  # the table appears with the first successful run
            rows = []
        finally:
            connection.close()
        if rows:
            waiting.close()
            say("latest rows of data_warehouse.events:")
            for line in text_table(columns, rows):
                say("  " + line)
            return
        time.sleep(10)
    waiting.close()
    say(f"no rows in events after {timeout:.0f}s yet: see the Airflow UI and .stack/logs/airflow.log")


def stop_processes(settings: Settings, names: tuple[str, ...] = PROCESSES, say: Callable[[str], None] = print) -> None:
    """Stop the demo's own processes (by PID file), leaving the stack up."""
    for name in names:
        process = managed_process(settings, name)
        pid = process.pid
        if process.stop(timeout=30):
            say(f"{name}: stopped (PID {pid})")


def down(settings: Settings, say: Callable[[str], None] = print) -> None:
    from jobpulse import stack

    stop_processes(settings, say=say)
    stack.down(settings, say=say)
