"""What the Airflow DAGs call: settings from Airflow connections, the Cosmos configuration of the dbt
project, and the pipeline steps as plain functions (the DAG files only wire them).

Connections (the same names in every deployment; `AIRFLOW_CONN_<ID>` URIs in the environment), each of a type
of an installed provider, so the Airflow UI shows its form and hook:

- ``jobpulse_spark_thrift`` (type hiveserver2): the Spark Thrift server, which speaks HiveServer2's protocol, for
  dbt on the lakehouse (Cosmos' Spark Thrift profile mapping, named explicitly, reads its host and port);
- ``jobpulse_mysql`` (type mysql): the serving database, for dbt on MySQL and the publish step;
- ``jobpulse_cassandra`` (type cassandra): the raw log, for the ingest.

What a connection does not say (topics, database names, lags) comes from the JOBPULSE_* settings.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from pydantic import ValidationError

from jobpulse.config import Settings, addresses, load_settings

if TYPE_CHECKING:
    from airflow.sdk import Connection
    from cosmos import ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig

    from jobpulse.pipeline import RunReport
    from jobpulse.reprocessing import DateRange

log = logging.getLogger(__name__)

SPARK_CONN, MYSQL_CONN, CASSANDRA_CONN = "jobpulse_spark_thrift", "jobpulse_mysql", "jobpulse_cassandra"


def connection_uris(settings: Settings) -> dict[str, str]:
    """`AIRFLOW_CONN_*` variables describing the stack of ``settings``: what `make demo` exports, and what
    `jobpulse with-connections` (the compose deployment's Airflow entrypoint) starts its command with."""
    password = quote(settings.mysql_password, safe="")
    cassandra_login = f"{quote(settings.cassandra_user, safe='')}:{quote(settings.cassandra_password, safe='')}"
    return {
        f"AIRFLOW_CONN_{SPARK_CONN.upper()}": f"hiveserver2://{settings.spark_thrift_host}:{settings.spark_thrift_port}",
        f"AIRFLOW_CONN_{MYSQL_CONN.upper()}": (
            f"mysql://{quote(settings.mysql_user, safe='')}:{password}@{settings.mysql_host}:{settings.mysql_port}"
            f"/{settings.mysql_database}"
        ),
        f"AIRFLOW_CONN_{CASSANDRA_CONN.upper()}": (
            f"cassandra://{cassandra_login}@{','.join(settings.cassandra_hosts)}:{settings.cassandra_port}"
            f"/{settings.cassandra_keyspace}"
        ),
    }


def settings_from_connections() -> Settings:
    """JOBPULSE_* settings, with hosts, ports and credentials taken from the Airflow connections that exist."""
    settings = load_settings()
    if (spark := connection(SPARK_CONN)) is not None:
        settings = overridden(
            settings,
            SPARK_CONN,
            spark_thrift_host=spark.host or settings.spark_thrift_host,
            spark_thrift_port=spark.port or settings.spark_thrift_port,
        )
    if (mysql := connection(MYSQL_CONN)) is not None:
        settings = overridden(
            settings,
            MYSQL_CONN,
            mysql_host=mysql.host or settings.mysql_host,
            mysql_port=mysql.port or settings.mysql_port,
            mysql_user=mysql.login or settings.mysql_user,
            mysql_password=mysql.password or settings.mysql_password,
            mysql_database=mysql.schema or settings.mysql_database,
        )
    if (cassandra := connection(CASSANDRA_CONN)) is not None:
        settings = overridden(
            settings,
            CASSANDRA_CONN,
            # the cassandra provider's convention: the host field holds the contact points, comma-separated
            cassandra_hosts=addresses(cassandra.host or "") or settings.cassandra_hosts,
            cassandra_port=cassandra.port or settings.cassandra_port,
            cassandra_user=cassandra.login or settings.cassandra_user,
            cassandra_password=cassandra.password or settings.cassandra_password,
            cassandra_keyspace=cassandra.schema or settings.cassandra_keyspace,
        )
    return settings


def connection(conn_id: str) -> Connection | None:
    """The Airflow connection ``conn_id``, or None where the deployment defines none (the JOBPULSE_* settings
    stand). Any other failure to read it raises: a task must not quietly run against the settings' defaults."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        refuse_unreadable_variable(conn_id)
        return None


def refuse_unreadable_variable(conn_id: str) -> None:
    """Airflow reports a connection variable it cannot parse as a connection not defined (logging why only at
    debug level): parse it again for the reason."""
    from airflow.secrets.environment_variables import CONN_ENV_PREFIX, EnvironmentVariablesBackend

    variable = CONN_ENV_PREFIX + conn_id.upper()
    value = os.environ.get(variable)
    if not value:
        return
    try:
        EnvironmentVariablesBackend().get_connection(conn_id)
    except Exception as error:  # its message may quote a part of the value, a password's perhaps
        raise ValueError(f"{variable} is not an Airflow connection URI or JSON ({type(error).__name__})") from None


def overridden(settings: Settings, conn_id: str, **values: Any) -> Settings:
    try:
        return dataclasses.replace(settings, **values)
    except ValidationError as error:  # said of the connection: the settings' own variables are not at fault
        refused = "; ".join(f"{detail['loc'][0]}: {detail['msg']}" for detail in error.errors())
        raise ValueError(f"the Airflow connection {conn_id!r} holds a value the settings refuse: {refused}") from None


# -- Cosmos -----------------------------------------------------------------------------------------------------


def dbt_project_config(settings: Settings, project: str) -> ProjectConfig:
    from cosmos import ProjectConfig

    from jobpulse.dbt import LAKEHOUSE, project_dir, target_path

    return ProjectConfig(
        dbt_project_path=project_dir(project),
        manifest_path=target_path(project) / "manifest.json",
        install_dbt_deps=False,  # local packages only, installed by `jobpulse docs --manifest-only`
        env_vars={  # names, not secrets: the sources' schemas; a task builds no unit test (see jobpulse.dbt)
            **({"DBT_EXCLUDE_RESOURCE_TYPES": "unit_test"} if project == LAKEHOUSE else {}),
            "JOBPULSE_LAKEHOUSE_DATABASE": settings.lakehouse_database,
            "JOBPULSE_CASSANDRA_KEYSPACE": settings.cassandra_keyspace,
            "JOBPULSE_DBT_LAKEHOUSE_SCHEMA": settings.dbt_lakehouse_schema,
            "JOBPULSE_MYSQL_DATABASE": settings.mysql_database,
        },
    )


def lakehouse_profile(settings: Settings) -> ProfileConfig:
    from cosmos import ProfileConfig
    from cosmos.profiles.spark.thrift import SparkThriftProfileMapping

    return ProfileConfig(
        profile_name="jobpulse_lakehouse",
        target_name="lakehouse",
        profile_mapping=SparkThriftProfileMapping(
            conn_id=SPARK_CONN,
            profile_args={"schema": settings.dbt_lakehouse_schema, "user": "jobpulse", "threads": 2},
        ),
    )


def warehouse_profile(settings: Settings) -> ProfileConfig:
    from cosmos import ProfileConfig
    from cosmos.profiles.mysql.user_pass import MysqlUserPasswordProfileMapping

    return ProfileConfig(
        profile_name="jobpulse_warehouse",
        target_name="warehouse",
        profile_mapping=MysqlUserPasswordProfileMapping(
            conn_id=MYSQL_CONN,
            profile_args={"schema": settings.mysql_database, "charset": "utf8mb4", "collation": "utf8mb4_general_ci"},
        ),
    )


def render_config(selector: str) -> RenderConfig:
    """The checks DAG's view of the selected models, from the prebuilt manifest (no dbt call at DAG parse
    time): per model, a task standing for the model, which the pipeline builds, then a task running its
    data tests. A test spanning two models (a reconciliation) runs in a task of its own after both."""
    from cosmos import RenderConfig
    from cosmos.constants import DbtResourceType, LoadMode, TestBehavior

    return RenderConfig(
        load_method=LoadMode.DBT_MANIFEST,
        select=[selector],
        test_behavior=TestBehavior.AFTER_EACH,
        should_detach_multiple_parents_tests=True,
        node_converters={DbtResourceType.MODEL: built_by_the_pipeline},
        node_conversion_by_task_group=False,  # convert the model's task, keep its tests' task
    )


def built_by_the_pipeline(dag: Any, task_group: Any, node: Any, task_id: str, **_: Any) -> Any:
    """A model's task in the checks DAG: a marker, since `jobpulse_pipeline` builds every model."""
    from airflow.providers.standard.operators.empty import EmptyOperator

    return EmptyOperator(
        dag=dag, task_group=task_group, task_id=task_id, doc_md=f"`{node.unique_id}`: built by jobpulse_pipeline"
    )


