"""Versioned schema migrations for Cassandra and MySQL, and the Kafka topics.

Files are ``<store>/V<number>__<name>.<cql|sql|py>``, applied in version order and recorded with a checksum in
a ``schema_migrations`` table of their store. An applied file that changed is an error: write a new version
instead. Statements are idempotent (``IF NOT EXISTS``, upserts), so a migration interrupted half-way is simply
applied again.
"""

from __future__ import annotations

import hashlib
import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from jobpulse.config import Settings

FILE_NAME = re.compile(r"^V(\d{3})__(\w+)\.(cql|sql|py)$")
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,47}$")  # keyspace and database names


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    store: str
    version: int
    name: str
    resource: Traversable

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.resource.read_bytes()).hexdigest()

    @property
    def label(self) -> str:
        return f"{self.store} V{self.version:03d} {self.name}"

    def statements(self) -> list[str]:
        """The file's statements: ``;`` at the end of a line ends one; ``--`` lines are comments."""
        lines = [line for line in self.resource.read_text().splitlines() if not line.lstrip().startswith("--")]
        return [
            statement.strip() for statement in re.split(r";\s*$", "\n".join(lines), flags=re.M) if statement.strip()
        ]


def discover(store: str) -> list[Migration]:
    found = []
    for entry in resources.files("jobpulse.migrations").joinpath(store).iterdir():
        match = FILE_NAME.match(entry.name)
        if match:
            found.append(Migration(store, int(match.group(1)), match.group(2), entry))
    found.sort(key=lambda migration: migration.version)
    versions = [migration.version for migration in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two {store} migrations share a version: {versions}")
    return found


def _pending(migrations: list[Migration], applied: dict[int, str]) -> list[Migration]:
    for migration in migrations:
        if migration.version in applied and applied[migration.version] != migration.checksum:
            raise MigrationError(f"{migration.label} changed after it was applied; add a new migration instead")
    return [migration for migration in migrations if migration.version not in applied]


def _identifier(value: str) -> str:
    if not IDENTIFIER.match(value):
        raise MigrationError(f"{value!r} is not a valid keyspace or database name")
    return value


def replication(settings: Settings) -> str:
    """The CQL replication map of the pipeline's keyspaces: its datacenter, its replication factor."""
    datacenter = settings.cassandra_datacenter.replace("'", "''")
    return f"{{'class': 'NetworkTopologyStrategy', '{datacenter}': {settings.cassandra_replication_factor:d}}}"


def migrate_cassandra(settings: Settings, say: Callable[[str], None]) -> int:
    from jobpulse.clients import cassandra_cluster

    keyspace = _identifier(settings.cassandra_keyspace)
    cluster = cassandra_cluster(settings)
    try:
        session = cluster.connect()
        # Replication is configuration, not schema history: the keyspace is created here, not in a file.
        session.execute(f"CREATE KEYSPACE IF NOT EXISTS {keyspace} WITH replication = {replication(settings)}")
        session.set_keyspace(keyspace)
        session.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version int PRIMARY KEY, name text, checksum text, applied_at timestamp)"
        )
        applied = {
            row.version: row.checksum for row in session.execute("SELECT version, checksum FROM schema_migrations")
        }
        pending = _pending(discover("cassandra"), applied)
        record = session.prepare(
            f"INSERT INTO {keyspace}.schema_migrations (version, name, checksum, applied_at) "
            "VALUES (?, ?, ?, toTimestamp(now()))"
        )
        for migration in pending:
            for statement in migration.statements():
                session.execute(statement, timeout=60)
            session.execute(record, (migration.version, migration.name, migration.checksum))
            say(f"applied {migration.label}")
        return len(pending)
    finally:
        cluster.shutdown()


def migrate_mysql(settings: Settings, say: Callable[[str], None]) -> int:
    from jobpulse.clients import mysql_connect

    connection = mysql_connect(settings)
    try:
        cursor = connection.cursor()
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INT PRIMARY KEY, name VARCHAR(200) NOT NULL, "
            "checksum CHAR(64) NOT NULL, applied_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP)"
        )
        cursor.execute("SELECT version, checksum FROM schema_migrations")
        applied = dict(cursor.fetchall())
        pending = _pending(discover("mysql"), applied)
        for migration in pending:
            if migration.resource.name.endswith(".py"):
                module: Any = importlib.import_module(f"jobpulse.migrations.mysql.{migration.resource.name[:-3]}")
                module.apply(connection)
            else:
                for statement in migration.statements():
                    cursor.execute(statement)
            cursor.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )
            say(f"applied {migration.label}")
        return len(pending)
    finally:
        connection.close()


