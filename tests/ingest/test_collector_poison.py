"""No message stops the collector or is lost: poison inputs, batches Cassandra refuses, an unwritable dead-letter
topic, and random messages, against the real Kafka and Cassandra."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from ingest.collector import REASON_HEADER, SOURCE_HEADER, Collector, CollectorConfig, GaveUp
from ingest.events import Event, Reason, Rejected, parse_event
from ingest.raw_log import store_in_halves
from jobpulse.config import Settings
from tests.ingest.conftest import (
    collector_process,
    committed_offsets,
    dead_letters,
    event_json,
    new_create_time,
    produce,
    stored,
)


def drain(settings: Settings, config: CollectorConfig | None = None, give_up_after: float = 120) -> Collector:
    """Run a collector until the topic is consumed; a watchdog stops it if it loops on something."""
    collector = Collector(settings, config or CollectorConfig(backoff_max=2))
    watchdog = threading.Timer(give_up_after, collector.request_stop)
    watchdog.start()
    try:
        collector.run(drain=True)
    finally:
        watchdog.cancel()
    return collector


def reasons_by_source(settings: Settings) -> dict[str, str]:
    return {headers[SOURCE_HEADER].decode(): headers[REASON_HEADER].decode() for _, headers in dead_letters(settings)}


def test_poison_messages_are_dead_lettered_with_their_reason_and_the_rest_stored(private: Settings, cassandra):
    create_time = new_create_time()
    poison = {
        Reason.CREATE_TIME_INVALID: json.dumps({"create_time": create_time + "\n", "job_id": 1}).encode(),
        Reason.INVALID_NUMBER: b'{"create_time": "' + new_create_time().encode() + b'", "bid": 1' + b"0" * 400 + b"}",
        Reason.OUT_OF_RANGE: event_json(job_id=3, custom_track="click", bid=1e15),
    }
    huge_integer = b"1" + b"0" * 5000  # more digits than Python's int() takes, in a text field: kept as text
    valid = [
        event_json(job_id=7),
        b'{"create_time": "' + new_create_time().encode() + b'", "ed": ' + huge_integer + b"}",
    ]
    produce(private, [*poison.values(), *valid])

    collector = drain(private)

    assert (collector.counters.written, collector.counters.dead_lettered) == (len(valid), len(poison))
    assert sorted(reasons_by_source(private).values()) == sorted(reason.value for reason in poison)
    ids = [str(parse_event(raw).create_time) for raw in valid]
    assert len(stored(cassandra, ids)) == len(valid)
    assert committed_offsets(private) == len(poison) + len(valid)


class Crash(BaseException):
    """The process dying at that point: nothing in the collector catches it."""


@pytest.mark.parametrize("delivered", [3, 1], ids=["all delivered", "one delivered"])
def test_a_collector_dying_between_dead_letters_and_commit_leaves_each_dead_letter_once(
    private: Settings, cassandra, monkeypatch, delivered: int
):
    poison = [b"{not json " + str(number).encode() for number in range(3)]
    produce(private, [*poison, event_json(job_id=1)])
    send_dead_letters = Collector._dead_letter

    def send_then_die(collector: Collector, rejects: list) -> dict[int, str]:
        send_dead_letters(collector, rejects[:delivered])  # the others' sends failed, or never left
        raise Crash

    monkeypatch.setattr(Collector, "_dead_letter", send_then_die)
    with pytest.raises(Crash):
        drain(private)
    monkeypatch.undo()
    assert committed_offsets(private) == 0
    assert len(dead_letters(private)) == delivered

    collector = drain(private)  # consumes the batch again: sends only the dead letters not there yet

    assert sorted(value for value, _ in dead_letters(private)) == sorted(poison)
    assert collector.counters.dead_lettered == len(poison)
    assert committed_offsets(private) == len(poison) + 1


def test_a_dead_letter_of_another_message_from_the_same_source_is_no_reason_to_skip(private: Settings, cassandra):
    """A tracking topic made again under its name numbers its messages from 0 again: the dead-letter topic then
    holds a dead letter naming the same source as a new message, with other bytes."""
    from confluent_kafka.admin import AdminClient

    from jobpulse.clients import kafka_config
    from jobpulse.migrations import ensure_topics

    produce(private, [b"not json, the old topic's"], key=b"one partition")
    drain(private)
    admin = AdminClient(kafka_config(private))
    admin.delete_topics([private.kafka_topic])[private.kafka_topic].result()
    while private.kafka_topic in admin.list_topics(timeout=10).topics:
        time.sleep(0.2)
    ensure_topics(private, say=lambda message: None)
    made_again = dataclasses.replace(private, collector_group=f"{private.collector_group}.again")
    produce(made_again, [b"not json, the new topic's"], key=b"one partition")

    drain(made_again)

    letters = dead_letters(private)
    assert len({headers[SOURCE_HEADER] for _, headers in letters}) == 1
    assert sorted(value for value, _ in letters) == [b"not json, the new topic's", b"not json, the old topic's"]


def test_a_batch_over_cassandras_size_limit_is_written_in_halves(private: Settings, cassandra):
    # Each event is under the contract's 1 MiB, but two together are over the local batch_size_fail_threshold
    # (640 KiB): Cassandra refuses the batch that holds both.
    large = [event_json(job_id=index, ed="x" * 400_000) for index in range(3)]
    small = [event_json(job_id=index) for index in range(100)]
    produce(private, [*large, *small])

    collector = drain(private, give_up_after=90)

    ids = [json.loads(raw)["create_time"] for raw in [*large, *small]]
    assert len(stored(cassandra, ids)) == len(ids), "every event must be stored, the large ones too"
    assert collector.counters.dead_lettered == 0
    assert committed_offsets(private) == len(ids)


def event(number: int) -> Event:
    return parse_event(event_json(job_id=number))


def test_store_in_halves_isolates_each_event_refused_alone():
    events = [event(number) for number in range(13)]
    poisoned = {events[2].create_time, events[11].create_time}
    written: list[Event] = []

    class Refused(Exception):
        pass

    def store(part: Sequence[Event]) -> None:
        if any(item.create_time in poisoned for item in part):
            raise Refused(f"{len(part)} rows")
        written.extend(part)

    refused = list(store_in_halves(events, store, Refused))

    assert sorted(item.create_time for item, _ in refused) == sorted(poisoned)
    assert sorted(item.create_time for item in written) == sorted(
        e.create_time for e in events if e.create_time not in poisoned
    )


def test_store_in_halves_lets_other_errors_through_for_the_caller_to_retry():
    def store(part: Sequence[Event]) -> None:
        raise TimeoutError("no answer")

    with pytest.raises(TimeoutError):
        list(store_in_halves([event(1), event(2)], store, ValueError))


@pytest.fixture
def without_dead_letter_topic(private: Settings) -> Iterator[Settings]:
    """``private`` with its dead-letter topic deleted (made again afterwards)."""
    from confluent_kafka.admin import AdminClient

    from jobpulse.clients import kafka_config
    from jobpulse.migrations import ensure_topics

    admin = AdminClient(kafka_config(private))
    admin.delete_topics([private.kafka_dlq_topic])[private.kafka_dlq_topic].result()
    deadline = time.monotonic() + 60
    while private.kafka_dlq_topic in admin.list_topics(timeout=10).topics and time.monotonic() < deadline:
        time.sleep(0.2)
    yield private
    ensure_topics(private, say=lambda message: None)


def test_an_unwritable_dead_letter_topic_stops_the_collector_loudly_and_commits_nothing(
    without_dead_letter_topic: Settings, cassandra
):
    from jobpulse.migrations import ensure_topics

    private = without_dead_letter_topic
    valid = event_json(job_id=1)
    produce(private, [valid, b"not json"])

    process = collector_process(private, "--drain", "--dead-letter-attempts", "2", "--dead-letter-timeout", "2")
    try:
        output, _ = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        raise

    assert process.returncode == 69, output
    assert "collector stopped: could not dead-letter rejected messages after 2 attempts" in output
    assert committed_offsets(private) == 0, "the batch holding an undelivered dead letter must stay uncommitted"

    ensure_topics(private, say=lambda message: None)
    drain(private)
    assert committed_offsets(private) == 2
    assert list(reasons_by_source(private).values()) == [Reason.NOT_JSON.value]
    assert len(stored(cassandra, [json.loads(valid)["create_time"]])) == 1


def test_dead_lettering_gives_up_after_its_attempts_in_process(without_dead_letter_topic: Settings):
    private = without_dead_letter_topic
    produce(private, [b"{}"])
    config = CollectorConfig(dead_letter_attempts=3, dead_letter_timeout=1, backoff_initial=0.1)
    collector = Collector(private, config)
    with pytest.raises(GaveUp, match="after 3 attempts"):
        collector.run(drain=True)
    assert collector.counters.retries == 2
    assert committed_offsets(private) == 0


def test_a_dead_letter_topic_with_fewer_partitions_than_the_topic_is_refused(without_dead_letter_topic: Settings):
    from confluent_kafka.admin import AdminClient, NewTopic

    from jobpulse.clients import kafka_config
    from jobpulse.errors import OperatorError

    private = without_dead_letter_topic
    admin = AdminClient(kafka_config(private))
    admin.create_topics([NewTopic(private.kafka_dlq_topic, num_partitions=1)])[private.kafka_dlq_topic].result()
    produce(private, [b"not json"])

    with pytest.raises(
        OperatorError, match=f"{private.kafka_dlq_topic} has 1 partitions, fewer than the {private.kafka_partitions}"
    ):
        drain(private)
    assert committed_offsets(private) == 0


# -- fuzz: random messages through a running collector ----------------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30) | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8,
)
fields = st.sampled_from(["job_id", "bid", "custom_track", "ts", "publisher_id", "ua", "extra"])
documents = st.builds(
    lambda create_time, values: json.dumps({"create_time": create_time, **values}).encode(),
    st.one_of(st.just(None).map(lambda _: new_create_time()), st.text(max_size=40), json_values),
    st.dictionaries(fields, json_values, max_size=5),
)
messages = st.lists(st.binary(max_size=200) | documents, min_size=1, max_size=60)


@hypothesis_settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=messages)
def test_any_message_is_stored_or_dead_lettered_and_offsets_pass_only_what_is_written(
    private: Settings, cassandra, batch: list[bytes]
):
    before = committed_offsets(private)
    already_dead = set(reasons_by_source(private))
    produce(private, batch)

    collector = drain(private)  # never raises: a poison message would have crashed it or looped it here

    assert committed_offsets(private) == before + len(batch)
    dead = {source: reason for source, reason in reasons_by_source(private).items() if source not in already_dead}
    assert collector.counters.dead_lettered == len(dead) and collector.counters.consumed == len(batch)
    # Every message is either in the dead-letter topic or an event stored in the raw log.
    accepted = []
    for raw in batch:
        try:
            accepted.append(str(parse_event(raw).create_time))
        except Rejected:
            continue
    assert len(dead) == len(batch) - len(accepted)
    assert set(stored(cassandra, accepted)) == set(accepted)


def test_replay_direct_stores_large_events_and_reports_each_invalid_line(running_stack: Settings, cassandra, tmp_path):
    from ingest.replay import replay_direct

    valid = [event_json(job_id=index, ed="x" * 400_000 if index < 2 else "") for index in range(5)]
    path = tmp_path / "events.ndjson"
    path.write_bytes(b"\n".join([valid[0], b"not json", *valid[1:]]) + b"\n")

    report = replay_direct(running_stack, [str(path)], progress=False)

    assert report.stored == len(valid)
    assert report.invalid == [f"{path}:2: not_json (Expecting value at line 1 column 1)"]
    assert len(stored(cassandra, [json.loads(raw)["create_time"] for raw in valid])) == len(valid)


def test_health_is_progress_not_a_running_process(tmp_path):
    import os

    from ingest.collector import health

    stats = tmp_path / "stats.json"
    assert health(stats, max_age=60)[0] is False  # no counters yet

    def written(seconds_ago: float, pid: int) -> None:
        stats.write_text(json.dumps({"updated_at": time.time() - seconds_ago, "pid": pid, "lag": 0}))

    written(5, os.getpid())
    assert health(stats, max_age=60) == (True, f"healthy: pid {os.getpid()}, counters written 5s ago, lag 0")
    written(120, os.getpid())  # alive, but stuck retrying a dependency
    assert health(stats, max_age=60)[0] is False
    written(5, 2**22 + 12345)  # no such process
    assert health(stats, max_age=60)[0] is False
