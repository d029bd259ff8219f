"""A Spark standalone cluster for the cluster topology: a master and JOBPULSE_SPARK_WORKERS workers of 1 core each.

pyspark's wheel holds the Master and Worker classes but not the sbin/ scripts that start them; this runs what
those scripts run (``spark-class``). The Thrift server, and with it every statement of the pipeline, then runs
its executors on the workers (``spark.master`` is the master's URL). A worker's health is its registration with
the master: a worker the master does not list ALIVE runs no executor.
"""

from __future__ import annotations

import json
import urllib.request
from urllib.parse import urlsplit

from jobpulse import lakehouse
from jobpulse.config import Settings
from jobpulse.stack.process import ServiceError
from jobpulse.stack.service import Service

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
MASTER_WEBUI_PORT = 8090  # Spark's 8080 is Airflow's here; workers' UIs take the next ports
WORKER_PORT = 7078  # worker n listens on WORKER_PORT + n
DAEMON_MEMORY = "384m"  # the master's and each worker's own JVM; executors are separate JVMs


def master_address(settings: Settings) -> tuple[str, int]:
    """Host and port of a ``spark://host:port`` master URL."""
    url = urlsplit(settings.spark_master)
    if url.scheme != "spark" or not url.hostname or not url.port:
        raise ServiceError(f"JOBPULSE_SPARK_MASTER {settings.spark_master!r} is not a spark://host:port URL")
    return url.hostname, url.port


def master_state(settings: Settings) -> dict:
    """The master's own account of itself and its workers (its web UI's JSON)."""
    host, _ = master_address(settings)
    with urllib.request.urlopen(f"http://{host}:{MASTER_WEBUI_PORT}/json/", timeout=3) as response:
        return json.load(response)


class _SparkDaemon(Service):
    start_timeout = 90.0

    def environment(self) -> dict[str, str]:
        return {**lakehouse.spark_environment(self.settings), "SPARK_DAEMON_MEMORY": DAEMON_MEMORY}

    def prepare(self) -> None:
        lakehouse.write_conf_dir(self.settings)

    def _spark_class(self, *args: str) -> list[str]:
        return [str(lakehouse.spark_home() / "bin" / "spark-class"), *args]


class SparkMaster(_SparkDaemon):
    name = "spark-master"

    @property
    def host(self) -> str:
        return master_address(self.settings)[0]

    @property
    def port(self) -> int:
        return master_address(self.settings)[1]

    def command(self) -> list[str]:
        return self._spark_class(
            MASTER_CLASS, "--host", self.host, "--port", str(self.port), "--webui-port", str(MASTER_WEBUI_PORT)
        )

    def check(self) -> str:
        state = master_state(self.settings)
        if state.get("status") != "ALIVE":
            raise ServiceError(f"the master is {state.get('status')}")
        return f"Spark master {self.settings.spark_master}, {state.get('aliveworkers', 0)} worker(s) alive"


class SparkWorker(_SparkDaemon):
    """Worker ``index + 1``: 1 core and JOBPULSE_SPARK_WORKER_MEMORY, registered with the master."""

    name = "spark-worker"

    def __init__(self, settings: Settings, index: int = 0) -> None:
        super().__init__(settings, f"spark-worker-{index + 1}")
        self.index = index

    @property
    def host(self) -> str:
        return self.settings.spark_driver_host

    @property
    def port(self) -> int:
        return WORKER_PORT + self.index + 1

    def command(self) -> list[str]:
        return self._spark_class(
            WORKER_CLASS,
            "--host", self.host,
            "--port", str(self.port),
            "--webui-port", str(MASTER_WEBUI_PORT + self.index + 1),
            "--cores", "1",
            "--memory", self.settings.spark_worker_memory,
            "--work-dir", str(self.home / "work"),
            self.settings.spark_master,
        )  # fmt: skip

    def environment(self) -> dict[str, str]:
        # executors' files (their logs, the jars they fetch) go when the application ends
        return {**super().environment(), "SPARK_WORKER_OPTS": "-Dspark.worker.cleanup.enabled=true"}

    def check(self) -> str:
        workers = master_state(self.settings).get("workers", [])
        mine = [worker for worker in workers if (worker["host"], worker["port"]) == (self.host, self.port)]
        if not any(worker["state"] == "ALIVE" for worker in mine):
            raise ServiceError(f"not registered ALIVE with the master ({[worker['state'] for worker in mine]})")
        [alive] = [worker for worker in mine if worker["state"] == "ALIVE"]
        return f"Spark worker, {alive['cores']} core(s), {alive['coresused']} used, {alive['memory']} MiB"
