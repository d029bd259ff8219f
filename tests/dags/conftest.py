"""Airflow reads its configuration when first imported: point it at a home of the test run's own first."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from jobpulse.config import PROJECT_ROOT, Settings

AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="jobpulse-airflow-"))
atexit.register(shutil.rmtree, AIRFLOW_HOME, ignore_errors=True)
os.environ.update(
    AIRFLOW_HOME=str(AIRFLOW_HOME),
    AIRFLOW__CORE__LOAD_EXAMPLES="False",
    AIRFLOW__CORE__DAGS_FOLDER=str(PROJECT_ROOT / "orchestration" / "dags"),
    AIRFLOW__COSMOS__ENABLE_TELEMETRY="False",
)


@pytest.fixture(scope="session")
def manifests(settings: Settings) -> dict[str, Path]:
    """The dbt manifests the DAGs render from, one per project (`dbt parse`: no database involved)."""
    from jobpulse import dbt

    return dbt.parse(settings)


@pytest.fixture(scope="session")
def dagbag(manifests: dict[str, Path]):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(PROJECT_ROOT / "orchestration" / "dags"))
