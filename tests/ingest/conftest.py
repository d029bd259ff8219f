"""Fixtures for tests against the real Kafka and Cassandra: a private topic pair and consumer group per test,
the shared raw-log keyspace (tests use fresh event ids, so they never see each other's rows)."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from jobpulse.clients import cassandra_cluster, kafka_config
from jobpulse.config import Settings


def new_create_time() -> str:
    return str(uuid.uuid1(node=uuid.uuid4().int & ((1 << 48) - 1), clock_seq=uuid.uuid4().int & 0x3FFF))


def event_json(**fields: Any) -> bytes:
    fields.setdefault("create_time", new_create_time())
    return json.dumps(fields, ensure_ascii=False).encode()


@pytest.fixture
def private(running_stack: Settings) -> Iterator[Settings]:
    """Settings with a topic, dead-letter topic and consumer group of this test's own."""
    from confluent_kafka.admin import AdminClient

    from jobpulse.migrations import ensure_topics

    name = f"test.tracking.{uuid.uuid4().hex[:10]}"
    settings = dataclasses.replace(
        running_stack, kafka_topic=name, kafka_dlq_topic=f"{name}.dlq", collector_group=f"{name}.collector"
    )
    ensure_topics(settings, say=lambda message: None)
    yield settings
    admin = AdminClient(kafka_config(settings))
    for future in admin.delete_topics([settings.kafka_topic, settings.kafka_dlq_topic]).values():
        future.result()


@pytest.fixture
def cassandra(running_stack: Settings) -> Iterator[Any]:
    cluster = cassandra_cluster(running_stack)
    yield cluster.connect()
    cluster.shutdown()


def produce(settings: Settings, values: list[bytes], key: bytes | None = None) -> None:
    from confluent_kafka import Producer

    producer = Producer(kafka_config(settings, **{"message.max.bytes": 5 * 1024 * 1024, "linger.ms": 5}))
    for value in values:
        producer.produce(settings.kafka_topic, value=value, key=key)
    assert producer.flush(30) == 0


def stored(session: Any, create_times: list[str], keyspace: str = "datalake") -> dict[str, Any]:
    """Rows of ``tracking`` for these event ids, by id."""
    found = {}
    select = session.prepare(f"SELECT * FROM {keyspace}.tracking WHERE create_time IN ?")
    for start in range(0, len(create_times), 100):
        chunk = [uuid.UUID(value) for value in create_times[start : start + 100]]
        for row in session.execute(select, [chunk]):
            found[str(row.create_time)] = row
    return found


def dead_letters(settings: Settings) -> list[tuple[bytes, dict[str, bytes]]]:
    """Everything in the dead-letter topic, partition by partition: (original bytes, headers)."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

    consumer = Consumer(
        kafka_config(settings, **{"group.id": f"reader-{uuid.uuid4().hex}", "enable.partition.eof": True})
    )
    partitions = consumer.list_topics(settings.kafka_dlq_topic, timeout=10).topics[settings.kafka_dlq_topic].partitions
    consumer.assign([TopicPartition(settings.kafka_dlq_topic, number, OFFSET_BEGINNING) for number in partitions])
    found, at_end, deadline = [], set(), time.monotonic() + 60
    while at_end != set(partitions):
        assert time.monotonic() < deadline, f"the dead-letter topic's partitions {set(partitions) - at_end} never ended"
        message = consumer.poll(1.0)
        if message is None:
            continue
        if message.error():
            if message.error().code() == KafkaError._PARTITION_EOF:
                at_end.add(message.partition())
            continue
        found.append((message.value(), dict(message.headers() or [])))
    consumer.close()
    return found


def committed_offsets(settings: Settings) -> int:
    """Sum of the collector group's committed offsets over the topic's partitions."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(kafka_config(settings, **{"group.id": settings.collector_group}))
    partitions = [TopicPartition(settings.kafka_topic, number) for number in range(settings.kafka_partitions)]
    total = sum(max(tp.offset, 0) for tp in consumer.committed(partitions, timeout=10))
    consumer.close()
    return total


def collector_process(settings: Settings, *arguments: str) -> subprocess.Popen:
    """`jobpulse collect` as a separate process, configured for ``settings``' topic and group."""
    env = {
        **os.environ,
        "JOBPULSE_KAFKA_TOPIC": settings.kafka_topic,
        "JOBPULSE_KAFKA_DLQ_TOPIC": settings.kafka_dlq_topic,
        "JOBPULSE_COLLECTOR_GROUP": settings.collector_group,
        "JOBPULSE_STATE_DIR": str(settings.state_dir),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "jobpulse.cli", "collect", *arguments],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
