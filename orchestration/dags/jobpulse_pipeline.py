"""
### JobPulse pipeline

Continuously, one run after another: wait until something new arrived in Cassandra's raw log (`new_data`),
land it in the lakehouse (`ingest`), build the lakehouse dbt models (`lakehouse`), then publish the changed
facts to MySQL, build the MySQL models and record the run (`warehouse`). The collector (Kafka -> Cassandra)
runs beside Airflow as a service, not as a task.

Built for freshness: a run starts as the previous one ends (`@continuous`), its first task waits for new
data (polling Cassandra every couple of seconds) instead of a cron tick, and each project's models are
built by one dbt invocation rather than one task per model (an Airflow task costs about a second, a dbt
start-up two); for the same reason the serving side is one task. The data tests read whole tables, so their
cost grows all day: `jobpulse_checks` runs them, and shows each model and its tests as tasks.

Each step resumes from state committed with its data, so a failed run is completed by the next one; a run
that waited `JOBPULSE_PIPELINE_IDLE_WAIT` seconds for nothing ends skipped.

**Reprocess**: trigger a run with `reprocess_from` (and `reprocess_to`) to rebuild those event dates from the
raw log as well (jobpulse/reprocessing.py); `max_active_runs=1` keeps it apart from the scheduled runs.
Connections: `jobpulse_spark_thrift`, `jobpulse_mysql`, `jobpulse_cassandra` (see jobpulse/scheduling.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag, task

from jobpulse import failed_runs, scheduling
from jobpulse.config import load_settings

settings = load_settings()


@dag(
    dag_id="jobpulse_pipeline",
    doc_md=__doc__,
    schedule="@continuous",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=20),
    tags=["jobpulse", "pipeline"],
    on_failure_callback=[
        failed_runs.on_failure(settings),  # logged, and emailed to JOBPULSE_ALERT_EMAIL
        scheduling.record_run_failure,  # in pipeline_runs too when no task did (the run timed out)
    ],
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
        "on_success_callback": scheduling.record_task_success,  # each task's time joins the run's pipeline_runs row
        "on_failure_callback": scheduling.record_task_failure,  # and a task failing the run records it failed
    },
)
def jobpulse_pipeline() -> None:
    @task.sensor(
        poke_interval=scheduling.NEW_DATA_POLL_SECONDS,
        timeout=settings.pipeline_idle_wait,
        mode="poke",
        soft_fail=True,  # nothing new for a while: the run ends skipped, and the next one waits again
        retries=0,
        execution_timeout=timedelta(seconds=settings.pipeline_idle_wait + 60),
    )
    def new_data(params=None) -> bool:  # noqa: ANN001 - Airflow passes the run's params
        return scheduling.has_new_data(scheduling.reprocess_of(params))

    @task
    def ingest(params=None) -> int:  # noqa: ANN001
        return scheduling.ingest(scheduling.reprocess_of(params))

    @task
    def lakehouse(params=None) -> None:  # noqa: ANN001
        scheduling.build("lakehouse", scheduling.reprocess_of(params))

    @task
    def warehouse(events_landed: int, dag_run=None, params=None) -> None:  # noqa: ANN001 - from Airflow
        scheduling.warehouse(dag_run.run_id, dag_run.start_date, events_landed, scheduling.reprocess_of(params))

    landed = ingest()
    new_data() >> landed >> lakehouse() >> warehouse(landed)


jobpulse_pipeline()
