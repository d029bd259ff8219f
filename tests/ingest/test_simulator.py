"""The simulator's traffic: deterministic, a plausible funnel, the tracker's noise, and valid events."""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from datetime import datetime

import pytest

from ingest.events import parse_event
from ingest.reference_data import reference_data
from ingest.simulator import Simulator, encode

START = datetime(2026, 11, 27, 22, 0, 0)


def events(count: int, seed: int = 1, rate: float = 100.0) -> list[dict]:
    return list(itertools.islice(Simulator(seed=seed, start=START, rate=rate).events(), count))


@pytest.fixture(scope="module")
def sample() -> list[dict]:
    return events(20_000)


def test_same_seed_and_start_give_the_same_events():
    assert [encode(event) for event in events(500)] == [encode(event) for event in events(500)]
    assert [encode(event) for event in events(500)] != [encode(event) for event in events(500, seed=2)]


def test_every_simulated_event_passes_the_contract_with_a_unique_time_uuid(sample: list[dict]):
    parsed = [parse_event(encode(event)) for event in sample]
    assert all(event.create_time.version == 1 for event in parsed)
    assert len({event.create_time for event in parsed}) == len(parsed)


def test_time_uuid_and_ts_follow_the_simulated_clock(sample: list[dict]):
    first, last = sample[0], sample[-1]
    assert first["ts"] == "2026-11-27 22:00:00"
    assert last["ts"] == "2026-11-27 22:03:19"  # 20,000 events at 100 per second
    times = [uuid.UUID(event["create_time"]).time for event in sample[:1000]]
    assert times == sorted(times)


def test_the_funnel_narrows(sample: list[dict]):
    tracks = Counter((event["custom_track"] or "").strip().lower() for event in sample)
    assert tracks["click"] > 5 * tracks["conversion"] > 0
    assert tracks["conversion"] > tracks["qualified"] + tracks["unqualified"] > 0
    assert tracks["qualified"] > 0 and tracks["unqualified"] > 0


def test_the_tracker_noise_is_there_in_small_shares(sample: list[dict]):
    total = len(sample)
    tracks = [event["custom_track"] for event in sample]
    alive = sum(track == "alive" for track in tracks)
    empty = sum(track == "" for track in tracks)
    odd_case = sum(track.strip().lower() != track for track in tracks if track)
    null_job = sum(event["job_id"] is None for event in sample)
    known_jobs = {job.id for job in reference_data().jobs}
    unknown_job = sum(event["job_id"] is not None and event["job_id"] not in known_jobs for event in sample)
    for count in (alive, empty, odd_case, null_job, unknown_job):
        assert 0 < count < 0.1 * total


def test_bids_are_the_campaigns_cpc(sample: list[dict]):
    bids = {campaign.id: float(campaign.cpc_bid) for campaign in reference_data().campaigns}
    jobs = {job.id: job for job in reference_data().jobs}
    for event in sample[:2000]:
        job = jobs.get(event["job_id"])
        if job is not None:
            assert event["bid"] == bids[job.campaign_id]


def test_reference_data_has_the_promised_sizes_and_is_consistent():
    data = reference_data()
    assert 200 <= len(data.companies) <= 500 and len(data.jobs) >= 1000 and 10 <= len(data.publishers) <= 99
    companies = {company.id for company in data.companies}
    campaign_company = {campaign.id: campaign.company_id for campaign in data.campaigns}
    assert all(job.company_id in companies for job in data.jobs)
    assert all(campaign_company[job.campaign_id] == job.company_id for job in data.jobs)
    assert reference_data() is reference_data(), "generated once per process"