def execution_config(settings: Settings, project: str) -> ExecutionConfig:
    """Each project on its own dbt: 1.11 in this virtualenv for the lakehouse (Cosmos calls it in the task's
    process), dbt-mysql 1.7 in its own for the warehouse (a subprocess: Cosmos would otherwise call the dbt
    it can import, this virtualenv's, which has no MySQL adapter)."""
    from cosmos import ExecutionConfig
    from cosmos.constants import InvocationMode

    from jobpulse.dbt import WAREHOUSE, executable

    mode = InvocationMode.SUBPROCESS if project == WAREHOUSE else InvocationMode.DBT_RUNNER
    return ExecutionConfig(dbt_executable_path=executable(settings, project), invocation_mode=mode)


# -- the tasks' processes ---------------------------------------------------------------------------------------

# What the pipeline's tasks import. Airflow forks each task from its worker, which its executor forked (the
# scheduler's LocalExecutor, a Celery worker's pool): imported there once, they cost a task nothing, where a
# task importing them itself spends 1.5-2 s on dbt alone, in every run (see orchestration/airflow_local_settings.py).
TASK_MODULES = (
    "dbt.cli.main",
    "dbt.adapters.spark.connections",
    "dbt.adapters.spark.impl",
    "ingest.spark.ingest_job",
    "cassandra.cluster",
    "jobpulse.clients",
    "jobpulse.pipeline",
    "jobpulse.publish",
)
FORKING_COMMANDS = (("scheduler",), ("celery", "worker"))  # the Airflow commands whose processes may fork tasks


