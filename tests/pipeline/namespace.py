"""A pipeline of a test's own on the shared stack: Kafka topics, consumer group, Cassandra keyspace, lakehouse
databases and MySQL database, migrated on entry and dropped on exit."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from jobpulse.clients import cassandra_cluster
from jobpulse.config import Settings
from jobpulse.migrations import migrate
from jobpulse.stack import service


@contextmanager
def isolated_pipeline(base: Settings, name: str) -> Iterator[Settings]:
    suffix = f"{name}_{uuid.uuid4().hex[:8]}"
    settings = dataclasses.replace(
        base,
        kafka_topic=f"test.{suffix}",
        kafka_dlq_topic=f"test.{suffix}.dlq",
        collector_group=f"test-{suffix}",
        cassandra_keyspace=f"test_{suffix}",
        lakehouse_database=f"test_lake_{suffix}",
        dbt_lakehouse_schema=f"test_models_{suffix}",
        mysql_database=f"test_dw_{suffix}",
        ingest_safety_lag=1,
    )
    mariadb = service(settings, "mariadb")
    mariadb.admin_sql(
        f"CREATE DATABASE {settings.mysql_database} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;"
        f"GRANT ALL PRIVILEGES ON {settings.mysql_database}.* TO '{settings.mysql_user}'@'%';"
    )
    try:
        migrate(settings, say=lambda message: None)
        yield settings
    finally:
        from confluent_kafka.admin import AdminClient
        from pyhive import hive

        from jobpulse.clients import kafka_config

        mariadb.admin_sql(f"DROP DATABASE IF EXISTS {settings.mysql_database};")
        cursor = hive.connect(host=settings.spark_thrift_host, port=settings.spark_thrift_port).cursor()
        for database in (settings.lakehouse_database, settings.dbt_lakehouse_schema):
            cursor.execute(f"DROP DATABASE IF EXISTS {database} CASCADE")
        cluster = cassandra_cluster(settings)
        cluster.connect().execute(f"DROP KEYSPACE IF EXISTS {settings.cassandra_keyspace}", timeout=60)
        cluster.shutdown()
        AdminClient(kafka_config(settings)).delete_topics([settings.kafka_topic, settings.kafka_dlq_topic])
