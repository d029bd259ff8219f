"""
### JobPulse checks

Every 30 minutes, beside `jobpulse_pipeline`: the freshness of the landing table and of the published facts,
and every data test of both dbt projects (grains, not-nulls, accepted values, reconciliations between
layers), one task per model's tests. Each model is shown as the task before its tests; `jobpulse_pipeline`
builds it (one dbt invocation per project, for freshness), so here it does nothing. The tests only read,
so they run safely beside the pipeline's writes; a failing test fails this DAG, not the pipeline.
Connections: `jobpulse_spark_thrift`, `jobpulse_mysql` (see jobpulse/scheduling.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task
from cosmos import DbtTaskGroup

from jobpulse import scheduling
from jobpulse.config import load_settings

settings = load_settings()


@dag(
    dag_id="jobpulse_checks",
    doc_md=__doc__,
    schedule=timedelta(minutes=30),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=25),
    tags=["jobpulse", "checks"],
    default_args={
        "retries": settings.task_retries,
        "retry_delay": timedelta(seconds=20),
        "retry_exponential_backoff": True,
        "execution_timeout": timedelta(minutes=10),
    },
)
def jobpulse_checks() -> None:
    @task(retries=0)
    def source_freshness() -> None:
        scheduling.source_freshness()

    lakehouse = DbtTaskGroup(
        group_id="lakehouse",
        project_config=scheduling.dbt_project_config(settings, "lakehouse"),
        profile_config=scheduling.lakehouse_profile(settings),
        execution_config=scheduling.execution_config(settings, "lakehouse"),
        render_config=scheduling.render_config("tag:lakehouse"),
    )
    warehouse = DbtTaskGroup(
        group_id="warehouse",
        project_config=scheduling.dbt_project_config(settings, "warehouse"),
        profile_config=scheduling.warehouse_profile(settings),
        execution_config=scheduling.execution_config(settings, "warehouse"),
        render_config=scheduling.render_config("tag:warehouse"),
    )

    source_freshness()
    lakehouse >> warehouse


jobpulse_checks()
