"""
### JobPulse pipeline

Every minute: if anything new arrived in Cassandra's raw log, land it in the lakehouse, build and test the
lakehouse dbt models, publish the changed facts to MySQL, build and test the MySQL models, record the run,
then check the freshness of the landing table and of the published facts. A run with nothing new (and nothing
left unfinished by an earlier run) is skipped at the first task. The collector (Kafka -> Cassandra) runs
beside Airflow as a service, not as a task.

Each step resumes from state committed with its data, so a failed run is completed by the next one.

**Reprocess**: trigger a run with `reprocess_from` (and `reprocess_to`) to rebuild those event dates from the
raw log as well (jobpulse/reprocessing.py); `max_active_runs=1` keeps it apart from the scheduled runs.
Connections: `jobpulse_spark_thrift`, `jobpulse_mysql`, `jobpulse_cassandra` (see jobpulse/scheduling.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag, task
from cosmos import DbtTaskGroup

from jobpulse import scheduling
from jobpulse.config import load_settings

settings = load_settings()


@dag(
    dag_id="jobpulse_pipeline",
    doc_md=__doc__,
    schedule=timedelta(minutes=1),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=20),
    tags=["jobpulse", "pipeline"],
    params={
        "reprocess_from": Param(None, type=["null", "string"], format="date", description="first event date"),
        "reprocess_to": Param(None, type=["null", "string"], format="date", description="last (default: first)"),
    },
    default_args={
        "retries": settings.task_retries,
        "retry_delay": timedelta(seconds=20),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=2),
        "execution_timeout": timedelta(minutes=10),
    },
)
def jobpulse_pipeline() -> None:
    @task.short_circuit(execution_timeout=timedelta(minutes=1), retries=0)
    def new_data_check(params=None) -> bool:  # noqa: ANN001 - Airflow passes the run's params
        return scheduling.has_new_data(scheduling.reprocess_of(params))

    @task
    def ingest(params=None) -> int:  # noqa: ANN001
        return scheduling.ingest(scheduling.reprocess_of(params))

    lakehouse = DbtTaskGroup(
        group_id="lakehouse",
        project_config=scheduling.dbt_project_config(settings, "lakehouse"),
        profile_config=scheduling.lakehouse_profile(settings),
        execution_config=scheduling.execution_config(settings, "lakehouse"),
        render_config=scheduling.render_config("tag:lakehouse"),
        operator_args={"execution_timeout": timedelta(minutes=10), "vars": scheduling.REPROCESS_VARS},
    )

    @task
    def publish(params=None) -> dict[str, int]:  # noqa: ANN001
        return scheduling.publish(scheduling.reprocess_of(params))

    warehouse = DbtTaskGroup(
        group_id="warehouse",
        project_config=scheduling.dbt_project_config(settings, "warehouse"),
        profile_config=scheduling.warehouse_profile(settings),
        execution_config=scheduling.execution_config(settings, "warehouse"),
        render_config=scheduling.render_config("tag:warehouse"),
        operator_args={"execution_timeout": timedelta(minutes=10), "vars": scheduling.REPROCESS_VARS},
    )

    @task
    def record_run(events_landed: int, dag_run=None, params=None) -> None:  # noqa: ANN001 - from Airflow
        scheduling.record_run(dag_run.run_id, dag_run.start_date, events_landed, scheduling.reprocess_of(params))

    @task(retries=0)
    def source_freshness() -> None:
        scheduling.source_freshness()

    landed = ingest()
    new_data_check() >> landed >> lakehouse >> publish() >> warehouse
    warehouse >> record_run(landed) >> source_freshness()


jobpulse_pipeline()
