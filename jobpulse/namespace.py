"""A pipeline namespace: every name one pipeline owns on a shared stack (Kafka topics and consumer group,
Cassandra keyspace, lakehouse databases, MySQL database), so that a second pipeline (a test, a benchmark, a
staging copy) runs beside the default one on the same services without touching its data."""

from __future__ import annotations

import dataclasses
import time

from jobpulse.config import Settings

MYSQL_DATABASE_SUFFIX = "_dw"  # a namespace's MySQL database is its name and this


def named(base: Settings, name: str) -> Settings:
    """``base`` with every pipeline-owned name derived from ``name`` (letters, digits and underscores)."""
    if not name.replace("_", "").isalnum():
        raise ValueError(f"a namespace name takes letters, digits and underscores only, not {name!r}")
    return dataclasses.replace(
        base,
        kafka_topic=name,
        kafka_dlq_topic=f"{name}.dlq",
        collector_group=name,
        cassandra_keyspace=name,
        lakehouse_database=f"{name}_lake",
        dbt_lakehouse_schema=f"{name}_models",
        mysql_database=f"{name}{MYSQL_DATABASE_SUFFIX}",
    )


def create_serving_database(settings: Settings) -> None:
    """Create the namespace's MySQL database, granted to the pipeline's and the read-only account as the stack's
    own (no migration applied)."""
    from jobpulse.stack import service
    from jobpulse.stack.mariadb import PIPELINE_PRIVILEGES, READONLY_PRIVILEGES, grant_sql

    service(settings, "mariadb").admin_sql(
        f"CREATE DATABASE IF NOT EXISTS {settings.mysql_database} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;"
        + grant_sql(PIPELINE_PRIVILEGES, settings.mysql_database, settings.mysql_user)
        + grant_sql(READONLY_PRIVILEGES, settings.mysql_database, settings.mysql_readonly_user)
    )


def drop_serving_database(settings: Settings) -> None:
    from jobpulse.stack import service

    # Grants outlive a dropped database: remove the namespace's from the grant table too.
    service(settings, "mariadb").admin_sql(
        f"DROP DATABASE IF EXISTS {settings.mysql_database};"
        f"DELETE FROM mysql.db WHERE Db = '{settings.mysql_database}'; FLUSH PRIVILEGES;"
    )


def create(settings: Settings) -> None:
    """Create the namespace's MySQL database and apply every migration."""
    from jobpulse.migrations import migrate

    create_serving_database(settings)
    migrate(settings, say=lambda message: None)


def drop(settings: Settings) -> None:
    """Drop everything the namespace holds, on every service; what does not exist is skipped."""
    from confluent_kafka.admin import AdminClient

    from jobpulse.clients import cassandra_cluster, kafka_config, thrift_cursor

    drop_serving_database(settings)
    with thrift_cursor(settings) as cursor:
        for database in (settings.lakehouse_database, settings.dbt_lakehouse_schema):
            cursor.execute(f"DROP DATABASE IF EXISTS {database} CASCADE")
    cluster = cassandra_cluster(settings)
    try:
        cluster.connect().execute(f"DROP KEYSPACE IF EXISTS {settings.cassandra_keyspace}", timeout=120)
    finally:
        cluster.shutdown()
    admin = AdminClient(kafka_config(settings))
    topics = {settings.kafka_topic, settings.kafka_dlq_topic}
    if doomed := sorted(topics & set(admin.list_topics(timeout=30).topics)):
        for future in admin.delete_topics(doomed, operation_timeout=30).values():
            future.result()
    # Deletion completes in the background: wait, so that a `create` right after makes the topics anew.
    deadline = time.monotonic() + 60
    while topics & set(admin.list_topics(timeout=30).topics):
        if time.monotonic() > deadline:
            raise TimeoutError(f"Kafka still lists {sorted(topics)} a minute after deleting them")
        time.sleep(0.5)
