"""The collector rides out a restart of Cassandra or Kafka: it retries with backoff and loses nothing.

These stop a service of the shared stack, so they run after every other test (stack_lifecycle)."""

from __future__ import annotations

import json
import signal
import time

import pytest

from jobpulse import stack
from jobpulse.clients import cassandra_cluster
from jobpulse.config import Settings
from tests.ingest.conftest import collector_process, committed_offsets, event_json, produce, stored

pytestmark = pytest.mark.stack_lifecycle


def wait_for_commits(settings: Settings, expected: int, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while committed_offsets(settings) < expected:
        assert time.monotonic() < deadline, f"only {committed_offsets(settings)} of {expected} committed"
        time.sleep(0.5)


def stop_gracefully(process) -> str:
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    return output


def count_stored(settings: Settings, events: list[bytes]) -> int:
    """With a session opened now: one opened before a restart may not have reconnected yet."""
    cluster = cassandra_cluster(settings)
    try:
        return len(stored(cluster.connect(), [json.loads(raw)["create_time"] for raw in events]))
    finally:
        cluster.shutdown()


def test_a_cassandra_outage_is_waited_out(private: Settings):
    events = [event_json(job_id=index, custom_track="click") for index in range(2000)]
    process = collector_process(private)
    try:
        stack.service(private, "cassandra").process.stop()
        produce(private, events)
        time.sleep(5)  # the collector is retrying now
        assert committed_offsets(private) == 0, "nothing may be committed while Cassandra is down"
        stack.up(private, say=lambda message: None)
        wait_for_commits(private, len(events))
    finally:
        output = stop_gracefully(process)
    assert "retrying" in output
    assert count_stored(private, events) == len(events)


def test_a_kafka_restart_is_waited_out(private: Settings):
    before = [event_json(job_id=index, custom_track="click") for index in range(1000)]
    after = [event_json(job_id=index, custom_track="conversion") for index in range(1000)]
    process = collector_process(private)
    try:
        produce(private, before)
        wait_for_commits(private, len(before))
        kafka = stack.service(private, "kafka")
        kafka.process.stop()
        time.sleep(3)
        stack.up(private, say=lambda message: None)
        produce(private, after)
        wait_for_commits(private, len(before) + len(after))
    finally:
        stop_gracefully(process)
    assert count_stored(private, before + after) == len(before) + len(after)