def preload_task_modules(arguments: list[str], executor: str) -> bool:
    """Import TASK_MODULES if ``arguments`` (an `airflow` command line's, after the program) start a process
    that forks tasks: a Celery worker, or the scheduler of a LocalExecutor. Returns whether it did; a module
    that fails to import is left to the tasks (which report it), not allowed to stop the scheduler."""
    import importlib

    forks = any(tuple(arguments[: len(command)]) == command for command in FORKING_COMMANDS)
    if not forks or (arguments[:1] == ["scheduler"] and executor != "LocalExecutor"):
        return False
    for name in TASK_MODULES:
        try:
            importlib.import_module(name)
        except Exception:
            log.warning("could not preload %s for the tasks (each task imports it itself)", name, exc_info=True)
    return True


# -- steps ------------------------------------------------------------------------------------------------------


def reprocess_of(params: dict[str, Any]) -> DateRange | None:
    """The dates a manually triggered run rebuilds (params ``reprocess_from``, ``reprocess_to``), if any."""
    from jobpulse.reprocessing import DateRange

    first = params.get("reprocess_from")
    return DateRange.parse(first, params.get("reprocess_to")) if first else None


NEW_DATA_POLL_SECONDS = 2  # how often a waiting run asks Cassandra (one small read per arrival minute and shard)


def has_new_data(reprocess: DateRange | None = None) -> bool:
    """The cheap check (no Spark) that lets a run skip everything: nothing new arrived in the raw log, and
    everything landed so far has been carried into `events` by a successful run (else a run that failed
    half-way would never be completed until new events came). A reprocess always runs."""
    from ingest.spark.ingest_job import has_new_arrivals_now
    from jobpulse.pipeline import landed_through, last_completed_batch

    if reprocess is not None:
        return True
    settings = settings_from_connections()
    if has_new_arrivals_now(settings):
        return True
    landed = landed_through(settings)
    return landed is not None and landed != last_completed_batch(settings)


def ingest(reprocess: DateRange | None = None) -> int:
    """Land the new arrivals (and a reprocess's missing events); returns the rows landed."""
    from ingest.spark.ingest_job import run

    return sum(position.rows or 0 for position in run(settings_from_connections(), reprocess=reprocess))


def build(project: str, reprocess: DateRange | None = None) -> None:
    """A run's dbt work on ``project``: every model it owns in one dbt invocation (see jobpulse.dbt.run_models)."""
    from jobpulse import dbt

    dbt.run_models(settings_from_connections(), project, reprocess.dbt_vars() if reprocess is not None else None)


def source_freshness() -> None:
    """The freshness checks of the landing table and the MySQL copy of the facts; fails the task if stale."""
    from jobpulse import dbt

    settings = settings_from_connections()
    for project in dbt.PROJECTS:
        dbt.freshness(settings, project)


def publish_and_build_warehouse(settings: Settings, reprocess: DateRange | None = None) -> dict[str, float]:
    """The publish and the warehouse's models, whose dbt starts as soon as the publish holds the facts lock:
    its start-up overlaps the copy, and `events` waits for the copy to commit. A failed publish stops it.
    Returns the seconds of each, as the CLI names them (dbt's: what it took after the publish)."""
    from jobpulse import dbt
    from jobpulse.publish import publish

    variables = reprocess.dbt_vars() if reprocess is not None else None
    started: list[dbt.StartedDbt] = []

    def start_models() -> None:
        started.append(dbt.start_warehouse_models(settings, variables))

    began = time.monotonic()
    try:
        publish(settings, reprocess, when_locked=start_models)
    except Exception:
        # rolled back: dbt builds on the facts as they were (killing it could leave a view half replaced)
        for models in started:
            try:
                models.wait()
            except Exception:
                log.exception("the warehouse models started beside the failed publish failed too")
        raise
    except BaseException:  # interrupted (a task's timeout): nothing it started outlives it
        for models in started:
            models.stop()
        raise
    published = time.monotonic()
    started[0].wait()
    return {"publish": round(published - began, 2), "dbt warehouse": round(time.monotonic() - published, 2)}


