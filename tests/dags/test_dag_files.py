"""The DAG files: they import cleanly, and the pipeline's task graph reads like the pipeline."""

from __future__ import annotations

import warnings
from datetime import timedelta
from pathlib import Path

from jobpulse.config import PROJECT_ROOT


def test_every_dag_file_imports_without_errors_or_warnings_from_our_code(manifests):
    from airflow.dag_processing.dagbag import DagBag

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bag = DagBag(dag_folder=str(PROJECT_ROOT / "orchestration" / "dags"))
    assert bag.import_errors == {}
    ours = [w for w in caught if any(part in str(w.filename) for part in ("/orchestration/", "/jobpulse/", "/ingest/"))]
    assert ours == [], [str(w.message) for w in ours]
    assert "jobpulse_pipeline" in bag.dags


def test_every_dag_has_tags_retries_and_timeouts(dagbag):
    for dag in dagbag.dags.values():
        assert dag.tags, dag.dag_id
        assert dag.max_active_runs == 1 and dag.catchup is False, dag.dag_id
        for task in dag.tasks:
            assert task.execution_timeout is not None and task.execution_timeout <= timedelta(hours=1), task
        assert any(task.retries > 0 for task in dag.tasks), dag.dag_id


def test_the_pipeline_runs_every_minute_in_the_pipeline_order(dagbag):
    dag = dagbag.dags["jobpulse_pipeline"]
    assert dag.timetable.delta == timedelta(minutes=1)

    def downstream(task_id: str) -> set[str]:
        return dag.task_dict[task_id].downstream_task_ids

    assert downstream("new_data_check") == {"ingest"}
    lakehouse = {task_id for task_id in dag.task_dict if task_id.startswith("lakehouse.")}
    warehouse = {task_id for task_id in dag.task_dict if task_id.startswith("warehouse.")}
    # ingest also feeds record_run the number of rows it landed
    assert downstream("ingest") - {"record_run"} <= lakehouse and downstream("ingest") & lakehouse
    assert "publish" in set().union(*(downstream(task_id) for task_id in lakehouse))
    assert downstream("publish") <= warehouse and downstream("publish")
    assert "record_run" in set().union(*(downstream(task_id) for task_id in warehouse))
    assert downstream("record_run") == {"source_freshness"}

    order = [task.task_id for task in dag.topological_sort()]
    staged, classified, facts = (
        order.index(f"lakehouse.{model}_model_build")  # each model built and tested in one task
        for model in ("stg_datalake__tracking", "int_tracking__classified", "fct_job_hourly")
    )
    reconciled = order.index("lakehouse.fct_job_hourly_reconciles_with_classified_events_test")
    mart = order.index("warehouse.events_model_build")
    assert staged < classified < facts < reconciled < order.index("publish") < mart < order.index("record_run")


def test_the_pipeline_takes_reprocess_dates_and_hands_them_to_every_dbt_task(dagbag):
    dag = dagbag.dags["jobpulse_pipeline"]
    assert set(dag.params.keys()) == {"reprocess_from", "reprocess_to"}
    dbt_tasks = [task for task in dag.tasks if task.task_id.startswith(("lakehouse.", "warehouse."))]
    assert dbt_tasks and all(
        set(task.vars) == {"jobpulse__reprocess_from", "jobpulse__reprocess_to"} for task in dbt_tasks
    )


def test_each_dbt_task_group_runs_its_projects_own_dbt(dagbag, settings):
    """The lakehouse tasks run dbt 1.11 from this virtualenv, without the unit tests; the warehouse tasks run
    dbt-mysql's dbt 1.7 from its own virtualenv, as a subprocess (in-process, Cosmos would call 1.11)."""
    from cosmos.constants import InvocationMode

    from jobpulse import dbt

    dag = dagbag.dags["jobpulse_pipeline"]
    for project in dbt.PROJECTS:
        tasks = [task for task in dag.tasks if task.task_id.startswith(f"{project}.")]
        assert tasks, project
        for task in tasks:
            assert Path(task.dbt_executable_path) == dbt.executable(settings, project)
            assert Path(task.project_dir) == dbt.project_dir(project)
            assert ("DBT_EXCLUDE_RESOURCE_TYPES" in task.env) == (project == dbt.LAKEHOUSE)
            in_subprocess = task.invocation_mode == InvocationMode.SUBPROCESS
            assert in_subprocess == (project == dbt.WAREHOUSE)


def test_lakehouse_maintenance_runs_daily_outside_the_pipeline(dagbag):
    dag = dagbag.dags["jobpulse_maintenance"]
    assert [task.task_id for task in dag.tasks] == ["compact_and_vacuum"]
    assert dag.timetable.expression == "30 3 * * *"
