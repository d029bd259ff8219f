"""The Airflow connections `make demo` exports and `jobpulse with-connections` (compose's Airflow entrypoint) puts
in a command's environment: each of an installed provider's type, and read back into the settings, a connection
that is not there leaving the settings' value and one that cannot be read refused."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from jobpulse.config import PROJECT_ROOT, load_settings
from jobpulse.scheduling import (
    CASSANDRA_CONN,
    MYSQL_CONN,
    SPARK_CONN,
    connection_uris,
    lakehouse_profile,
    settings_from_connections,
)

CONN_IDS = (SPARK_CONN, MYSQL_CONN, CASSANDRA_CONN)


@pytest.fixture
def no_connections(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for conn_id in CONN_IDS:
        monkeypatch.delenv(f"AIRFLOW_CONN_{conn_id.upper()}", raising=False)
    return monkeypatch


def test_each_exported_connection_has_its_providers_hook(no_connections: pytest.MonkeyPatch):
    from airflow.sdk import BaseHook

    for variable, uri in connection_uris(load_settings({})).items():
        no_connections.setenv(variable, uri)
    hooks = {conn_id: type(BaseHook.get_connection(conn_id).get_hook()).__name__ for conn_id in CONN_IDS}
    assert hooks == {SPARK_CONN: "HiveServer2Hook", MYSQL_CONN: "MySqlHook", CASSANDRA_CONN: "CassandraHook"}


def test_the_lakehouse_profile_reads_the_thrift_connection(no_connections: pytest.MonkeyPatch):
    settings = load_settings({})
    no_connections.setenv(f"AIRFLOW_CONN_{SPARK_CONN.upper()}", "hiveserver2://thrift.example:10001")
    profile = lakehouse_profile(settings).profile_mapping.profile
    assert (profile["host"], profile["port"], profile["method"]) == ("thrift.example", 10001, "thrift")


def test_the_cassandra_connection_carries_every_contact_point(no_connections: pytest.MonkeyPatch):
    cluster = load_settings({"JOBPULSE_TOPOLOGY": "cluster"})
    for variable, uri in connection_uris(cluster).items():
        no_connections.setenv(variable, uri)
    no_connections.setenv("JOBPULSE_TOPOLOGY", "single")  # so the contact points can only come from the connection
    assert settings_from_connections().cassandra_hosts == ("127.0.0.1", "127.0.0.2", "127.0.0.3")


def test_a_connection_without_a_login_keeps_the_settings_credentials(no_connections: pytest.MonkeyPatch):
    single = load_settings({})
    no_connections.setenv("AIRFLOW_CONN_JOBPULSE_MYSQL", "mysql://127.0.0.1:3307/data_warehouse")
    no_connections.setenv("AIRFLOW_CONN_JOBPULSE_SPARK_THRIFT", "hiveserver2://:10001")
    settings = settings_from_connections()
    assert (settings.mysql_port, settings.mysql_user, settings.mysql_password) == (
        3307,
        single.mysql_user,
        single.mysql_password,
    )
    assert (settings.spark_thrift_host, settings.spark_thrift_port) == (single.spark_thrift_host, 10001)


def test_without_connections_the_settings_stand(no_connections: pytest.MonkeyPatch):
    assert settings_from_connections() == load_settings()


@pytest.mark.parametrize(
    "value",
    [
        '{"conn_type": "mysql", "host": "db.example", "port": "three thousand"}',
        '{"conn_type": "mysql", "host": "db.example"',
        "mysql://pipeline:s3cret-password@db.example:99999/data_warehouse",
        "mysql://pipeline:s3cret/password@db.example/data_warehouse",  # parsed, a part of it, as the port
    ],
)
def test_a_connection_airflow_cannot_parse_is_refused(no_connections: pytest.MonkeyPatch, value: str):
    # Airflow itself reads such a variable as no connection at all: the task would run against the defaults
    no_connections.setenv("AIRFLOW_CONN_JOBPULSE_MYSQL", value)
    with pytest.raises(ValueError, match="AIRFLOW_CONN_JOBPULSE_MYSQL is not an Airflow connection") as refused:
        settings_from_connections()
    assert "s3cret" not in str(refused.value)


def test_a_connection_value_the_settings_refuse_names_the_connection(no_connections: pytest.MonkeyPatch):
    no_connections.setenv("AIRFLOW_CONN_JOBPULSE_CASSANDRA", '{"conn_type": "cassandra", "port": 70000}')
    with pytest.raises(ValueError, match=r"connection 'jobpulse_cassandra' .* cassandra_port"):
        settings_from_connections()


def with_connections(*command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`jobpulse with-connections COMMAND...` in a process of its own, on this checkout's package."""
    return subprocess.run(
        [sys.executable, "-m", "jobpulse.cli", "with-connections", *command],
        cwd=PROJECT_ROOT,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(PROJECT_ROOT), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_with_connections_starts_the_command_with_the_settings_connections():
    defined = "mysql://analyst:s3cret@db.example:3306/data_warehouse"
    settings = {"JOBPULSE_SPARK_THRIFT_PORT": "10001", "JOBPULSE_CASSANDRA_PASSWORD": "p@ss/word"}
    started = with_connections("env", env={**settings, "AIRFLOW_CONN_JOBPULSE_MYSQL": defined})
    assert started.returncode == 0, started.stderr
    environment = dict(line.split("=", 1) for line in started.stdout.splitlines())
    exported = connection_uris(load_settings(settings))
    for conn_id in (SPARK_CONN, CASSANDRA_CONN):
        variable = f"AIRFLOW_CONN_{conn_id.upper()}"
        assert environment[variable] == exported[variable]
    assert environment["AIRFLOW_CONN_JOBPULSE_MYSQL"] == defined  # one the environment defines stands


@pytest.mark.parametrize(
    ("command", "refusal"),
    [((), "name the command to run"), (("no-such-command", "--flag"), "cannot run 'no-such-command'")],
)
def test_with_connections_without_a_command_it_can_run_says_so(command: tuple[str, ...], refusal: str):
    started = with_connections(*command, env={})
    assert started.returncode == 1 and f"jobpulse with-connections: {refusal}" in started.stderr