def warehouse(run_id: str, started_at: datetime, events_landed: int, reprocess: DateRange | None = None) -> None:
    """A run's serving side, in one task (an Airflow task costs about a second of a run): publish the changed
    facts to MySQL, build the warehouse models, and record the run's success in `pipeline_runs` (what the
    pipeline-health dashboard reads) with the time of each, as the CLI names them. Each part resumes from
    committed state, so a retry redoes only what did not commit."""
    from jobpulse.pipeline import cells_changed_since, landed_through, record

    settings = settings_from_connections()
    report = scheduled_run(run_id, started_at, reprocess)
    report.events_landed = events_landed
    report.step_seconds.update(publish_and_build_warehouse(settings, reprocess))
    report.cells_changed = cells_changed_since(settings, started_at)  # the run's: a retry's too
    report.landed_through_batch = landed_through(settings)
    record(settings, report, "success")


# -- the run's record -------------------------------------------------------------------------------------------
# Each task of a pipeline run that ends adds its time (from its task instance's start and end) to the run's
# `pipeline_runs` row, in one small write from its own callback; the warehouse task, which ends a successful run,
# records its parts and the outcome itself. A task that fails the run (its retries spent) records the failure.

STEP_OF_TASK = {"new_data": "wait for new data", "lakehouse": "dbt lakehouse"}  # else the task id, e.g. "ingest"
RECORDS_ITSELF = "warehouse"


def scheduled_run(run_id: str, started_at: datetime, reprocess: DateRange | None) -> RunReport:
    """A scheduled run's report, its counts not known yet (the collector's never: it runs as a service)."""
    from jobpulse.pipeline import RunReport

    return RunReport(
        run_id,
        started_at,
        events_collected=None,
        events_dead_lettered=None,
        events_landed=None,
        cells_changed=None,
        source="airflow" if reprocess is None else "reprocess",
    )


def task_report(context: Mapping[str, Any]) -> RunReport:
    """The run of a task's callback ``context``, with that task's step: its name and seconds."""
    dag_run, task = context["dag_run"], context["ti"]
    report = scheduled_run(dag_run.run_id, dag_run.start_date, reprocess_of(context["params"]))
    seconds = ((task.end_date or datetime.now(UTC)) - task.start_date).total_seconds()
    report.step_seconds[STEP_OF_TASK.get(task.task_id, task.task_id)] = round(seconds, 2)
    return report


def failure_of(context: Mapping[str, Any]) -> str:
    error = context.get("exception")
    return f"{type(error).__name__}: {error}" if error else f"task {context['ti'].task_id} failed"


def record_task_success(context: Mapping[str, Any]) -> None:
    """A pipeline task's ``on_success_callback``: its time joins its run's row."""
    from jobpulse.pipeline import record_step

    if context["ti"].task_id != RECORDS_ITSELF:
        recorded(lambda settings: record_step(settings, task_report(context)), context)


def record_task_failure(context: Mapping[str, Any]) -> None:
    """A pipeline task's ``on_failure_callback`` (its retries spent, so the run fails): the run is recorded as
    failed, with the error and the task's time."""
    from jobpulse.pipeline import record

    recorded(lambda settings: record(settings, task_report(context), "failed", failure_of(context)), context)


def record_run_failure(context: Mapping[str, Any]) -> None:
    """The pipeline DAG's ``on_failure_callback`` (run by the DAG processor, after the run ended): a run its
    tasks left recorded running, such as one that outlived its ``dagrun_timeout``, is recorded failed."""
    from jobpulse.pipeline import record_ended

    reason = context.get("reason") or "failed"
    recorded(lambda settings: record_ended(settings, context["run_id"], f"the run failed: {reason}"), context)


def recorded(write: Callable[[Settings], None], context: Mapping[str, Any]) -> None:
    """Make ``write``, logging a failure (MySQL may be why the task failed): it must not hide the task's outcome."""
    try:
        write(settings_from_connections())
    except Exception:
        log.exception("could not record run %s in pipeline_runs", context["run_id"])


def maintain_lakehouse() -> dict[str, tuple[int, int]]:
    """The daily compaction and vacuum; returns each table's files (before, after)."""
    from jobpulse.maintenance import maintain

    return maintain(settings_from_connections())
