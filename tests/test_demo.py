"""What `make demo` hands Airflow: it must find its own components and both dbt docs sites."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from jobpulse import demo
from jobpulse.config import Settings
from jobpulse.dbt import LAKEHOUSE, WAREHOUSE, target_path
from jobpulse.scheduling import CASSANDRA_CONN, MYSQL_CONN, SPARK_CONN


def test_airflow_standalone_finds_this_virtualenvs_airflow_first(settings: Settings):
    path = demo.airflow_environment(settings)["PATH"].split(os.pathsep)
    assert Path(path[0]) == Path(sys.executable).parent and (Path(path[0]) / "airflow").exists()


def test_airflow_gets_the_connections_and_both_dbt_docs_sites(settings: Settings):
    env = demo.airflow_environment(settings)
    assert {f"AIRFLOW_CONN_{conn.upper()}" for conn in (SPARK_CONN, MYSQL_CONN, CASSANDRA_CONN)} <= env.keys()
    projects = json.loads(env["AIRFLOW__COSMOS__DBT_DOCS_PROJECTS"])
    assert {name: site["dir"] for name, site in projects.items()} == {
        LAKEHOUSE: str(target_path(LAKEHOUSE)),
        WAREHOUSE: str(target_path(WAREHOUSE)),
    }


def test_rows_show_as_a_table_under_their_column_names():
    rows = [
        (7, date(2026, 11, 20), Decimal("12.50"), None, datetime(2026, 11, 20, 7, 30, 5)),
        (1234, date(2026, 11, 19), Decimal("0.75"), 3, datetime(2026, 11, 19, 23, 0)),
    ]
    assert demo.text_table(["job_id", "dates", "spend_hour", "company_id", "latest_update_time"], rows) == [
        "job_id  dates       spend_hour  company_id  latest_update_time",
        "------  ----------  ----------  ----------  -------------------",
        "     7  2026-11-20       12.50        NULL  2026-11-20 07:30:05",
        "  1234  2026-11-19        0.75           3  2026-11-19 23:00:00",
    ]


def test_cosmos_makes_airflow_3_asset_uris_without_its_migration_warning(settings: Settings, tmp_path):
    """Airflow 3 takes only its own asset URI form, which Cosmos uses there anyway; left unconfirmed, Cosmos warns
    about the change in every task that builds one."""
    env = {**demo.airflow_environment(settings), "AIRFLOW_HOME": str(tmp_path)}  # not the demo's own home
    code = "from cosmos.dataset import construct_dataset_uri; print(construct_dataset_uri('spark://host:1', 'db.t'))"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines()[-1] == "spark://host:1/db/t"
    assert "URI" not in result.stdout + result.stderr, result.stdout + result.stderr
