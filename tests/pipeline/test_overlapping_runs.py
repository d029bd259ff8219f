"""Two pipeline runs that overlap, and the mart still ends equal to the spec oracle.

- One run's publish still open while another run's `events` model reads the facts. The publish and the
  `events` model take turns (a MySQL lock), so no published row can fall below the watermark `events` resumes
  from.
- One run's lakehouse models compiled (each has read where it resumes from) while another run stages and
  counts the same new batches and commits. The later merges must add nothing: the staging merge finds its
  ids already there, the quality merge reads its own table's progress in its own statement.

The server runs READ COMMITTED here, a common production setting: its reads take no locks, so nothing but the
pipeline's own turn-taking keeps the `events` model from reading past a publish still in flight. (Under
REPEATABLE READ, InnoDB's locking reads in CREATE TABLE ... SELECT happen to block it as well.)"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest

from ingest.collector import Collector
from ingest.simulator import Simulator, encode
from ingest.spark import ingest_job
from jobpulse import dbt
from jobpulse.clients import mysql_connect, thrift_cursor
from jobpulse.config import Settings, environment
from jobpulse.lakehouse import landing_table
from jobpulse.pipeline import run_once
from jobpulse.publish import FACTS_LOCK, publish
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


@contextmanager
def merges_held_until(release: threading.Event, models: set[str]) -> Iterator[threading.Semaphore]:
    """This process's dbt-spark connections hold each MERGE into one of ``models`` until ``release`` is set;
    the semaphore is released once per merge held."""
    from dbt.adapters.spark.connections import PyhiveConnectionWrapper

    original = PyhiveConnectionWrapper.execute
    held = threading.Semaphore(0)

    def execute(self: PyhiveConnectionWrapper, sql: str, bindings: object = None) -> None:
        target = re.search(r"^\s*merge\s+into\s+(\S+)", sql, re.IGNORECASE | re.MULTILINE)  # after a comment
        if target and target.group(1).replace("`", "").split(".")[-1] in models:
            held.release()
            release.wait(timeout=600)
        original(self, sql, bindings)

    PyhiveConnectionWrapper.execute = execute  # type: ignore[method-assign]
    try:
        yield held
    finally:
        PyhiveConnectionWrapper.execute = original  # type: ignore[method-assign]


def lakehouse_run_in_another_process(settings: Settings, target_path: Path) -> subprocess.CompletedProcess:
    """Another run's lakehouse dbt, with a target directory of its own (as on another worker)."""
    return subprocess.run(
        [
            str(dbt.executable(settings, dbt.LAKEHOUSE)), "run", "--select", "tag:lakehouse",
            "--project-dir", str(dbt.project_dir(dbt.LAKEHOUSE)), "--profiles-dir", str(dbt.project_dir(dbt.LAKEHOUSE)),
            "--target-path", str(target_path),
        ],
        env={**os.environ, **environment(settings)},
        capture_output=True, text=True, check=False, timeout=900,
    )  # fmt: skip


def lakehouse_figures(settings: Settings) -> tuple[int, int, int]:
    """(staged rows, distinct staged ids, distinct landed ids)."""
    with thrift_cursor(settings) as cursor:
        cursor.execute(
            f"SELECT COUNT(*), COUNT(DISTINCT create_time) FROM {settings.dbt_lakehouse_schema}.stg_datalake__tracking"
        )
        staged, staged_ids = cursor.fetchone()
        cursor.execute(f"SELECT COUNT(DISTINCT create_time) FROM {landing_table(settings)}")
        (landed_ids,) = cursor.fetchone()
    return staged, staged_ids, landed_ids


@pytest.fixture
def lakehouse_pipeline(running_stack: Settings) -> Iterator[Settings]:
    """A namespace of this test's own: the mart it compares with the oracle holds only its events."""
    with isolated_pipeline(running_stack, "lake_overlap") as settings:
        yield settings


