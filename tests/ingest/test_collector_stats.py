"""The collector's counters in MySQL: the real collector, against the stack's Kafka, Cassandra and MariaDB (a topic,
consumer group and serving database of the test's own), publishes what it consumed, wrote and dead-lettered;
and a MySQL it cannot reach changes nothing of what it collects."""

from __future__ import annotations

import dataclasses
import json
import logging
import socket
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import mysql.connector
import pytest

from ingest.collector import Collector, CollectorConfig
from ingest.collector_stats import CounterPublisher, Instance, Report, increments
from ingest.events import Reason
from jobpulse import namespace
from jobpulse.clients import mysql_connect
from jobpulse.config import Settings
from jobpulse.migrations import migrate_mysql
from tests.ingest.conftest import event_json, produce, stored


def report(consumed: int, written: int, dead_lettered: int, **changes: object) -> Report:
    fields = dict(at=datetime.now(UTC), consumed=consumed, written=written, dead_lettered=dead_lettered,
                  dead_lettered_by_reason={}, batches=1, retries=0, lag=0)  # fmt: skip
    return Report(**{**fields, **changes})  # type: ignore[arg-type]


def test_a_sample_holds_what_the_report_adds_to_the_last_stored_one():
    assert increments(report(10, 8, 2), None) == (10, 8, 2)
    assert increments(report(25, 20, 5), report(10, 8, 2)) == (15, 12, 3)


@pytest.fixture
def serving(private: Settings) -> Iterator[Settings]:
    """``private`` with a serving database of its own, migrated."""
    settings = dataclasses.replace(private, mysql_database=f"test_collector_{uuid.uuid4().hex[:8]}")
    namespace.create_serving_database(settings)
    try:
        migrate_mysql(settings, say=lambda message: None)
        yield settings
    finally:
        namespace.drop_serving_database(settings)


def rows(settings: Settings, sql: str) -> list[dict]:
    connection = mysql_connect(settings)
    try:
        cursor = connection.cursor(dictionary=True)
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        connection.close()


def drain(settings: Settings, **config: object) -> Collector:
    collector = Collector(settings, CollectorConfig(publish_counters=True, **config))  # type: ignore[arg-type]
    collector.run(drain=True)
    return collector


def test_the_counters_land_in_mysql_and_match_what_was_collected(serving: Settings, cassandra):
    valid = [event_json(job_id=index, custom_track="click") for index in range(300)]
    rejected = [b"{not json"] * 4 + [event_json(job_id="twelve")] * 3
    produce(serving, valid[:150] + rejected + valid[150:])

    first = drain(serving, batch_size=50, stats_interval=0.0)  # a report after every batch: many samples
    produce(serving, [event_json(job_id=1), b"[1]"])
    second = drain(serving)

    assert len(stored(cassandra, [json.loads(raw)["create_time"] for raw in valid])) == len(valid)
    instances = rows(serving, "SELECT * FROM collector_instances")
    assert len(instances) == 2, "one row per collector run"
    by_consumed = sorted(instances, key=lambda row: row["consumed"])
    for collector, row in zip((second, first), by_consumed, strict=True):
        counters = collector.counters
        assert (row["consumed"], row["written"], row["dead_lettered"], row["batches"]) == (
            counters.consumed, counters.written, counters.dead_lettered, counters.batches,
        )  # fmt: skip
        assert row["consumer_group"] == serving.collector_group and row["topic"] == serving.kafka_topic
        assert row["mode"] == "drain" and row["stopped_at"] is not None, "a drain stops cleanly"
        assert row["lag_messages"] in (0, None)
    assert (by_consumed[1]["consumed"], by_consumed[1]["written"], by_consumed[1]["dead_lettered"]) == (307, 300, 7)
    assert json.loads(by_consumed[1]["dead_lettered_by_reason"]) == {
        Reason.NOT_JSON.value: 4, Reason.INVALID_NUMBER.value: 3,
    }  # fmt: skip
    assert json.loads(by_consumed[0]["dead_lettered_by_reason"]) == {Reason.NOT_AN_OBJECT.value: 1}

    samples = rows(
        serving,
        "SELECT instance_id, COUNT(*) AS reports, SUM(consumed) AS consumed, SUM(written) AS written, "
        "SUM(dead_lettered) AS dead_lettered FROM collector_samples GROUP BY instance_id",
    )
    totals = {
        row["instance_id"]: (row["consumed"], row["written"], row["dead_lettered"])
        for row in rows(serving, "SELECT * FROM collector_instances")
    }
    assert {row["instance_id"]: (row["consumed"], row["written"], row["dead_lettered"]) for row in samples} == totals
    assert max(row["reports"] for row in samples) > 1, "the first drain reported batch by batch"
    (rate,) = rows(serving, "SELECT SUM(dead_lettered) / SUM(consumed) AS rate FROM collector_samples")
    assert float(rate["rate"]) == pytest.approx(8 / 309, abs=1e-4)  # MySQL divides to 4 decimals


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_collector_keeps_collecting_while_mysql_is_unreachable(private: Settings, cassandra, caplog):
    unreachable = dataclasses.replace(private, mysql_port=closed_port())
    valid = [event_json(job_id=index) for index in range(200)]
    produce(private, [*valid, b"{not json"])

    caplog.set_level(logging.WARNING, logger="jobpulse.collector")
    began = time.monotonic()
    collector = drain(unreachable, batch_size=40, stats_interval=0.0)
    assert time.monotonic() - began < 60

    assert (collector.counters.written, collector.counters.dead_lettered) == (len(valid), 1)
    assert len(stored(cassandra, [json.loads(raw)["create_time"] for raw in valid])) == len(valid)
    assert "could not publish the collector's counters to MySQL" in caplog.text


