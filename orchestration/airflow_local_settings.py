"""Airflow's local settings, imported by every Airflow process at start (the deployments put this folder on
PYTHONPATH): the scheduler and Celery workers, which fork the tasks, load what the pipeline's tasks import
(jobpulse.scheduling.preload_task_modules); no process logs a warning that is Airflow's own packaging."""

import sys
import warnings

from airflow.configuration import conf

from jobpulse.scheduling import preload_task_modules

__all__: list[str] = []  # no cluster policy

# The standard provider's sensors import a name Airflow 3.3 moved, through its compat layer; every task of a DAG
# with a sensor would log it.
warnings.filterwarnings(
    "ignore", r"The `airflow\.utils\.operator_helpers\.\w+` attribute is deprecated", category=FutureWarning
)

preload_task_modules(sys.argv[1:], conf.get("core", "executor"))
