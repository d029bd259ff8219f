from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from jobpulse import cli
from jobpulse.config import OPTIONS, PROJECT_ROOT, SECRETS, load_settings


def test_defaults_are_the_local_stack():
    settings = load_settings({})
    assert (settings.cassandra_port, settings.mysql_port, settings.spark_thrift_port) == (9042, 3306, 10000)
    assert settings.state_dir == PROJECT_ROOT / ".stack"
    assert settings.cassandra_hosts == ("127.0.0.1",)
    assert settings.kafka_bootstrap == "127.0.0.1:9092"
    assert (settings.spark_master, settings.cassandra_replication_factor, settings.kafka_replication_factor) == (
        "local[2]",
        1,
        1,
    )
    assert settings.mysql_database == "data_warehouse"


def test_the_cluster_topology_names_three_nodes_three_brokers_and_a_standalone_master():
    settings = load_settings({"JOBPULSE_TOPOLOGY": "cluster"})
    assert settings.cassandra_hosts == ("127.0.0.1", "127.0.0.2", "127.0.0.3")
    assert settings.kafka_brokers == [("127.0.0.1", 9092), ("127.0.0.2", 9092), ("127.0.0.3", 9092)]
    assert (settings.cassandra_replication_factor, settings.kafka_replication_factor) == (3, 3)
    assert settings.kafka_min_insync_replicas == 2
    assert settings.spark_master == "spark://127.0.0.1:7077"
    assert settings.state_dir == PROJECT_ROOT / ".stack-cluster"
    # a setting given explicitly wins over the topology's default
    assert load_settings({"JOBPULSE_TOPOLOGY": "cluster", "JOBPULSE_SPARK_MASTER": "local[1]"}).spark_master == (
        "local[1]"
    )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("JOBPULSE_TOPOLOGY", "mesh", "JOBPULSE_TOPOLOGY must be one of single, cluster"),
        ("JOBPULSE_CASSANDRA_CONSISTENCY", "MOST", "JOBPULSE_CASSANDRA_CONSISTENCY must be one of"),
        ("JOBPULSE_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092,kafka", "'kafka' is not host:port"),
        ("JOBPULSE_KAFKA_MIN_INSYNC_REPLICAS", "2", "no write would succeed"),
    ],
)
def test_cluster_settings_that_cannot_work_are_refused(variable: str, value: str, message: str):
    with pytest.raises(ValueError, match=message):
        load_settings({variable: value})


def test_environment_overrides_and_paths_resolve(tmp_path: Path):
    settings = load_settings(
        {
            "JOBPULSE_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.2:19092, 127.0.0.3:19092",
            "JOBPULSE_STATE_DIR": str(tmp_path / "s"),
        }
    )
    assert settings.kafka_bootstrap == "127.0.0.2:19092,127.0.0.3:19092"
    assert settings.state_dir == tmp_path / "s"
    assert settings.warehouse_dir == tmp_path / "s" / "lakehouse"


def test_a_non_numeric_port_names_its_variable():
    with pytest.raises(ValueError, match="JOBPULSE_MYSQL_PORT must be an integer, got 'three-three-oh-six'"):
        load_settings({"JOBPULSE_MYSQL_PORT": "three-three-oh-six"})


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("JOBPULSE_INGEST_SAFETY_LAG", "-5", "JOBPULSE_INGEST_SAFETY_LAG must be >= 0, got -5"),
        ("JOBPULSE_PIPELINE_IDLE_WAIT", "-1", "JOBPULSE_PIPELINE_IDLE_WAIT must be >= 0"),
        ("JOBPULSE_TASK_RETRIES", "-1", "JOBPULSE_TASK_RETRIES must be >= 0"),
        ("JOBPULSE_MYSQL_PORT", "0", "JOBPULSE_MYSQL_PORT must be >= 1, got 0"),
        ("JOBPULSE_CASSANDRA_PORT", "70000", "JOBPULSE_CASSANDRA_PORT must be <= 65535, got 70000"),
        ("JOBPULSE_CASSANDRA_REPLICATION_FACTOR", "0", "JOBPULSE_CASSANDRA_REPLICATION_FACTOR must be >= 1"),
        ("JOBPULSE_KAFKA_REPLICATION_FACTOR", "0", "JOBPULSE_KAFKA_REPLICATION_FACTOR must be >= 1"),
        ("JOBPULSE_KAFKA_PARTITIONS", "0", "JOBPULSE_KAFKA_PARTITIONS must be >= 1"),
        ("JOBPULSE_SPARK_WORKERS", "0", "JOBPULSE_SPARK_WORKERS must be >= 1"),
        ("JOBPULSE_KAFKA_HEAP", "512", "JOBPULSE_KAFKA_HEAP must be a memory size"),
        ("JOBPULSE_SPARK_DRIVER_MEMORY", "2 GB", "JOBPULSE_SPARK_DRIVER_MEMORY must be a memory size"),
        ("JOBPULSE_CASSANDRA_HOSTS", " , ", "JOBPULSE_CASSANDRA_HOSTS needs at least one address"),
    ],
)
def test_values_out_of_their_range_are_refused_by_name(variable: str, value: str, message: str):
    with pytest.raises(ValueError, match=re.escape(message)):
        load_settings({variable: value})


