"""The Airflow connections `make demo` exports carry a cluster's every contact point back into the settings."""

from __future__ import annotations

import pytest

from jobpulse.config import load_settings
from jobpulse.scheduling import connection_uris, settings_from_connections


def test_the_cassandra_connection_carries_every_contact_point(monkeypatch: pytest.MonkeyPatch):
    cluster = load_settings({"JOBPULSE_TOPOLOGY": "cluster"})
    for variable, uri in connection_uris(cluster).items():
        monkeypatch.setenv(variable, uri)
    monkeypatch.setenv("JOBPULSE_TOPOLOGY", "single")  # so the contact points can only come from the connection
    assert settings_from_connections().cassandra_hosts == ("127.0.0.1", "127.0.0.2", "127.0.0.3")


def test_a_connection_without_a_login_keeps_the_settings_credentials(monkeypatch: pytest.MonkeyPatch):
    single = load_settings({})
    monkeypatch.setenv("AIRFLOW_CONN_JOBPULSE_MYSQL", "mysql://127.0.0.1:3307/data_warehouse")
    monkeypatch.setenv("AIRFLOW_CONN_JOBPULSE_SPARK_THRIFT", "spark://:10001")
    settings = settings_from_connections()
    assert (settings.mysql_port, settings.mysql_user, settings.mysql_password) == (
        3307,
        single.mysql_user,
        single.mysql_password,
    )
    assert (settings.spark_thrift_host, settings.spark_thrift_port) == (single.spark_thrift_host, 10001)
