"""The DAG files: they import cleanly, and the pipeline's task graph reads like the pipeline."""

from __future__ import annotations

import itertools
import json
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


def test_the_pipeline_runs_continuously_in_the_pipeline_order(dagbag, settings):
    from airflow.sdk.definitions.timetables.simple import ContinuousTimetable

    dag = dagbag.dags["jobpulse_pipeline"]
    assert isinstance(dag.timetable, ContinuousTimetable) and dag.max_active_runs == 1
    order = [task.task_id for task in dag.topological_sort()]
    assert order == ["new_data", "ingest", "lakehouse", "warehouse"]
    for earlier, later in itertools.pairwise(order):
        assert later in dag.task_dict[earlier].downstream_task_ids
    # the first task waits for data rather than ending the run, and gives up (skipped) after the idle wait
    waiting = dag.task_dict["new_data"]
    assert waiting.mode == "poke" and waiting.soft_fail and waiting.timeout == settings.pipeline_idle_wait
    assert waiting.poke_interval <= 5


def test_the_pipeline_takes_reprocess_dates(dagbag):
    dag = dagbag.dags["jobpulse_pipeline"]
    assert set(dag.params.keys()) == {"reprocess_from", "reprocess_to"}


def test_the_checks_dag_shows_every_model_and_runs_its_tests_with_its_projects_own_dbt(dagbag, settings):
    """Each model is a task (built by the pipeline: a marker here) followed by its tests' task; the lakehouse
    tests run dbt 1.11 from this virtualenv without the unit tests, the warehouse tests dbt-mysql's dbt 1.7
    from its own virtualenv, as a subprocess (in-process, Cosmos would call 1.11)."""
    from cosmos.constants import InvocationMode

    from jobpulse import dbt

    dag = dagbag.dags["jobpulse_checks"]
    assert "source_freshness" in dag.task_dict
    for project in dbt.PROJECTS:
        manifest = json.loads((dbt.target_path(project) / "manifest.json").read_text())
        models = {
            node["name"]
            for node in manifest["nodes"].values()
            if node["resource_type"] == "model" and project in node["tags"] and node["package_name"].endswith(project)
        }
        assert models
        for model in models:
            marker, tests = dag.task_dict[f"{project}.{model}.run"], dag.task_dict[f"{project}.{model}.test"]
            assert type(marker).__name__ == "EmptyOperator" and tests.task_id in marker.downstream_task_ids
        test_tasks = [task for task in dag.tasks if task.task_id.startswith(f"{project}.") and hasattr(task, "env")]
        assert test_tasks, project
        for task in test_tasks:
            assert type(task).__name__ == "DbtTestLocalOperator", task.task_id
            assert Path(task.dbt_executable_path) == dbt.executable(settings, project)
            assert Path(task.project_dir) == dbt.project_dir(project)
            assert ("DBT_EXCLUDE_RESOURCE_TYPES" in task.env) == (project == dbt.LAKEHOUSE)
            in_subprocess = task.invocation_mode == InvocationMode.SUBPROCESS
            assert in_subprocess == (project == dbt.WAREHOUSE)
    reconciliation = dag.task_dict["lakehouse.fct_job_hourly_reconciles_with_classified_events_test"]
    assert "lakehouse.fct_job_hourly.test" in reconciliation.upstream_task_ids


def test_lakehouse_maintenance_runs_daily_outside_the_pipeline(dagbag):
    dag = dagbag.dags["jobpulse_maintenance"]
    assert [task.task_id for task in dag.tasks] == ["compact_and_vacuum"]
    assert dag.timetable.expression == "30 3 * * *"