def test_lakehouse_models_compiled_before_another_run_committed_stage_and_count_nothing_twice(
    lakehouse_pipeline: Settings, tmp_path: Path
):
    pipeline = lakehouse_pipeline
    events = list(itertools.islice(Simulator(seed=62, start=datetime(2026, 11, 28, 9, 0), rate=1).events(), 3000))
    first, second = events[:2000], events[2000:]
    produce(pipeline, [encode(event) for event in first])
    run_once(pipeline, say=lambda message: None)

    produce(pipeline, [encode(event) for event in second])
    Collector(pipeline).run(drain=True)
    time.sleep(pipeline.ingest_safety_lag + 1)
    assert ingest_job.run(pipeline)
    release = threading.Event()
    other_run: list = []

    def when_both_held(held: threading.Semaphore) -> None:
        # run B holds its two merges (compiled: resume points read); run A then does all, and commits
        try:
            if all(held.acquire(timeout=600) for _ in range(2)):
                other_run.append(lakehouse_run_in_another_process(pipeline, tmp_path / "target"))
        finally:
            release.set()

    with merges_held_until(release, {"stg_datalake__tracking", "fct_tracking_quality_daily"}) as held:
        other, _ = in_thread(lambda: when_both_held(held))
        dbt.run_models(pipeline, dbt.LAKEHOUSE)  # run B
        other.join(timeout=60)
    assert other_run and other_run[0].returncode == 0, other_run and other_run[0].stdout[-3000:]

    staged, staged_ids, landed_ids = lakehouse_figures(pipeline)
    assert staged == staged_ids > len(first)
    run_once(pipeline, say=lambda message: None)  # publish and the MySQL models
    connection = mysql_connect(pipeline)
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT SUM(events) FROM tracking_data_quality")
        (quality_events,) = cursor.fetchone()
    finally:
        connection.close()
    assert quality_events == landed_ids
    assert mart_rows(pipeline) == expected_events(events, company_of_job())


@pytest.fixture
def serving_pipeline(running_stack: Settings) -> Iterator[Settings]:
    with isolated_pipeline(running_stack, "serve_beside") as settings:
        yield settings


def test_warehouse_models_started_beside_a_slow_publish_build_what_it_commits(serving_pipeline: Settings):
    """As a scheduled run's serving side does (jobpulse.scheduling.publish_and_build_warehouse): the MySQL
    models start once the publish holds the facts lock, and `events` waits for the copy to commit."""
    pipeline = serving_pipeline
    events = list(itertools.islice(Simulator(seed=63, start=datetime(2026, 11, 29, 10, 0), rate=1).events(), 2000))
    first, second = events[:1000], events[1000:]
    produce(pipeline, [encode(event) for event in first])
    run_once(pipeline, say=lambda message: None)
    land_and_model(pipeline, second)
    started: list[dbt.StartedDbt] = []

    def start_models_then_stall() -> None:
        started.append(dbt.start_warehouse_models(pipeline))
        deadline = time.monotonic() + 120
        while not waiting_for_the_facts_lock(pipeline) and time.monotonic() < deadline:
            time.sleep(0.2)  # dbt-mysql starting, then building the views before `events`
        assert waiting_for_the_facts_lock(pipeline), "`events` should wait for the publish to commit"

    publish(pipeline, when_locked=start_models_then_stall)
    started[0].wait()
    assert mart_rows(pipeline) == expected_events(events, company_of_job())


def waiting_for_the_facts_lock(settings: Settings) -> bool:
    """Whether a session waits in GET_LOCK for the namespace's facts lock (the `events` model's pre-hook)."""
    return int(service(settings, "mariadb").admin_sql(
        "SELECT COUNT(*) FROM information_schema.processlist WHERE state = 'User lock' "
        f"AND info LIKE '%{FACTS_LOCK.format(database=settings.mysql_database)}%';"
    ).strip()) > 0  # fmt: skip
