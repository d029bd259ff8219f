"""Freshness under the scheduler: the simulator at 200 events/s for 10 minutes into Kafka, the collector running,
Airflow (standalone, as `make demo` runs it) running `jobpulse_pipeline` continuously, in a namespace of the
benchmark's own. It ends by checking `events` against the spec oracle recomputed from the whole raw log (a
mismatch fails the benchmark).

For every event the delay is exact, from what the pipeline itself records: the event's `create_time` -> its
arrival in the raw log (`arrived_at`) -> the landing batch whose arrival window holds it (the Delta log) -> the
first successful Airflow run that carried that batch into `events` (`pipeline_runs.landed_through_batch`,
written by the run's last task, after the MySQL models and their tests). p50/p95 of create_time -> in `events`,
with the parts, and each task's duration from Airflow's own records. Only events created once Airflow is up
and the DAG unpaused are measured (the simulator starts before it).

`--busy-day-events N` measures late in a busy day instead of from an empty namespace: first N simulated events
of today's date (from midnight UTC, at 200 events/s or faster if the day so far is too short for them) are
loaded straight into the raw log and carried into `events` by one backfill run, then the live traffic starts.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import os
import sqlite3
import time
from datetime import UTC, datetime

from bench import results
from ingest.capture import landed_batches, ticks_of
from jobpulse import demo, stack
from jobpulse.config import Settings, environment, load_settings
from jobpulse.lakehouse import landing_table_path
from jobpulse.namespace import create, drop, named


def namespace() -> Settings:
    return named(load_settings(), "bench_freshness")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 2)


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": percentile(values, 0.50), "p95": percentile(values, 0.95), "max": round(max(values), 2)}


def runs_carrying(settings: Settings) -> list[tuple[int, datetime]]:
    """(landed_through_batch, finished_at) of the successful scheduled runs, in order."""
    from jobpulse.clients import mysql_connect

    connection = mysql_connect(settings)
    try:
        cursor = connection.cursor()
        cursor.execute(
            "SELECT landed_through_batch, finished_at FROM pipeline_runs WHERE source = 'airflow' "
            "AND status = 'success' AND landed_through_batch IS NOT NULL ORDER BY finished_at"
        )
        return [(int(batch), finished.replace(tzinfo=UTC)) for batch, finished in cursor.fetchall()]
    finally:
        connection.close()


def all_carried(settings: Settings, stopped: datetime) -> bool:
    """Whether everything stored before ``stopped`` is landed and carried into `events`: the capture may cover
    up to past ``stopped``, nothing it may cover is left to land, and the last batch is carried. (A batch ending
    after ``stopped`` need not come: once the traffic stops, a run with nothing new lands nothing.)"""
    from ingest.spark.ingest_job import capture_until, has_new_arrivals

    now = datetime.now(UTC)
    batches = landed_batches(landing_table_path(settings))
    carried = runs_carrying(settings)
    return (
        bool(batches and carried)
        and carried[-1][0] >= batches[-1].batch
        and capture_until(settings, now) > ticks_of(stopped)
        and not has_new_arrivals(settings, batches[-1], now)
    )


def arrivals(settings: Settings) -> list[tuple[datetime, datetime]]:
    """(created, arrived) of every event in the raw log."""
    from cassandra.util import datetime_from_uuid1

    from jobpulse.clients import cassandra_cluster

    cluster = cassandra_cluster(settings)
    try:
        rows = cluster.connect().execute(
            f"SELECT create_time, arrived_at FROM {settings.cassandra_keyspace}.tracking", timeout=120
        )
        return [
            (datetime_from_uuid1(row.create_time).replace(tzinfo=UTC), row.arrived_at.replace(tzinfo=UTC))
            for row in rows
        ]
    finally:
        cluster.shutdown()


def oracle_mismatches(settings: Settings) -> int:
    """How many cells of `events` differ from the spec oracle over every event in the raw log."""
    from tests.pipeline.mart import company_of_job, mart_rows, raw_log_events
    from tests.pipeline.spec_oracle import expected_events

    with raw_log_events(settings) as raw:
        expected = expected_events(raw, company_of_job())
    actual = mart_rows(settings)
    return sum(1 for cell in expected.keys() | actual.keys() if expected.get(cell) != actual.get(cell))


def task_durations(settings: Settings, since: datetime) -> dict[str, object]:
    with sqlite3.connect(demo.airflow_home(settings) / "airflow.db") as database:
        rows = database.execute(
            "SELECT task_id, duration FROM task_instance WHERE dag_id = ? AND state = 'success' "
            "AND start_date >= ? AND duration IS NOT NULL",
            (demo.DAG_ID, since.strftime("%Y-%m-%d %H:%M:%S")),
        ).fetchall()
        states = dict(
            database.execute(
                "SELECT state, COUNT(*) FROM dag_run WHERE dag_id = ? AND start_date >= ? GROUP BY state",
                (demo.DAG_ID, since.strftime("%Y-%m-%d %H:%M:%S")),
            ).fetchall()
        )
        spans = database.execute(
            # the runs that carried something: an idle run (nothing new in time, skipped) waits, it does no work
            "SELECT (julianday(run.end_date) - julianday(run.start_date)) * 86400, julianday(run.start_date) * 86400 "
            "FROM dag_run AS run JOIN task_instance AS waited ON waited.dag_id = run.dag_id "
            "AND waited.run_id = run.run_id AND waited.task_id = 'new_data' AND waited.state = 'success' "
            "WHERE run.dag_id = ? AND run.state = 'success' AND run.start_date >= ? ORDER BY run.start_date",
            (demo.DAG_ID, since.strftime("%Y-%m-%d %H:%M:%S")),
        ).fetchall()
        # what Airflow itself adds to a run: from a task's scheduling to its start, and the run's time outside its tasks
        waits = database.execute(
            "SELECT (julianday(start_date) - julianday(scheduled_dttm)) * 86400 FROM task_instance "
            "WHERE dag_id = ? AND state = 'success' AND start_date >= ? AND scheduled_dttm IS NOT NULL",
            (demo.DAG_ID, since.strftime("%Y-%m-%d %H:%M:%S")),
        ).fetchall()
        outside = database.execute(
            "SELECT (julianday(run.end_date) - julianday(run.start_date)) * 86400 - SUM(work.duration) "
            "FROM dag_run AS run JOIN task_instance AS work ON work.dag_id = run.dag_id AND work.run_id = run.run_id "
            "WHERE run.dag_id = ? AND run.state = 'success' AND run.start_date >= ? GROUP BY run.run_id "
            "HAVING COUNT(*) = SUM(work.state = 'success')",
            (demo.DAG_ID, since.strftime("%Y-%m-%d %H:%M:%S")),
        ).fetchall()
    by_task: dict[str, list[float]] = {}
    for task_id, duration in rows:
        by_task.setdefault(task_id, []).append(float(duration))
    durations = {task: {"runs": len(values), **summary(values)} for task, values in sorted(by_task.items())}
    runs = {"dag_runs": states}
    if spans:
        runs["dag_run_seconds"] = summary([seconds for seconds, _ in spans])
    if len(spans) > 1:  # start to start: the cycle an event waits through
        starts = [started for _, started in spans]
        runs["seconds_between_run_starts"] = summary([later - earlier for earlier, later in itertools.pairwise(starts)])
    if waits:
        runs["task_scheduled_to_started_seconds"] = summary([float(wait) for (wait,) in waits])
    if outside:
        runs["run_seconds_outside_tasks"] = summary([float(seconds) for (seconds,) in outside])
    return {**runs, "tasks": durations}


def load_the_day(settings: Settings, events: int, rate: float) -> dict[str, object]:
    """Scenario b's start: ``events`` of today's date in the raw log, carried into `events` by a backfill run."""
    from bench.ingest import store_history
    from jobpulse.pipeline import run_once

    now = datetime.now(UTC).replace(tzinfo=None)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    room = (now - midnight).total_seconds() - 120  # the day so far, with the live traffic's first minutes after
    day_rate = max(rate, events / max(room, 1.0))
    began = time.monotonic()
    store_history(settings, start=midnight, rate=day_rate, count=events, seed=31)
    loaded = time.monotonic()
    backfill = run_once(settings, say=print)
    return {
        "events": events,
        "event_rate": round(day_rate, 1),
        "load_seconds": round(loaded - began, 1),
        "backfill_run_seconds": round(time.monotonic() - loaded, 1),
        "backfill_step_seconds": backfill.step_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--name", default="freshness", help="results file: bench/results/<name>.json")
    parser.add_argument("--busy-day-events", type=int, default=0, help="today's events loaded before (scenario b)")
    results.add_arguments(parser)
    parser.add_argument("--keep", action="store_true", help="leave the benchmark's namespace for inspection")
    args = parser.parse_args()

    settings = namespace()
    stack.up(settings, say=print)
    drop(settings)
    create(settings)
    try:
        measure(settings, args)
    finally:
        if not args.keep:
            drop(settings)


def measure(settings: Settings, args: argparse.Namespace) -> None:
    """The scenario in the namespace of ``settings``, created empty: its result printed (with --write, recorded)."""
    os.environ.update(environment(settings))  # the collector, the simulator and Airflow all read these
    busy_day = load_the_day(settings, args.busy_day_events, args.rate) if args.busy_day_events else None
    began = datetime.now(UTC)
    machine_before = results.machine()
    try:
        demo.up(settings, rate=args.rate, say=print, dags=(demo.DAG_ID,))  # the checks DAG stays paused
        measured_from = datetime.now(UTC)  # the scheduler is up: events created from now on are measured
        simulating_since = time.monotonic()
        time.sleep(args.minutes * 60)
        demo.stop_processes(settings, ("simulator",))
        time.sleep(10)  # the collector stores what the simulator sent last
        stopped = datetime.now(UTC)
        # let the scheduled runs carry everything into `events` (at most 6 more minutes)
        deadline = time.monotonic() + 360
        while time.monotonic() < deadline and not all_carried(settings, stopped):
            time.sleep(10)
        simulated_seconds = time.monotonic() - simulating_since
    finally:
        demo.stop_processes(settings, demo.PROCESSES)

    batches = landed_batches(landing_table_path(settings))
    batch_ends = [position.to_ticks for position in batches]
    carried = runs_carrying(settings)
    delays, collect, waits = [], [], []
    for created, arrived in arrivals(settings):
        if created < measured_from:
            continue  # created while Airflow was still starting
        at = bisect.bisect_left(batch_ends, ticks_of(arrived))
        if at == len(batches):
            continue  # landed after the benchmark stopped watching
        batch = batches[at].batch
        done = next((finished for through, finished in carried if through >= batch), None)
        if done is None:
            continue
        delays.append((done - created).total_seconds())
        collect.append((arrived - created).total_seconds())
        waits.append((done - arrived).total_seconds())
    result = {
        "rate_events_per_second": args.rate,
        "simulated_minutes": round(simulated_seconds / 60, 1),
        "events_measured": len(delays),
        "create_time_to_events_seconds": summary(delays),
        "create_time_to_raw_log_seconds": summary(collect),
        "raw_log_to_events_seconds": summary(waits),
        "target_seconds": {"p50": 40, "p95": 60},
        "airflow": task_durations(settings, began),
        "landing_batches": len(batches),
        "machine_before": machine_before,
    }
    if busy_day:
        result["busy_day"] = busy_day
    mismatches = oracle_mismatches(settings)
    result["events_equal_the_spec_oracle"] = mismatches == 0
    results.write(args.name, result, record=args.write)
    if mismatches:
        raise SystemExit(f"`events` differs from the spec oracle in {mismatches} cells")


if __name__ == "__main__":
    main()
