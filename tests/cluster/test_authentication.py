"""Spark's RPC on the cluster topology asks for the shared secret (JOBPULSE_SPARK_RPC_PASSWORD, which
`make test-cluster` sets, as every deployment with a master off the loopback must): the pipeline's own processes
hold it, so the failover tests run on an authenticated cluster, and an application without it is refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from jobpulse import lakehouse
from jobpulse.config import Settings

pytestmark = pytest.mark.cluster

# An application that knows the master's address but not the secret: it tries to register and count to ten.
INTRUDER = """
import sys
from pyspark.sql import SparkSession

master, host = sys.argv[1:3]
builder = SparkSession.builder.master(master).config("spark.driver.host", host).config("spark.driver.bindAddress", host)
print(builder.getOrCreate().range(10).count())
"""


def test_an_application_without_the_clusters_secret_is_refused(running_stack: Settings, tmp_path: Path):
    if not running_stack.spark_rpc_password:
        pytest.skip("JOBPULSE_SPARK_RPC_PASSWORD is not set (make test-cluster sets one)")
    # Spark's own defaults instead of the stack's spark-defaults.conf, which holds the secret
    environment = {**lakehouse.spark_environment(running_stack), "SPARK_CONF_DIR": str(tmp_path)}
    # refused, it gives up after 3 registration attempts of 20 s; let in, it waits for cores the Thrift server holds
    try:
        result = subprocess.run(
            [sys.executable, "-c", INTRUDER, running_stack.spark_master, running_stack.spark_driver_host],
            env=environment,
            capture_output=True,
            text=True,
            timeout=180,
        )
    except subprocess.TimeoutExpired as waited:
        pytest.fail(f"the master let an application without the secret register:\n{waited.stderr}")
    assert result.returncode != 0, result.stdout
    assert "Expected SaslMessage" in result.stderr, result.stderr[-3000:]
    assert "All masters are unresponsive" in result.stderr
