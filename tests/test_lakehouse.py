"""The lakehouse's shared settings and the facts other code relies on about its models."""

from __future__ import annotations

import re

from jobpulse.config import PROJECT_ROOT, load_settings
from jobpulse.lakehouse import BATCH_WATERMARKS


def test_every_model_that_resumes_after_a_landing_batch_is_known_to_the_ingest():
    """The ingest numbers a resync's batch after the highest any of these holds: a model missing here could be
    left behind a batch number that restarts below its watermark."""
    resuming = {}
    for path in (PROJECT_ROOT / "dbt_project").glob("*/models/**/*.sql"):
        for column in re.findall(r"jobpulse__max_value\(this, '(\w+)'", path.read_text()):
            resuming[path.stem] = column
    assert resuming == dict(BATCH_WATERMARKS)


def test_the_raw_log_is_read_at_the_consistency_it_is_written_at():
    from cassandra import ConsistencyLevel
    from cassandra.cluster import EXEC_PROFILE_DEFAULT

    from jobpulse.clients import cassandra_cluster
    from jobpulse.lakehouse import spark_conf

    settings = load_settings()
    assert spark_conf(settings)["spark.cassandra.input.consistency.level"] == "LOCAL_QUORUM"
    profile = cassandra_cluster(settings).profile_manager.profiles[EXEC_PROFILE_DEFAULT]
    assert profile.consistency_level == ConsistencyLevel.LOCAL_QUORUM


def test_a_standalone_cluster_authenticates_its_rpc_when_given_a_secret():
    from jobpulse.lakehouse import spark_conf

    assert "spark.authenticate" not in spark_conf(load_settings({"JOBPULSE_TOPOLOGY": "cluster"}))
    secured = spark_conf(load_settings({"JOBPULSE_TOPOLOGY": "cluster", "JOBPULSE_SPARK_RPC_PASSWORD": "s3cret"}))
    assert (secured["spark.authenticate"], secured["spark.authenticate.secret"]) == ("true", "s3cret")
    assert secured["spark.ui.killEnabled"] == "false"
    # local[2] has no RPC between machines to guard
    assert "spark.authenticate" not in spark_conf(load_settings({"JOBPULSE_SPARK_RPC_PASSWORD": "s3cret"}))
