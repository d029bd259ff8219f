"""Schema migrations: applied once, recorded with checksums, refused when an applied file changed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest

from ingest.reference_data import reference_data
from jobpulse.clients import cassandra_cluster, mysql_connect
from jobpulse.config import Settings
from jobpulse.migrations import MigrationError, _pending, discover, migrate


def test_migration_files_are_numbered_without_gaps():
    for store in ("cassandra", "mysql"):
        versions = [migration.version for migration in discover(store)]
        assert versions == list(range(1, len(versions) + 1))


def test_an_applied_migration_that_changed_is_refused():
    first = discover("mysql")[0]
    with pytest.raises(MigrationError, match="changed after it was applied"):
        _pending([first], {first.version: "checksum of another text"})
    assert _pending([first], {first.version: first.checksum}) == []


def test_statements_split_on_semicolons_at_line_ends_and_skip_comments():
    statements = discover("cassandra")[0].statements()
    assert [statement.split("(")[0].strip() for statement in statements] == [
        "CREATE TABLE IF NOT EXISTS tracking",
        "CREATE TABLE IF NOT EXISTS tracking_changes",
    ]


def test_migrate_on_an_up_to_date_stack_changes_nothing(running_stack: Settings):
    assert migrate(running_stack, say=lambda message: None) == 0


def test_a_new_keyspace_gets_the_raw_log_tables(running_stack: Settings):
    settings = replace(running_stack, cassandra_keyspace="test_migrations_ks")
    cluster = cassandra_cluster(settings)
    session = cluster.connect()
    try:
        session.execute("DROP KEYSPACE IF EXISTS test_migrations_ks")
        from jobpulse.migrations import migrate_cassandra

        assert migrate_cassandra(settings, say=lambda message: None) == len(discover("cassandra"))
        tables = {row.table_name for row in session.execute(
            "SELECT table_name FROM system_schema.tables WHERE keyspace_name = 'test_migrations_ks'"
        )}  # fmt: skip
        assert tables == {"tracking", "tracking_changes", "raw_log_writers", "schema_migrations"}
        assert migrate_cassandra(settings, say=lambda message: None) == 0
    finally:
        session.execute("DROP KEYSPACE IF EXISTS test_migrations_ks")
        cluster.shutdown()


@pytest.fixture
def topics(running_stack: Settings) -> Iterator[Settings]:
    """Settings naming a tracking topic and dead-letter topic of this test's own, deleted afterwards."""
    from confluent_kafka.admin import AdminClient

    from jobpulse.clients import kafka_config

    name = f"test.migrations.{uuid.uuid4().hex[:10]}"
    settings = replace(running_stack, kafka_topic=name, kafka_dlq_topic=f"{name}.dlq")
    yield settings
    admin = AdminClient(kafka_config(settings))
    existing = admin.list_topics(timeout=10).topics
    for future in admin.delete_topics(sorted({name, settings.kafka_dlq_topic} & existing.keys())).values():
        future.result()


def partition_counts(settings: Settings) -> dict[str, int]:
    from confluent_kafka.admin import AdminClient

    from jobpulse.clients import kafka_config

    existing = AdminClient(kafka_config(settings)).list_topics(timeout=10).topics
    return {name: len(existing[name].partitions) for name in (settings.kafka_topic, settings.kafka_dlq_topic)}


def test_the_dead_letter_topic_is_made_with_the_topics_partitions(topics: Settings):
    from jobpulse.migrations import ensure_topics

    assert ensure_topics(topics, say=lambda message: None) == 2
    made = topics.kafka_partitions
    assert partition_counts(topics) == {topics.kafka_topic: made, topics.kafka_dlq_topic: made}


def test_a_dead_letter_topic_with_fewer_partitions_than_the_topic_grows_to_its_count(topics: Settings):
    from confluent_kafka.admin import AdminClient, NewTopic

    from jobpulse.clients import kafka_config
    from jobpulse.migrations import ensure_topics

    # an older deployment's: a single dead-letter partition, and a tracking topic made with other settings
    older = [NewTopic(topics.kafka_topic, num_partitions=8), NewTopic(topics.kafka_dlq_topic, num_partitions=1)]
    admin = AdminClient(kafka_config(topics))
    for future in admin.create_topics(older).values():
        future.result()

    said: list[str] = []
    assert ensure_topics(topics, say=said.append) == 1
    assert said == [f"grew Kafka topic {topics.kafka_dlq_topic} from 1 to 8 partitions"]
    assert partition_counts(topics) == {topics.kafka_topic: 8, topics.kafka_dlq_topic: 8}
    assert ensure_topics(topics, say=lambda message: None) == 0


def test_the_dimensions_hold_the_generated_reference_data(running_stack: Settings):
    data = reference_data()
    connection = mysql_connect(running_stack, readonly=True)
    cursor = connection.cursor()
    counts = {}
    for table in ("company", "master_publisher", "campaign", "job"):
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        counts[table] = cursor.fetchone()[0]
    cursor.execute("SELECT id, company_id, group_id, campaign_id, title, status FROM job WHERE id = 1")
    first = cursor.fetchone()
    connection.close()
    assert counts == {
        "company": len(data.companies),
        "master_publisher": len(data.publishers),
        "campaign": len(data.campaigns),
        "job": len(data.jobs),
    }
    job = data.jobs[0]
    assert first == (job.id, job.company_id, job.group_id, job.campaign_id, job.title, job.status)