def test_every_wrong_value_is_named_at_once():
    both = "JOBPULSE_MYSQL_PORT must be >= 1, got 0; JOBPULSE_INGEST_SAFETY_LAG must be >= 0, got -5"
    with pytest.raises(ValueError, match=re.escape(both)):
        load_settings({"JOBPULSE_MYSQL_PORT": "0", "JOBPULSE_INGEST_SAFETY_LAG": "-5"})


def test_a_changed_copy_is_validated_too():
    with pytest.raises(ValueError, match="ingest_safety_lag"):
        dataclasses.replace(load_settings({}), ingest_safety_lag=-1)
    assert dataclasses.replace(load_settings({}), ingest_safety_lag=1).ingest_safety_lag == 1


def test_settings_are_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        load_settings({}).mysql_port = 3307  # type: ignore[misc]


PASSWORDS = {option.env: f"s3cret-{name}" for name, option in OPTIONS.items() if option.env.endswith("_PASSWORD")}


def test_every_password_is_a_secret():
    assert {option.env for option in OPTIONS.values() if option.secret} == set(PASSWORDS)
    assert "JOBPULSE_SPARK_RPC_PASSWORD" in PASSWORDS


def test_no_password_shows_in_the_settings_repr():
    settings = load_settings(PASSWORDS)
    assert settings.mysql_password == PASSWORDS["JOBPULSE_MYSQL_PASSWORD"]
    shown = repr(settings) + str(settings)
    assert "mysql_user='jobpulse'" in shown
    assert [password for password in PASSWORDS.values() if password in shown] == []


def test_jobpulse_config_masks_every_password(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    for variable, password in PASSWORDS.items():
        monkeypatch.setenv(variable, password)
    assert cli.main(["config"]) == 0
    shown = capsys.readouterr().out
    assert re.search(r"^JOBPULSE_MYSQL_PASSWORD +\*{8} +pipeline writer password$", shown, re.M)
    assert [password for password in PASSWORDS.values() if password in shown] == []


def test_every_setting_is_documented_in_the_readme():
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert [option.env for option in OPTIONS.values() if option.env not in readme] == []


def test_the_readme_table_gives_the_declared_defaults():
    readme = (PROJECT_ROOT / "README.md").read_text()
    defaults = dict(re.findall(r"^\| `(JOBPULSE_\w+)` \| (.*?) \| .* \|$", readme, re.MULTILINE))
    declared = {
        option.env: f"`{option.default}`"
        + (f" (*cluster*: `{option.cluster_default}`)" if option.cluster_default else "")
        for option in OPTIONS.values()
        if option.default  # an empty default is derived (or none): the table says what it is in words
    }
    assert {env: defaults.get(env) for env in declared} == declared


@pytest.mark.parametrize("host", ["mysql", "10.0.0.7", "db.example.com"])
def test_default_and_placeholder_passwords_are_refused_off_the_loopback(host: str):
    with pytest.raises(ValueError, match=r"JOBPULSE_MYSQL_PASSWORD.*JOBPULSE_METASTORE_PASSWORD.*set real passwords"):
        load_settings({"JOBPULSE_MYSQL_HOST": host, "JOBPULSE_MYSQL_PASSWORD": "change-me-pipeline"})


def test_real_passwords_are_accepted_off_the_loopback():
    real = {f"JOBPULSE_{name.upper()}": f"s3cret-{name}" for name in SECRETS}
    assert load_settings({"JOBPULSE_KAFKA_BOOTSTRAP_SERVERS": "kafka:9092", **real}).kafka_bootstrap == "kafka:9092"


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1"])
def test_the_local_defaults_are_fine_on_the_loopback(host: str):
    assert load_settings({"JOBPULSE_CASSANDRA_HOSTS": host}).mysql_password == OPTIONS["mysql_password"].default


def test_a_standalone_master_off_the_loopback_needs_the_spark_rpc_password():
    real = {f"JOBPULSE_{name.upper()}": f"s3cret-{name}" for name in SECRETS}
    remote_master = {**real, "JOBPULSE_SPARK_MASTER": "spark://spark-master:7077"}
    for password in ("", "change-me-spark"):
        with pytest.raises(ValueError, match="set JOBPULSE_SPARK_RPC_PASSWORD"):
            load_settings({**remote_master, "JOBPULSE_SPARK_RPC_PASSWORD": password})
    assert load_settings({**remote_master, "JOBPULSE_SPARK_RPC_PASSWORD": "s3cret-spark"}).spark_standalone
    # on the loopback (the local cluster topology) Spark's RPC may go without it
    assert load_settings({"JOBPULSE_TOPOLOGY": "cluster"}).spark_rpc_password == ""


def test_a_mysql_off_this_machine_needs_no_admin_password_of_ours():
    """The admin password is for the MariaDB `jobpulse stack up` bootstraps; a deployment's MySQL has its own root
    (compose's is only on its container's socket) and its containers never hold that password."""
    real = {f"JOBPULSE_{name.upper()}": f"s3cret-{name}" for name in SECRETS if name != "mysql_admin_password"}
    assert load_settings({**real, "JOBPULSE_MYSQL_HOST": "mysql"}).mysql_host == "mysql"
    with pytest.raises(ValueError, match="JOBPULSE_MYSQL_ADMIN_PASSWORD"):
        load_settings({**real, "JOBPULSE_CASSANDRA_HOSTS": "cassandra"})