def migrate_lakehouse(settings: Settings, say: Callable[[str], None]) -> int:
    """Lakehouse tables, through the Spark Thrift server (the catalog dbt and the Spark jobs share)."""
    from jobpulse.clients import thrift_cursor

    database = _identifier(settings.lakehouse_database)
    with thrift_cursor(settings) as cursor:
        cursor.execute(f"CREATE DATABASE IF NOT EXISTS {database}")
        cursor.execute(f"USE {database}")
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INT, name STRING, checksum STRING, applied_at TIMESTAMP) USING delta"
        )
        cursor.execute("SELECT version, checksum FROM schema_migrations")
        pending = _pending(discover("lakehouse"), dict(cursor.fetchall()))
        for migration in pending:
            for statement in migration.statements():
                cursor.execute(statement)
            cursor.execute(
                "INSERT INTO schema_migrations VALUES (%(version)d, %(name)s, %(checksum)s, current_timestamp())",
                {"version": migration.version, "name": migration.name, "checksum": migration.checksum},
            )
            say(f"applied {migration.label}")
        return len(pending)


def ensure_topics(settings: Settings, say: Callable[[str], None]) -> int:
    """Create the tracking topic and its dead-letter topic when missing, and grow a dead-letter topic with fewer
    partitions than the tracking topic: the collector dead-letters the rejects of each partition to the
    dead-letter partition of the same number (``ingest.collector``)."""
    from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic

    from jobpulse.clients import kafka_config

    admin = AdminClient(kafka_config(settings))
    existing = admin.list_topics(timeout=10).topics
    tracking = existing.get(settings.kafka_topic)
    partitions = settings.kafka_partitions if tracking is None else len(tracking.partitions)
    # Messages up to 4 MiB are let in so the collector can dead-letter an oversized event (> 1 MiB) with its
    # reason rather than the producer failing; the dead-letter topic takes them plus their headers.
    # An acknowledged message (acks=all) is on min.insync.replicas brokers: one may fail without a loss.
    durability = {"min.insync.replicas": str(settings.kafka_min_insync_replicas)}
    wanted = {
        settings.kafka_topic: NewTopic(
            settings.kafka_topic,
            num_partitions=partitions,
            replication_factor=settings.kafka_replication_factor,
            config={"retention.ms": str(7 * 86400 * 1000), "max.message.bytes": str(4 * 1024 * 1024), **durability},
        ),
        settings.kafka_dlq_topic: NewTopic(
            settings.kafka_dlq_topic,
            num_partitions=partitions,
            replication_factor=settings.kafka_replication_factor,
            config={"retention.ms": str(30 * 86400 * 1000), "max.message.bytes": str(5 * 1024 * 1024), **durability},
        ),
    }
    missing = [topic for name, topic in wanted.items() if name not in existing]
    if missing:
        for name, future in admin.create_topics(missing, operation_timeout=30).items():
            future.result()
            say(f"created Kafka topic {name}")
    dead_letters = existing.get(settings.kafka_dlq_topic)
    if dead_letters is None or len(dead_letters.partitions) >= partitions:
        return len(missing)
    grow = NewPartitions(settings.kafka_dlq_topic, partitions)
    admin.create_partitions([grow], operation_timeout=30)[settings.kafka_dlq_topic].result()
    say(f"grew Kafka topic {settings.kafka_dlq_topic} from {len(dead_letters.partitions)} to {partitions} partitions")
    return len(missing) + 1


def migrate(settings: Settings, say: Callable[[str], None] = print) -> int:
    """Bring every store up to the latest schema; returns the number of changes made."""
    return (
        migrate_mysql(settings, say)
        + migrate_cassandra(settings, say)
        + migrate_lakehouse(settings, say)
        + ensure_topics(settings, say)
    )
