"""One end-to-end micro-batch, the steps the Airflow DAG runs: collect, ingest, dbt on the lakehouse, publish,
dbt on the warehouse. Each step resumes from its own committed state, so a run that fails anywhere is
completed by the next one. Every run is recorded in MySQL's ``pipeline_runs`` (what it did, how long each
step took), which the pipeline-health dashboard reads; a scheduled run's row is written by its tasks as they end
(jobpulse/scheduling.py).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from jobpulse.config import Settings
from jobpulse.reprocessing import DateRange


@dataclass
class RunReport:
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # None where not known: a scheduled run's collector runs beside Airflow as a service, not in the run, and
    # only its last task knows what the run landed and changed
    events_collected: int | None = 0
    events_dead_lettered: int | None = 0
    events_landed: int | None = 0
    cells_changed: int | None = 0
    landed_through_batch: int | None = None
    step_seconds: dict[str, float] = field(default_factory=dict)
    source: str = "cli"

    def lines(self) -> list[str]:
        steps = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in self.step_seconds.items())
        return [
            f"events in: {self.events_collected} collected, {self.events_dead_lettered} dead-lettered, "
            f"{self.events_landed} landed in the lakehouse",
            f"cells changed in data_warehouse.events: {self.cells_changed}",
            f"time per step: {steps} (total {sum(self.step_seconds.values()):.1f}s)",
        ]


MERGED_STEPS = "JSON_MERGE_PATCH(COALESCE(step_seconds, '{}'), VALUES(step_seconds))"  # the new steps win


def record(settings: Settings, report: RunReport, status: str, error: str | None = None) -> None:
    """Write (or complete) the run's row in ``pipeline_runs``; its steps join those already recorded (a
    scheduled run's tasks record theirs as they end, see `record_step`)."""
    from jobpulse.clients import mysql_connect

    connection = mysql_connect(settings)
    try:
        connection.cursor().execute(
            "INSERT INTO pipeline_runs (run_id, started_at, finished_at, status, events_collected, "
            "events_dead_lettered, events_landed, cells_changed, step_seconds, error, landed_through_batch, source) "
            "VALUES (%s, %s, UTC_TIMESTAMP(6), %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON DUPLICATE KEY UPDATE finished_at = VALUES(finished_at), status = VALUES(status), "
            "events_landed = VALUES(events_landed), cells_changed = VALUES(cells_changed), "
            f"step_seconds = {MERGED_STEPS}, error = VALUES(error), "
            "landed_through_batch = VALUES(landed_through_batch)",
            (
                report.run_id,
                report.started_at.replace(tzinfo=None),
                status,
                report.events_collected,
                report.events_dead_lettered,
                report.events_landed,
                report.cells_changed,
                json.dumps(report.step_seconds),
                error,
                report.landed_through_batch,
                report.source,
            ),
        )
    finally:
        connection.close()


def record_step(settings: Settings, report: RunReport) -> None:
    """Add a running run's finished steps (``report.step_seconds``) to its row, created ``running`` by the
    first. Never changes the run's outcome, so it may land before or after the run's final `record`."""
    from jobpulse.clients import mysql_connect

    connection = mysql_connect(settings)
    try:
        connection.cursor().execute(
            "INSERT INTO pipeline_runs (run_id, started_at, status, events_collected, step_seconds, source) "
            "VALUES (%s, %s, 'running', %s, %s, %s) "
            f"ON DUPLICATE KEY UPDATE step_seconds = {MERGED_STEPS}",
            (
                report.run_id,
                report.started_at.replace(tzinfo=None),
                report.events_collected,
                json.dumps(report.step_seconds),
                report.source,
            ),
        )
    finally:
        connection.close()


def record_ended(settings: Settings, run_id: str, error: str) -> None:
    """Record as failed a run still recorded running, though it has ended: it failed without a task's callback
    saying so (it timed out, or its worker died)."""
    from jobpulse.clients import mysql_connect

    connection = mysql_connect(settings)
    try:
        connection.cursor().execute(
            "UPDATE pipeline_runs SET status = 'failed', finished_at = UTC_TIMESTAMP(6), error = %s "
            "WHERE run_id = %s AND status = 'running'",
            (error, run_id),
        )
    finally:
        connection.close()


