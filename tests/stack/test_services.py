"""Each service of the local stack is real and usable from Python."""

from __future__ import annotations

import time
import uuid

import mysql.connector
import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from mysql.connector import errorcode
from pyhive import hive

from jobpulse.clients import cassandra_cluster, kafka_config
from jobpulse.config import Settings

pytestmark = pytest.mark.usefixtures("running_stack")


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def cassandra_session(settings: Settings):
    cluster = cassandra_cluster(settings)
    session = cluster.connect()
    yield session
    cluster.shutdown()


@pytest.fixture
def scratch_keyspace(cassandra_session):
    keyspace = unique("test_ks")
    cassandra_session.execute(
        f"CREATE KEYSPACE {keyspace} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}"
    )
    yield keyspace
    cassandra_session.execute(f"DROP KEYSPACE {keyspace}")


def mysql_connect(settings: Settings, user: str, password: str):
    return mysql.connector.connect(
        host=settings.mysql_host,
        port=settings.mysql_port,
        user=user,
        password=password,
        database=settings.mysql_database,
        autocommit=True,  # no open transaction may hold a metadata lock that blocks the cleanup's DROP
    )


def test_cassandra_keyspace_row_roundtrip(cassandra_session, scratch_keyspace):
    cassandra_session.execute(f"CREATE TABLE {scratch_keyspace}.notes (id int PRIMARY KEY, body text)")
    insert = cassandra_session.prepare(f"INSERT INTO {scratch_keyspace}.notes (id, body) VALUES (?, ?)")
    cassandra_session.execute(insert, (7, "héllo 'quoted' ✓"))
    row = cassandra_session.execute(f"SELECT id, body FROM {scratch_keyspace}.notes WHERE id = 7").one()
    assert (row.id, row.body) == (7, "héllo 'quoted' ✓")


def test_kafka_produce_then_consume(settings: Settings):
    topic = unique("test_topic")
    admin = AdminClient(kafka_config(settings))
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])[topic].result(timeout=30)
    try:
        producer = Producer(kafka_config(settings, **{"enable.idempotence": True}))
        producer.produce(topic, key=b"k1", value=b'{"create_time": "x"}', headers={"source": b"test"})
        assert producer.flush(30) == 0
        consumer = Consumer(
            kafka_config(settings, **{"group.id": unique("test_group"), "auto.offset.reset": "earliest"})
        )
        consumer.subscribe([topic])
        deadline, message = time.monotonic() + 30, None
        while message is None and time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is not None and message.error():
                pytest.fail(f"consumer error: {message.error()}")
        consumer.close()
        assert message is not None, "no message consumed within 30s"
        assert (message.key(), message.value(), message.headers()) == (
            b"k1",
            b'{"create_time": "x"}',
            [("source", b"test")],
        )
    finally:
        admin.delete_topics([topic])[topic].result(timeout=30)


def test_mariadb_pipeline_user_writes_and_readonly_user_cannot(settings: Settings):
    table = unique("test_rows")
    writer = mysql_connect(settings, settings.mysql_user, settings.mysql_password)
    reader = mysql_connect(settings, settings.mysql_readonly_user, settings.mysql_readonly_password)
    try:
        cursor = writer.cursor()
        cursor.execute(f"CREATE TABLE {table} (id INT PRIMARY KEY, label VARCHAR(40))")
        cursor.execute(f"INSERT INTO {table} VALUES (%s, %s)", (1, "written by the pipeline"))

        read = reader.cursor()
        read.execute(f"SELECT id, label FROM {table}")
        assert read.fetchall() == [(1, "written by the pipeline")]
        with pytest.raises(mysql.connector.Error) as denied:
            read.execute(f"INSERT INTO {table} VALUES (%s, %s)", (2, "must not land"))
        assert denied.value.errno == errorcode.ER_TABLEACCESS_DENIED_ERROR
        read.execute(f"SELECT COUNT(*) FROM {table}")
        assert read.fetchone() == (1,)
    finally:
        writer.cursor().execute(f"DROP TABLE IF EXISTS {table}")
        writer.close()
        reader.close()


@pytest.mark.parametrize("password", ["", "wrong"])
def test_mariadb_root_is_not_open_over_tcp(settings: Settings, password: str):
    with pytest.raises(mysql.connector.Error) as denied:
        mysql.connector.connect(host=settings.mysql_host, port=settings.mysql_port, user="root", password=password)
    assert denied.value.errno in {errorcode.ER_ACCESS_DENIED_ERROR, errorcode.ER_ACCESS_DENIED_NO_PASSWORD_ERROR}


def test_spark_thrift_server_reads_a_cassandra_table_through_the_connector(
    settings: Settings, cassandra_session, scratch_keyspace
):
    cassandra_session.execute(f"CREATE TABLE {scratch_keyspace}.clicks (job_id int PRIMARY KEY, bid double)")
    insert = cassandra_session.prepare(f"INSERT INTO {scratch_keyspace}.clicks (job_id, bid) VALUES (?, ?)")
    for job_id, bid in [(1, 0.5), (2, 1.25), (3, 2.0)]:
        cassandra_session.execute(insert, (job_id, bid))

    connection = hive.connect(host=settings.spark_thrift_host, port=settings.spark_thrift_port, username="test")
    try:
        cursor = connection.cursor()
        query = f"SELECT job_id, bid FROM cassandra.{scratch_keyspace}.clicks ORDER BY job_id"
        # The connector learns of a new table from the driver's schema events, which arrive a moment later.
        deadline = time.monotonic() + 30
        while True:
            try:
                cursor.execute(query)
                break
            except hive.OperationalError as error:
                if "TABLE_OR_VIEW_NOT_FOUND" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        assert cursor.fetchall() == [(1, 0.5), (2, 1.25), (3, 2.0)]
    finally:
        connection.close()


def test_lakehouse_catalog_lives_in_mariadb_not_derby(settings: Settings):
    """A table created through the Thrift server is recorded in the shared metastore database."""
    schema, table = unique("test_schema"), "events"
    connection = hive.connect(host=settings.spark_thrift_host, port=settings.spark_thrift_port, username="test")
    try:
        cursor = connection.cursor()
        cursor.execute(f"CREATE SCHEMA {schema}")
        cursor.execute(f"CREATE TABLE {schema}.{table} (id INT) USING delta")
        cursor.execute(f"INSERT INTO {schema}.{table} VALUES (1), (2)")
        cursor.execute(f"SELECT SUM(id) FROM {schema}.{table}")
        assert cursor.fetchone() == (3,)

        metastore = mysql.connector.connect(
            host=settings.mysql_host,
            port=settings.mysql_port,
            user=settings.metastore_user,
            password=settings.metastore_password,
            database=settings.metastore_database,
        )
        meta = metastore.cursor()
        meta.execute(
            "SELECT t.TBL_NAME FROM TBLS t JOIN DBS d ON d.DB_ID = t.DB_ID WHERE d.NAME = %s",
            (schema,),
        )
        assert meta.fetchall() == [(table,)]
        metastore.close()
        assert (settings.warehouse_dir / f"{schema}.db" / table / "_delta_log").is_dir()
    finally:
        cursor.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        connection.close()
