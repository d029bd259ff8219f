"""One pipeline run for every Grafana test that needs data: simulated traffic (plus events the mart cannot count
and messages the collector dead-letters) through two `jobpulse run`s into a MySQL database of the tests' own,
readable by the read-only account as Grafana's data source reads the real one; and a warehouse with no events."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from ingest.reference_data import reference_data
from ingest.simulator import Simulator, encode
from jobpulse import dashboards, dbt
from jobpulse.config import Settings
from jobpulse.pipeline import run_once
from tests.ingest.conftest import new_create_time, produce
from tests.pipeline.namespace import isolated_pipeline
from tests.pipeline.spec_oracle import expected_events

START = datetime(2026, 11, 20, 7, 30)
RAW = list(itertools.islice(Simulator(seed=71, start=START, rate=0.1).events(), 2400))  # 07:30 to 14:10
UNPARSEABLE = [
    {"create_time": new_create_time(), "job_id": 1, "custom_track": "click", "bid": 1.0, "ts": "yesterday noon"}
    for _ in range(3)
]
JUNK = [b"{not json", b"[1, 2, 3]"]  # dead-lettered by the collector
FIRST_RUN, SECOND_RUN = RAW[:1600], RAW[1600:] + UNPARSEABLE


@pytest.fixture(scope="package")
def warehouse(running_stack: Settings) -> Iterator[Settings]:
    """The namespace's settings after both runs (the namespace lets the read-only account read its database)."""
    with isolated_pipeline(running_stack, "grafana") as settings:
        produce(settings, [encode(event) for event in FIRST_RUN])
        run_once(settings, say=lambda message: None)
        produce(settings, [encode(event) for event in SECOND_RUN] + JUNK)
        run_once(settings, say=lambda message: None)
        yield settings


@pytest.fixture(scope="package")
def empty_warehouse(running_stack: Settings) -> Iterator[Settings]:
    """A namespace whose warehouse models were built before any event arrived: every mart there, all empty."""
    with isolated_pipeline(running_stack, "grafana_empty") as settings:
        dbt.run_models(settings, dbt.WAREHOUSE)
        yield settings


@pytest.fixture
def grafana(warehouse: Settings) -> Iterator[Any]:
    """A connection as Grafana's data source makes it: the read-only account, a UTC session."""
    connection = dashboards.connect(warehouse)
    yield connection
    connection.close()


def company_of_job() -> dict[int, int]:
    return {job.id: job.company_id for job in reference_data().jobs}


# {(job_id, dates, hours, publisher_id, campaign_id, group_id): (clicks, spend, bid_set, conversion, qualified,
#  unqualified, company_id)}, recomputed from the raw events by the spec's oracle, not by the pipeline.
ORACLE = expected_events(RAW + UNPARSEABLE, company_of_job())


def hour_of(grain: tuple) -> datetime:
    day: date = grain[1]
    return datetime(day.year, day.month, day.day, grain[2], tzinfo=UTC)


def oracle_totals(start: datetime, end: datetime, **selected: set[float]) -> dict[str, float]:
    """Sums over the cells whose hour starts within [start, end] (Grafana's BETWEEN) and the selections."""
    totals: dict[str, float] = defaultdict(float)
    for grain, (clicks, spend, _, conversion, qualified, unqualified, company) in ORACLE.items():
        cell = {"job": grain[0], "publisher": grain[3], "campaign": grain[4], "company": float(company or 0)}
        if not start <= hour_of(grain) <= end or any(cell[name] not in values for name, values in selected.items()):
            continue
        totals["clicks"] += clicks
        totals["conversions"] += conversion
        totals["qualified_applications"] += qualified
        totals["disqualified_applications"] += unqualified
        totals["spend"] += spend
    return dict(totals)


def oracle_hours(start: datetime, end: datetime) -> dict[datetime, dict[str, float]]:
    hours: dict[datetime, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for grain, (clicks, spend, _, conversion, qualified, unqualified, _company) in ORACLE.items():
        if start <= hour_of(grain) <= end:
            hour = hours[hour_of(grain)]
            hour["clicks"] += clicks
            hour["conversions"] += conversion
            hour["qualified_applications"] += qualified
            hour["disqualified_applications"] += unqualified
            hour["spend"] += spend
    return {moment: dict(values) for moment, values in sorted(hours.items())}


FULL_RANGE = dashboards.TimeRange(datetime(2026, 11, 20, 0, tzinfo=UTC), datetime(2026, 11, 21, 0, tzinfo=UTC))


def around_now() -> dashboards.TimeRange:
    """Pipeline runs and arrivals happen now, whatever the events' own dates."""
    now = datetime.now(UTC)
    return dashboards.TimeRange(now - timedelta(days=1), now + timedelta(minutes=1))