def test_a_mysql_that_never_answers_does_not_hold_up_the_collector(private: Settings, cassandra):
    """A server that takes the connection and says nothing (a hung MySQL): the loop never waits for it."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        hung = dataclasses.replace(private, mysql_port=silent.getsockname()[1])
        valid = [event_json(job_id=index) for index in range(400)]
        produce(private, valid)
        began = time.monotonic()
        collector = drain(hung, batch_size=40, stats_interval=0.0)
        took = time.monotonic() - began
    assert collector.counters.written == len(valid)
    assert len(stored(cassandra, [json.loads(raw)["create_time"] for raw in valid])) == len(valid)
    # ten batches and more reports, each a connection that would hang for seconds: only the last is waited for
    assert took < 30


def test_a_report_mysql_missed_is_carried_by_the_next_one(serving: Settings):
    instance = Instance(serving.collector_group, serving.kafka_topic, "service", datetime.now(UTC))
    publisher = CounterPublisher(dataclasses.replace(serving, mysql_port=closed_port()), instance)
    with pytest.raises(mysql.connector.Error):
        publisher.publish(report(100, 90, 10))
    assert publisher.published is None
    publisher.settings = serving  # MySQL is back
    publisher.offer(report(150, 135, 15, lag=42))
    publisher.close(timeout=30)

    (row,) = rows(serving, "SELECT * FROM collector_instances")
    assert (row["consumed"], row["lag_messages"], row["stopped_at"], row["mode"]) == (150, 42, None, "service")
    (sample,) = rows(serving, "SELECT * FROM collector_samples")
    assert (sample["consumed"], sample["written"], sample["dead_lettered"]) == (150, 135, 15)


def test_reports_older_than_the_retention_are_pruned(serving: Settings):
    connection = mysql_connect(serving)
    try:
        cursor = connection.cursor()
        cursor.execute(
            "INSERT INTO collector_instances VALUES ('gone', 'g', 't', 'h', 1, 'service', UTC_TIMESTAMP() - INTERVAL "
            "9 DAY, UTC_TIMESTAMP() - INTERVAL 8 DAY, NULL, 1, 1, 0, '{}', 1, 0, 0)"
        )
        cursor.execute(
            "INSERT INTO collector_samples VALUES ('gone', UTC_TIMESTAMP() - INTERVAL 8 DAY, 1, 1, 0, 0), "
            "('gone', UTC_TIMESTAMP() - INTERVAL 6 DAY, 1, 1, 0, 0)"
        )
    finally:
        connection.close()
    instance = Instance(serving.collector_group, serving.kafka_topic, "service", datetime.now(UTC))
    CounterPublisher(serving, instance).publish(report(1, 1, 0))

    assert [row["instance_id"] for row in rows(serving, "SELECT * FROM collector_instances")] == [instance.instance_id]
    kept = rows(serving, "SELECT instance_id FROM collector_samples ORDER BY sampled_at")
    assert [row["instance_id"] for row in kept] == ["gone", instance.instance_id], "within the retention: kept"
