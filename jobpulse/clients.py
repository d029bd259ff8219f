"""Connections to the stack's services, configured from :class:`Settings` in one place."""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from jobpulse.config import Settings

if TYPE_CHECKING:
    from collections.abc import Iterator

    from cassandra.cluster import Cluster
    from mysql.connector.abstracts import MySQLConnectionAbstract
    from pyhive.hive import Connection, Cursor


_KEYSPACE = re.compile(r"^[a-z][a-z0-9_]{0,47}$")


def keyspace(settings: Settings) -> str:
    """The raw log's keyspace, checked to be a plain identifier: statements name it (Cassandra 5 warns against
    prepared statements that lean on a session's current keyspace), and only a checked name may be spliced
    into CQL text. Values never are: they are always bound."""
    if not _KEYSPACE.match(settings.cassandra_keyspace):
        raise ValueError(f"JOBPULSE_CASSANDRA_KEYSPACE {settings.cassandra_keyspace!r} is not a plain identifier")
    return settings.cassandra_keyspace


def cassandra_consistency(settings: Settings) -> int:
    """The raw log's consistency level (writes and reads alike), as the driver's constant."""
    from cassandra import ConsistencyLevel

    return getattr(ConsistencyLevel, settings.cassandra_consistency)


def cassandra_cluster(settings: Settings, hosts: list[str] | None = None, **options: Any) -> Cluster:
    """A driver cluster object for the stack's Cassandra (protocol v5, as Cassandra 5 speaks), on the contact
    points of the settings, or on ``hosts`` alone (to ask one node)."""
    from cassandra.auth import PlainTextAuthProvider
    from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
    from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy, WhiteListRoundRobinPolicy

    options.setdefault("connect_timeout", 10)
    options.setdefault("auth_provider", PlainTextAuthProvider(settings.cassandra_user, settings.cassandra_password))
    profile = ExecutionProfile(
        load_balancing_policy=(
            WhiteListRoundRobinPolicy(hosts)
            if hosts
            else TokenAwarePolicy(DCAwareRoundRobinPolicy(local_dc=settings.cassandra_datacenter))
        ),
        request_timeout=30,
        # reads at the writes' level (LOCAL_QUORUM by default) see every acknowledged write, whatever the
        # replication factor
        consistency_level=cassandra_consistency(settings),
    )
    return Cluster(
        hosts or list(settings.cassandra_hosts),
        port=settings.cassandra_port,
        protocol_version=5,
        execution_profiles={EXEC_PROFILE_DEFAULT: profile},
        **options,
    )


def mysql_connect(settings: Settings, *, readonly: bool = False, **options: Any) -> MySQLConnectionAbstract:
    """A connection to the serving database as the pipeline account (or the read-only one)."""
    import mysql.connector

    user, password = (
        (settings.mysql_readonly_user, settings.mysql_readonly_password)
        if readonly
        else (settings.mysql_user, settings.mysql_password)
    )
    options.setdefault("autocommit", True)
    return mysql.connector.connect(
        host=settings.mysql_host,
        port=settings.mysql_port,
        user=user,
        password=password,
        database=settings.mysql_database,
        **options,
    )


def thrift_connect(settings: Settings) -> Connection:
    """A session on the Spark Thrift server: the long-running Spark application that holds the lakehouse
    (dbt's, the ingest's and the publish step's way in). Session settings (``SET``) last as long as it."""
    from pyhive import hive

    return hive.connect(host=settings.spark_thrift_host, port=settings.spark_thrift_port, username="jobpulse")


@contextmanager
def thrift_cursor(settings: Settings) -> Iterator[Cursor]:
    """A cursor on a session of its own, closed at the end."""
    connection = thrift_connect(settings)
    try:
        yield connection.cursor()
    finally:
        connection.close()


def kafka_config(settings: Settings, **overrides: Any) -> dict[str, Any]:
    """librdkafka settings for any client of the stack's Kafka: SASL/SCRAM-SHA-512 as the pipeline's user."""
    return {
        "bootstrap.servers": settings.kafka_bootstrap,
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": settings.kafka_user,
        "sasl.password": settings.kafka_password,
        **overrides,
    }
