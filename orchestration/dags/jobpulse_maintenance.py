"""
### JobPulse lakehouse maintenance

Daily: compact the Delta tables' partitions before today into few large files, then vacuum the files no
version younger than 7 days needs (see jobpulse/maintenance.py for why, and why today's partitions are left
to the pipeline). Safe beside `jobpulse_pipeline`: compaction changes no data; a rare write conflict on a
partition a late event touched fails one side, which retries.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task

from jobpulse import scheduling


@dag(
    dag_id="jobpulse_maintenance",
    doc_md=__doc__,
    schedule="30 3 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["jobpulse", "maintenance"],
    default_args={
        "retries": 3,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
        "execution_timeout": timedelta(hours=1),
    },
)
def jobpulse_maintenance() -> None:
    @task
    def compact_and_vacuum() -> dict[str, tuple[int, int]]:
        return scheduling.maintain_lakehouse()

    compact_and_vacuum()


jobpulse_maintenance()
