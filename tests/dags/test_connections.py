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
