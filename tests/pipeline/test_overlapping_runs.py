"""Two pipeline runs that overlap: one run's publish still open while another run's `events` model reads the
facts. The publish and the `events` model take turns (a MySQL lock), so no published row can fall below the
watermark `events` resumes from, and the mart ends equal to the spec oracle.

The server runs READ COMMITTED here, a common production setting: its reads take no locks, so nothing but the
pipeline's own turn-taking keeps the `events` model from reading past a publish still in flight. (Under
REPEATABLE READ, InnoDB's locking reads in CREATE TABLE ... SELECT happen to block it as well.)"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from datetime import datetime

import pytest

from ingest.collector import Collector
from ingest.simulator import Simulator, encode
from ingest.spark import ingest_job
from jobpulse import dbt
from jobpulse.clients import mysql_connect
from jobpulse.config import Settings
from jobpulse.pipeline import run_once
from jobpulse.publish import publish
from jobpulse.stack import service
from tests.ingest.conftest import produce
from tests.pipeline.mart import company_of_job, mart_rows
from tests.pipeline.namespace import isolated_pipeline
from tests.pipeline.spec_oracle import expected_events


@pytest.fixture(scope="module")
def pipeline(running_stack: Settings) -> Iterator[Settings]:
    with isolated_pipeline(running_stack, "overlap") as settings:
        mariadb = service(settings, "mariadb")
        mariadb.admin_sql("SET GLOBAL TRANSACTION ISOLATION LEVEL READ COMMITTED;")
        try:
            yield settings
        finally:
            mariadb.admin_sql("SET GLOBAL TRANSACTION ISOLATION LEVEL REPEATABLE READ;")


def in_thread(action) -> tuple[threading.Thread, list]:
    outcome: list = []

    def target() -> None:
        try:
            outcome.append(action())
        except BaseException as error:  # reported by the test
            outcome.append(error)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, outcome


def lock_waits(settings: Settings) -> int:
    return int(service(settings, "mariadb").admin_sql(
        "SELECT COUNT(*) FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT';"
    ).strip())  # fmt: skip


def land_and_model(settings: Settings, events: list[dict]) -> None:
    """A run's steps up to (not including) its publish."""
    produce(settings, [encode(event) for event in events])
    Collector(settings).run(drain=True)
    time.sleep(settings.ingest_safety_lag + 1)
    assert ingest_job.run(settings)
    dbt.run_models(settings, dbt.LAKEHOUSE)


def test_a_publish_overlapping_another_runs_events_model_loses_no_row(pipeline: Settings):
    events = list(itertools.islice(Simulator(seed=61, start=datetime(2026, 11, 27, 23, 0), rate=1).events(), 3000))
    first, second, third = events[:2000], events[2000:2500], events[2500:]
    produce(pipeline, [encode(event) for event in first])
    run_once(pipeline, say=lambda message: None)
    assert mart_rows(pipeline) == expected_events(first, company_of_job())

    # Run B publishes, and has yet to run its `events` model ...
    land_and_model(pipeline, second)
    publish(pipeline)
    # ... when run A publishes too, held mid-transaction: another session locks every fact row and gap.
    land_and_model(pipeline, third)
    holder = mysql_connect(pipeline, autocommit=False)
    try:
        cursor = holder.cursor()
        cursor.execute("SELECT * FROM job_hourly_facts FOR UPDATE")
        cursor.fetchall()
        publishing, published = in_thread(lambda: publish(pipeline))
        deadline = time.monotonic() + 60
        while lock_waits(pipeline) == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert lock_waits(pipeline) == 1, "run A's publish should be waiting inside its transaction"

        # Run B's `events` model runs meanwhile (it copies B's facts); then A's publish goes on and commits.
        modelling, modelled = in_thread(lambda: dbt.run_models(pipeline, dbt.WAREHOUSE))
        modelling.join(timeout=15)
    finally:
        holder.rollback()
        holder.close()
    publishing.join(timeout=120)
    modelling.join(timeout=300)
    assert not isinstance(published[0], BaseException), published
    assert not isinstance(modelled[0], BaseException), modelled

    run_once(pipeline, say=lambda message: None)  # the next run, with nothing new
    assert mart_rows(pipeline) == expected_events(events, company_of_job())
