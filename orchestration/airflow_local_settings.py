"""Airflow's local settings, imported by every Airflow process at start (the deployments put this folder on
PYTHONPATH): the scheduler and Celery workers, which fork the tasks, load what the pipeline's tasks import
(jobpulse.scheduling.preload_task_modules)."""

import sys

from jobpulse.scheduling import preload_task_modules

__all__: list[str] = []  # no cluster policy

preload_task_modules(sys.argv[1:])
