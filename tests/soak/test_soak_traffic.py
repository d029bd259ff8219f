"""The soak's traffic and bookkeeping: pure parts, no stack."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from datetime import datetime

import pytest
from cassandra.util import datetime_from_uuid1

from bench.soak import FRESHNESS_TARGET, KINDS, Sample, normal_p95, recovery, schedule
from bench.soak_traffic import MALFORMED, TOO_LARGE, Traffic
from ingest.events import Reason, Rejected, parse_event
from ingest.simulator import time_uuid


@pytest.mark.parametrize(("reason", "make"), [*MALFORMED, TOO_LARGE], ids=lambda value: getattr(value, "value", ""))
def test_each_malformed_message_is_rejected_for_the_reason_the_checker_expects(reason, make):
    rng = random.Random(7)
    with pytest.raises(Rejected) as rejected:
        parse_event(make(time_uuid(1_780_000_000.0, rng), rng))
    assert rejected.value.reason == reason


def test_the_malformed_messages_cover_every_reason_input_can_cause():
    covered = {reason for reason, _ in [*MALFORMED, TOO_LARGE]}
    assert set(Reason) - covered == {Reason.PARSE_ERROR, Reason.STORAGE_REJECTED}


def test_the_mix_holds_every_kind_and_every_valid_message_parses():
    traffic = Traffic(seed=3, rate=1000, start=datetime(2026, 12, 7, 10))
    kinds, malformed_bytes = Counter(), Counter()
    for _ in range(5000):
        message, kind, key = traffic.next()
        kinds[kind] += 1
        if kind == "malformed":
            malformed_bytes[message] += 1
        else:
            assert str(parse_event(message).create_time) == key
    assert set(kinds) == {"live", "late", "redelivery", "malformed"}
    assert kinds["live"] > 0.9 * sum(kinds.values())
    assert max(malformed_bytes.values()) == 1  # each malformed message unique: the checker finds it by its bytes


def test_late_events_are_hours_and_days_old():
    start = datetime(2026, 12, 7, 10)
    traffic = Traffic(seed=3, rate=1000, start=start)
    ages = []
    while len(ages) < 40:
        message, kind, _ = traffic.next()
        if kind == "late":
            created = datetime_from_uuid1(parse_event(message).create_time)
            ages.append((start - created).total_seconds() / 3600)
    assert min(ages) >= 2.9 and max(ages) >= 47


def test_the_schedule_kills_every_kind_each_round_never_twice_in_a_row():
    order = schedule(KINDS, rounds=5, seed=11)
    assert Counter(order) == {kind: 5 for kind in KINDS}
    assert all(first != second for first, second in itertools.pairwise(order))


def test_recovery_is_the_first_sample_fresh_with_arrivals_from_after_the_kill():
    samples = [Sample(10, 0, 30), Sample(20, 5, None), Sample(30, 9, 80), Sample(40, 0, 45), Sample(50, 0, 20)]
    assert recovery(samples, after=15, bound=50) == 35  # at 40 s, `events` still ended before the kill
    assert recovery(samples, after=45, bound=10) is None


def test_the_normal_p95_leaves_out_the_cold_start_and_falls_back_to_the_target():
    cold = [Sample(10, 0, None), Sample(20, 0, 900)]
    warm = [Sample(at, 0, 30 + at / 100) for at in range(80, 190, 10)]
    assert normal_p95(cold + warm, warmup_seconds=180) == 31.8
    assert normal_p95(cold, warmup_seconds=180) == FRESHNESS_TARGET
