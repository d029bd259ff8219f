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


def test_the_thrift_servers_log_drops_libthrifts_error_on_every_disconnect_and_keeps_other_errors():
    """libthrift 0.12 logs each client's disconnect as an ERROR (THRIFT-4805); a log4j2 RegexFilter denies it.
    (Checked against log4j itself by hand: a JVM with this configuration printed the other error only.)"""
    from jobpulse.lakehouse import SPARK_LOG_CONFIG

    properties = dict(
        line.split(" = ", 1) for line in SPARK_LOG_CONFIG.splitlines() if " = " in line and not line.startswith("#")
    )
    filters = {key.rsplit(".", 1)[0] for key in properties if key.startswith("appender.console.filter.")}
    denied = [
        properties[f"{name}.regex"]
        for name in filters
        if properties[f"{name}.type"] == "RegexFilter" and properties[f"{name}.onMatch"] == "deny"
    ]
    assert any(re.fullmatch(regex, "Thrift error occurred during processing of message.") for regex in denied)
    assert not any(re.fullmatch(regex, "Error executing query, currentState RUNNING") for regex in denied)
