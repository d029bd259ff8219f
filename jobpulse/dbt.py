"""Running JobPulse's two dbt projects, each on its own dbt.

- ``dbt_project/lakehouse`` (dbt-core 1.11, dbt-spark) runs in this process, through dbt's programmatic API.
- ``dbt_project/warehouse`` (dbt-mysql 1.7, whose last release pins dbt-core 1.7) runs as a subprocess of the
  dbt in its own virtualenv (`make setup` builds .venv-warehouse; JOBPULSE_DBT_WAREHOUSE_EXECUTABLE names it
  elsewhere): two dbt-cores cannot share a process or a virtualenv.

Both read their connections from the JOBPULSE_* settings (their profiles.yml's env_var()), and both install
their local packages (``dbt_project/common``; the lakehouse project also parses the warehouse one, for its
docs site's lineage) on first use.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from jobpulse.config import PROJECT_ROOT, Settings, environment, settings_in_environment
from jobpulse.errors import SetupMissing

DBT_PROJECTS = PROJECT_ROOT / "dbt_project"
LAKEHOUSE, WAREHOUSE = "lakehouse", "warehouse"
PROJECTS = (LAKEHOUSE, WAREHOUSE)
# dbt-spark checks a running statement every `poll_interval` seconds, a whole number (its profile schema refuses
# less than 1), so each statement lasts at least to the next whole second. A pipeline run sends about 40, most
# done in 0.1-0.6 s: about 7 s of a 20 s lakehouse step went to waiting for the next check. The pipeline's dbt
# (in this process) checks ten times a second, a negligible load on the Thrift server.
STATEMENT_POLL_SECONDS = 0.1

log = logging.getLogger(__name__)


class DbtFailure(RuntimeError):
    pass


def project_dir(project: str) -> Path:
    return DBT_PROJECTS / project


def target_path(project: str) -> Path:
    return project_dir(project) / "target"


def executable(settings: Settings, project: str) -> Path:
    """The dbt that runs ``project``: this virtualenv's for the lakehouse, the warehouse's own for MySQL."""
    return Path(sys.executable).parent / "dbt" if project == LAKEHOUSE else settings.dbt_warehouse_executable


def dbt(settings: Settings, command: list[str], project: str) -> object:
    """Run one dbt command on ``project``; raise DbtFailure (with dbt's own messages logged) if it fails."""
    arguments = _arguments(settings, command, project)
    if project == LAKEHOUSE:
        return _in_process(settings, arguments)
    return _start_subprocess(settings, executable(settings, project), arguments).wait()


def _arguments(settings: Settings, command: list[str], project: str) -> list[str]:
    """dbt's command line for ``command`` on ``project`` (whose local packages are installed first if missing)."""
    if not (project_dir(project) / "dbt_packages").is_dir() and command[:1] != ["deps"]:
        dbt(settings, ["deps"], project)
    return [
        "--quiet",  # errors only: `jobpulse run` reports the outcome itself
        *command,
        "--project-dir", str(project_dir(project)),
        "--profiles-dir", str(project_dir(project)),
    ]  # fmt: skip


def poll_statements_faster() -> None:
    """Make dbt-spark's Thrift connections check a running statement every STATEMENT_POLL_SECONDS (once per
    process; raises if dbt-spark no longer keeps the interval where this sets it)."""
    from dbt.adapters.spark.connections import PyhiveConnectionWrapper

    if getattr(PyhiveConnectionWrapper, "jobpulse_polls_faster", False):
        return
    original = PyhiveConnectionWrapper.__init__

    @functools.wraps(original)
    def init(self: PyhiveConnectionWrapper, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)
        if not isinstance(getattr(self, "poll_interval", None), int | float):
            raise RuntimeError("dbt-spark's PyhiveConnectionWrapper has no poll_interval: see poll_statements_faster")
        self.poll_interval = min(self.poll_interval, STATEMENT_POLL_SECONDS)

    PyhiveConnectionWrapper.__init__ = init  # type: ignore[method-assign]
    PyhiveConnectionWrapper.jobpulse_polls_faster = True  # type: ignore[attr-defined]


def _in_process(settings: Settings, arguments: list[str]) -> object:
    from dbt.cli.main import dbtRunner

    poll_statements_faster()
    try:
        with settings_in_environment(settings):
            result = dbtRunner().invoke(arguments)
    finally:
        release_adapters()
    if not result.success:
        raise DbtFailure(f"`dbt {' '.join(arguments)}` failed: {result.exception or 'see its log'}")
    return result.result


def release_adapters() -> None:
    """Free the adapters an in-process invocation registered. Each holds a lock of the spawn context, a named
    semaphore its finalizer unlinks; an Airflow task's process ends with os._exit, which runs no finalizer, and
    Python's resource tracker then logged every such semaphore as leaked, at error level, in every run."""
    import gc

    from dbt.adapters.factory import reset_adapters

    reset_adapters()
    gc.collect()


@dataclass(frozen=True)
class StartedDbt:
    """A dbt command running in a subprocess (see ``_start_subprocess``)."""

    process: subprocess.Popen[str]
    arguments: list[str]

    def wait(self) -> None:
        """Until it ends; raise DbtFailure (with dbt's own messages logged) if it failed. Interrupted (a task's
        timeout), it kills dbt first: none may outlive the task that started it and write after its retry."""
        try:
            output = "".join(self.process.communicate()).strip()
        except BaseException:
            self.stop()
            raise
        if self.process.returncode != 0:
            log.error("%s", output)
            raise DbtFailure(
                f"`dbt {' '.join(self.arguments)}` failed (exit {self.process.returncode}): {output[-2000:]}"
            )

    def stop(self) -> None:
        self.process.kill()
        self.process.communicate()


def _start_subprocess(settings: Settings, dbt_executable: Path, arguments: list[str]) -> StartedDbt:
    if not dbt_executable.exists():
        raise SetupMissing(f"the warehouse project's dbt ({dbt_executable}) does not exist")
    process = subprocess.Popen(
        [str(dbt_executable), *arguments],
        env={**os.environ, **environment(settings)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return StartedDbt(process, arguments)


def run_models(settings: Settings, project: str, variables: dict[str, str] | None = None) -> object:
    """A pipeline run's dbt work: the models tagged with the project's name (not the tables the pipeline's own
    steps write), in one invocation, without their tests. The data tests read whole tables, so their cost
    grows all day while a run's should follow its new data: the checks DAG runs them apart from the runs,
    as analysts' `dbt build` does."""
    return dbt(settings, _run_command(project, variables), project)


def _run_command(project: str, variables: dict[str, object] | None) -> list[str]:
    return ["run", "--select", f"tag:{project}", *(["--vars", json.dumps(variables)] if variables else [])]


def start_warehouse_models(settings: Settings, variables: dict[str, str] | None = None) -> StartedDbt:
    """The warehouse's ``run_models`` in the background, for a run that starts them beside its publish:
    dbt-mysql's start (1.5-2 s of imports and parsing) overlaps the copy. Only `events` stores data, and it
    reads the facts under the lock the publish holds until it committed (macros/facts_lock.sql); the others
    are views."""
    arguments = _arguments(settings, _run_command(WAREHOUSE, variables), WAREHOUSE)
    return _start_subprocess(settings, executable(settings, WAREHOUSE), arguments)


def freshness(settings: Settings, project: str) -> object:
    """The recency tests of the tables the ingest and the publish write (dbt's source freshness cannot see
    them: they are models, so that the lineage runs through those steps)."""
    return dbt(settings, ["test", "--select", f"tag:freshness,package:jobpulse_{project}"], project)


def parse(settings: Settings) -> dict[str, Path]:
    """Write each project's manifest, which the Airflow DAGs render from (Cosmos' LoadMode.DBT_MANIFEST);
    no database is needed."""
    for project in PROJECTS:
        dbt(settings, ["parse"], project)
    return {project: target_path(project) / "manifest.json" for project in PROJECTS}


def generate_docs(settings: Settings) -> dict[str, Path]:
    """Both docs sites: the lakehouse one draws the whole lineage, from the Cassandra raw log through the
    publish to the dashboards (it parses the warehouse project as a package, but has no MySQL catalog); the
    warehouse one has the MySQL tables' catalog."""
    for project in PROJECTS:
        dbt(settings, ["docs", "generate"], project)
    return {project: target_path(project) for project in PROJECTS}
