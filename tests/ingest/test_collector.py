"""The collector against the real Kafka and Cassandra: the contract's rules end to end, duplicates, kills."""

from __future__ import annotations

import json
import signal
import time
import uuid

import pytest

from ingest.collector import DETAIL_HEADER, REASON_HEADER, SOURCE_HEADER, Collector
from ingest.events import MAX_MESSAGE_BYTES, Reason
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

TRICKY = "Zürich “curly” 'single' \"double\" \\ backslash 😀 日本語 \t\n end"


def drain(settings: Settings) -> Collector:
    collector = Collector(settings)
    collector.run(drain=True)
    return collector


def test_every_rule_of_the_contract_end_to_end(private: Settings, cassandra):
    accepted = {
        "full": event_json(job_id=12, bid=0.75, custom_track="click", ts="2026-11-27 23:59:59", dt=TRICKY),
        "numeric strings": event_json(job_id="34", bid="0.5", publisher_id=" 7 "),
        "null job": event_json(job_id=None, custom_track="click"),
        "unknown track": event_json(job_id=1, custom_track="alive"),
        "bad ts": event_json(job_id=1, ts="yesterday-ish"),
        "extra fields": event_json(job_id=1, shiny_new_field={"a": [1]}),
    }
    rejected = {
        Reason.NOT_UTF8: b'{"create_time": "' + new_create_time().encode() + b'", "dt": "\xff"}',
        Reason.NOT_JSON: b"{this is not json",
        Reason.NOT_AN_OBJECT: b'["an", "array"]',
        Reason.CREATE_TIME_MISSING: b'{"job_id": 5}',
        Reason.CREATE_TIME_INVALID: event_json(create_time=str(uuid.uuid4())),
        Reason.INVALID_NUMBER: event_json(job_id="twelve"),
        Reason.INVALID_STRING: event_json(ua={"not": "text"}),
        Reason.TOO_LARGE: event_json(ed="x" * MAX_MESSAGE_BYTES),
    }
    produce(private, [*accepted.values(), *rejected.values()])

    collector = drain(private)

    assert (collector.counters.written, collector.counters.dead_lettered) == (len(accepted), len(rejected))
    ids = {name: uuid.UUID(json.loads(raw)["create_time"]) for name, raw in accepted.items()}
    rows = stored(cassandra, [str(value) for value in ids.values()])
    assert len(rows) == len(accepted)
    full = rows[str(ids["full"])]
    assert (full.job_id, full.bid, full.custom_track, full.ts) == (12.0, 0.75, "click", "2026-11-27 23:59:59")
    assert full.dt.encode("utf-8") == TRICKY.encode("utf-8"), "text must survive byte for byte"
    assert rows[str(ids["numeric strings"])].publisher_id == 7.0
    assert rows[str(ids["null job"])].job_id is None
    assert rows[str(ids["bad ts"])].ts == "yesterday-ish"

    letters = dead_letters(private)
    by_reason = {headers[REASON_HEADER].decode(): (value, headers) for value, headers in letters}
    assert len(letters) == len(rejected)
    for reason, raw in rejected.items():
        value, headers = by_reason[reason.value]
        assert value == raw, f"{reason}: the original bytes must be kept"
        assert headers[DETAIL_HEADER] and headers[SOURCE_HEADER].startswith(private.kafka_topic.encode())


def test_the_same_event_delivered_twice_is_one_row(private: Settings, cassandra):
    create_time = new_create_time()
    twice = event_json(create_time=create_time, job_id=77, custom_track="click", bid=1.5)
    produce(private, [twice, twice])  # within one batch
    drain(private)
    produce(private, [twice])  # and again, in a later run
    drain(private)

    rows = list(
        cassandra.execute("SELECT job_id, bid FROM datalake.tracking WHERE create_time = %s", [uuid.UUID(create_time)])
    )
    assert [(row.job_id, row.bid) for row in rows] == [(77.0, 1.5)]


def test_a_collector_killed_mid_batch_then_restarted_stores_every_event(private: Settings, cassandra):
    total = 30_000
    events = [event_json(job_id=index % 500, custom_track="click", bid=0.5) for index in range(total)]
    ids = [json.loads(raw)["create_time"] for raw in events]
    produce(private, events)

    process = collector_process(private, "--batch-size", "500")
    deadline = time.monotonic() + 120
    while committed_offsets(private) == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    committed_before_kill = committed_offsets(private)
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    assert 0 < committed_before_kill < total, "the kill must land while batches are in flight"

    restarted = collector_process(private, "--drain", "--batch-size", "500")
    output, _ = restarted.communicate(timeout=300)
    assert restarted.returncode == 0, output

    assert committed_offsets(private) == total
    rows = stored(cassandra, ids)
    assert len(rows) == total, f"{total - len(rows)} events lost"
    assert dead_letters(private) == []


def test_sigterm_finishes_the_batch_in_hand_and_commits_only_what_is_stored(private: Settings, cassandra):
    total = 20_000
    events = [event_json(job_id=index, custom_track="conversion") for index in range(total)]
    ids = [json.loads(raw)["create_time"] for raw in events]
    produce(private, events)

    process = collector_process(private, "--batch-size", "1000")
    deadline = time.monotonic() + 120
    while committed_offsets(private) == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output

    committed = committed_offsets(private)
    assert committed > 0
    # Every committed message is stored: with one key-less producer the topic holds them in produce order per
    # partition, so check the stored count is at least what was committed.
    assert len(stored(cassandra, ids)) >= committed

    finish = collector_process(private, "--drain")
    output, _ = finish.communicate(timeout=300)
    assert finish.returncode == 0, output
    assert len(stored(cassandra, ids)) == total
    assert committed_offsets(private) == total


@pytest.mark.parametrize("count", [1, 3])
def test_replay_to_kafka_keeps_every_line_byte_for_byte(private: Settings, cassandra, tmp_path, count: int):
    from ingest.replay import replay_to_kafka

    valid = [event_json(job_id=index, dt=TRICKY) for index in range(5)]
    invalid = [b"not json at all", b'{"create_time": "nope"}']
    path = tmp_path / "events.ndjson"
    path.write_bytes(b"\n".join([*valid, *invalid]) + b"\n\n")
    for _ in range(count):
        report = replay_to_kafka(private, [str(path)], rate=0, progress=False)
        assert (report.published, report.empty) == (len(valid) + len(invalid), 1)
    drain(private)

    ids = [json.loads(raw)["create_time"] for raw in valid]
    rows = stored(cassandra, ids)
    assert len(rows) == len(valid)
    assert all(row.dt == TRICKY for row in rows.values())
    letters = dead_letters(private)
    assert sorted(value for value, _ in letters) == sorted(invalid * count)
