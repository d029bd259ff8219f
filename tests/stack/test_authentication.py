"""The stack's Cassandra and Kafka let in only the pipeline's credentials (the compose deployment turns
authentication on the same way)."""

from __future__ import annotations

import pytest
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import NoHostAvailable
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from jobpulse.clients import cassandra_cluster, kafka_config
from jobpulse.config import Settings
from jobpulse.stack.cassandra import DEFAULT_SUPERUSER, _refused_login, ensure_role

pytestmark = pytest.mark.usefixtures("running_stack")


@pytest.mark.parametrize("login", ["wrong password", "default superuser", "none"])
def test_cassandra_lets_in_only_the_pipelines_role(settings: Settings, login: str):
    provider = {
        "wrong password": PlainTextAuthProvider(settings.cassandra_user, "not-the-password"),
        "default superuser": PlainTextAuthProvider(*DEFAULT_SUPERUSER),  # public, so dropped
        "none": None,
    }[login]
    cluster = cassandra_cluster(settings, auth_provider=provider, connect_timeout=3)
    try:
        with pytest.raises(NoHostAvailable) as refused:
            cluster.connect()
    finally:
        cluster.shutdown()
    assert _refused_login(refused.value) or "requires authentication" in str(refused.value)


def test_making_the_cassandra_role_again_changes_nothing(settings: Settings):
    assert ensure_role(settings) == "the pipeline's role logs in"


@pytest.mark.parametrize("login", ["wrong password", "none"])
def test_kafka_lets_in_only_the_pipelines_user(settings: Settings, login: str):
    config = {
        "wrong password": kafka_config(settings, **{"sasl.password": "not-the-password"}),
        "none": {"bootstrap.servers": settings.kafka_bootstrap},
    }[login]
    admin = AdminClient({**config, "socket.timeout.ms": 3000, "log_level": 0})
    with pytest.raises(KafkaException):
        admin.list_topics(timeout=5)
    assert AdminClient(kafka_config(settings)).list_topics(timeout=10).brokers
