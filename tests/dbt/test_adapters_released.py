"""A process that ran the lakehouse's dbt in-process and ends as an Airflow task does (os._exit, no finalizers)
leaves no semaphore behind: before, Python's resource tracker logged each of dbt's adapter locks as leaked, at
error level, at the end of every pipeline run's lakehouse task."""

from __future__ import annotations

import os
import subprocess
import sys

from jobpulse.config import PROJECT_ROOT

ENDS_LIKE_A_TASK = """
import os, sys
from jobpulse import dbt
from jobpulse.config import load_settings

dbt.dbt(load_settings(), ["ls", "--select", "tag:lakehouse"], dbt.LAKEHOUSE)
sys.stdout.flush()
sys.stderr.flush()
os._exit(0)
"""


def test_an_in_process_dbt_leaves_no_semaphore_to_a_process_that_ends_with_os_exit() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", ENDS_LIKE_A_TASK],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.getenv("PYTHONPATH")]))},
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    assert "leaked" not in completed.stderr, completed.stderr[-2000:]