def landed_through(settings: Settings) -> int | None:
    """The landing table's newest batch (from its Delta log: no Spark)."""
    from ingest.capture import read_position
    from jobpulse.lakehouse import landing_table_path

    position = read_position(landing_table_path(settings))
    return position.batch if position else None


def last_completed_batch(settings: Settings) -> int | None:
    """The newest landing batch a successful run carried into `events`."""
    from jobpulse.clients import mysql_connect

    connection = mysql_connect(settings)
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT MAX(landed_through_batch) FROM pipeline_runs WHERE status = 'success'")
        (batch,) = cursor.fetchone()
        return None if batch is None else int(batch)
    finally:
        connection.close()


def cells_changed_since(settings: Settings, since: datetime) -> int:
    from jobpulse.clients import mysql_connect

    connection = mysql_connect(settings)
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT COUNT(*) FROM events WHERE latest_update_time >= %s", (since.replace(tzinfo=None),))
        return int(cursor.fetchone()[0])
    finally:
        connection.close()


def nothing_new(held: int, trailing: float, safety_lag: float, batch: int) -> str:
    """What a run that lands nothing says: why not, and that it skips dbt."""
    if held:
        why = (
            f"{held:,} event(s) that arrived in the last {trailing:.0f} s are waiting until no writer of the raw "
            f"log has older writes in flight (at most the {safety_lag:g} s safety lag); run again in a few seconds"
        )
    else:
        why = "no event arrived since the last batch"
    return f"nothing new to land: {why}. dbt skipped: every landed batch (through {batch}) is already modelled"


def run_once(settings: Settings, say: Callable[[str], None] = print, reprocess: DateRange | None = None) -> RunReport:
    """Run every step in order and return what they did; raises on the first failing step (recorded). With
    ``reprocess``, the run also rebuilds those event dates from the raw log (jobpulse/reprocessing.py)."""
    from ingest.collector import Collector, CollectorConfig
    from ingest.spark import ingest_job
    from jobpulse import dbt
    from jobpulse.progress import Progress
    from jobpulse.publish import publish

    report = RunReport(source="cli" if reprocess is None else "reprocess")
    variables = reprocess.dbt_vars() if reprocess is not None else None
    landed_before = landed_through(settings)

    def step(name: str, action: Callable[[], Any], *, timed: bool = True) -> Any:
        say(f"{name} ...")
        began = time.monotonic()
        with Progress(name, counted=False, heartbeat=True, enabled=timed):  # a dbt step: one call of tens of s
            result = action()
        report.step_seconds[name] = round(time.monotonic() - began, 2)
        return result

    try:
        # The collector unregisters from the raw log when it has drained the topic, so what it stored is
        # capturable at once (ingest.capture.capture_bound).
        counters = step("collect", lambda: Collector(settings, CollectorConfig(publish_counters=True)).run(drain=True))
        report.events_collected, report.events_dead_lettered = counters.written, counters.dead_lettered
        if reprocess is not None or step("check for new arrivals", lambda: ingest_job.has_new_arrivals_now(settings)):
            # each batch being landed shows its own progress
            landed = step("ingest", lambda: ingest_job.run(settings, reprocess=reprocess), timed=False)
            report.events_landed = sum(position.rows or 0 for position in landed)
        elif landed_before is not None and landed_before == last_completed_batch(settings):
            # Nothing to build: every landed batch is in `events` already. (Batches an earlier run landed and
            # then failed to model are not: it falls through to dbt, which completes that run.)
            held, trailing = ingest_job.arrivals_held_back(settings, datetime.now(UTC))
            say(nothing_new(held, trailing, settings.ingest_safety_lag, landed_before))
            report.landed_through_batch = landed_before
            record(settings, report, "success")
            return report
        step("dbt lakehouse", lambda: dbt.run_models(settings, dbt.LAKEHOUSE, variables))
        moved = step("publish", lambda: publish(settings, reprocess))
        say(f"published: {moved}")
        warehouse_started = datetime.now(UTC)
        step("dbt warehouse", lambda: dbt.run_models(settings, dbt.WAREHOUSE, variables))
        report.cells_changed = cells_changed_since(settings, warehouse_started)
        report.landed_through_batch = landed_through(settings)
    except BaseException as error:
        report.landed_through_batch = landed_before
        record(settings, report, "failed", f"{type(error).__name__}: {error}")
        raise
    record(settings, report, "success")
    return report
