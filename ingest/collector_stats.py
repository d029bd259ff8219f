"""The collector's counters in MySQL (``collector_instances``, ``collector_samples``: the V005 migration), where
the pipeline-health dashboard and the alerts read them.

A thread of its own publishes them: the collector's loop only hands over its latest counters (no I/O, no wait),
and the thread writes them on a short-lived connection. MySQL down or slow delays the publishing only: a
failure is logged and the next report tries again, carrying what the failed one would have added, since each
sample stores the increments since the instance's last *stored* sample.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jobpulse.config import Settings

log = logging.getLogger("jobpulse.collector")

RETENTION_DAYS = 7  # samples, and instances that stopped reporting, older than this are pruned
PRUNE_INTERVAL = 3600.0  # seconds between two prunes by one collector
CONNECT_TIMEOUT = 5  # seconds: the thread gives up a MySQL it cannot reach and tries at the next report
# seconds a statement may wait (on the network, or on a lock) before the thread gives up this report: a link
# that hangs mid-statement would otherwise stop the publishing for good
STATEMENT_TIMEOUT = 10


@dataclass(frozen=True)
class Instance:
    """One collector process: its row's key and what identifies it to an operator."""

    consumer_group: str
    topic: str
    mode: str  # "service" (runs until stopped) or "drain" (`jobpulse run`'s collect step)
    started_at: datetime  # UTC
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    instance_id: str = ""

    def __post_init__(self) -> None:
        if not self.instance_id:
            object.__setattr__(self, "instance_id", f"{self.host[:60]}-{self.pid}-{uuid.uuid4().hex[:12]}")


@dataclass(frozen=True)
class Report:
    """A collector's cumulative counters at ``at`` (UTC), and whether it has stopped cleanly."""

    at: datetime
    consumed: int
    written: int
    dead_lettered: int
    dead_lettered_by_reason: dict[str, int]
    batches: int
    retries: int
    lag: int | None
    stopped: bool = False


def increments(report: Report, baseline: Report | None) -> tuple[int, int, int]:
    """What ``report`` adds to the last stored one (consumed, written, dead-lettered): its counters, for the
    instance's first sample."""
    before = (0, 0, 0) if baseline is None else (baseline.consumed, baseline.written, baseline.dead_lettered)
    return report.consumed - before[0], report.written - before[1], report.dead_lettered - before[2]


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)  # DATETIME columns hold UTC without a zone


class CounterPublisher:
    """Writes a collector's latest :class:`Report` to MySQL from a daemon thread, at most one write at a time;
    a report not yet written is replaced by a newer one (its counters are cumulative, nothing is lost)."""

    def __init__(self, settings: Settings, instance: Instance) -> None:
        self.settings = settings
        self.instance = instance
        self._condition = threading.Condition()
        self._latest: Report | None = None
        self._closing = False
        self._published: Report | None = None  # the last report written: the next sample's baseline
        self._pruned_at = float("-inf")
        self._thread = threading.Thread(target=self._run, name="collector-counters", daemon=True)
        self._thread.start()

    def offer(self, report: Report) -> None:
        """Hand over the latest counters; returns at once."""
        with self._condition:
            self._latest = report
            self._condition.notify()

    def close(self, timeout: float) -> None:
        """Write what was offered last (if MySQL answers within ``timeout`` seconds), then end the thread."""
        with self._condition:
            self._closing = True
            self._condition.notify()
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("the collector's last counters were not published to MySQL within %.0fs", timeout)

    @property
    def published(self) -> Report | None:
        return self._published

    def _run(self) -> None:
        while True:
            with self._condition:
                while self._latest is None and not self._closing:
                    self._condition.wait()
                report, self._latest = self._latest, None
                closing = self._closing
            if report is not None:
                try:
                    self.publish(report)
                except Exception as error:  # MySQL down or refusing: the collector goes on, the next report retries
                    log.warning(
                        "could not publish the collector's counters to MySQL (%s: %s)", type(error).__name__, error
                    )
            if closing and self._latest is None:
                return

    def publish(self, report: Report) -> None:
        """Upsert the instance's row and add a sample, in one transaction; prune now and then."""
        from jobpulse.clients import mysql_connect

        consumed, written, dead_lettered = increments(report, self._published)
        instance = self.instance
        connection = mysql_connect(
            self.settings,
            autocommit=False,
            connection_timeout=CONNECT_TIMEOUT,
            read_timeout=STATEMENT_TIMEOUT,
            write_timeout=STATEMENT_TIMEOUT,
        )
        try:
            cursor = connection.cursor()
            cursor.execute(
                "SET SESSION lock_wait_timeout = %s, innodb_lock_wait_timeout = %s",
                (STATEMENT_TIMEOUT, STATEMENT_TIMEOUT),
            )
            cursor.execute(
                "INSERT INTO collector_instances (instance_id, consumer_group, topic, host, pid, mode, started_at, "
                "updated_at, stopped_at, consumed, written, dead_lettered, dead_lettered_by_reason, batches, retries, "
                "lag_messages) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "ON DUPLICATE KEY UPDATE updated_at = VALUES(updated_at), stopped_at = VALUES(stopped_at), "
                "consumed = VALUES(consumed), written = VALUES(written), dead_lettered = VALUES(dead_lettered), "
                "dead_lettered_by_reason = VALUES(dead_lettered_by_reason), batches = VALUES(batches), "
                "retries = VALUES(retries), lag_messages = VALUES(lag_messages)",
                (
                    instance.instance_id,
                    instance.consumer_group,
                    instance.topic,
                    instance.host,
                    instance.pid,
                    instance.mode,
                    _naive(instance.started_at),
                    _naive(report.at),
                    _naive(report.at) if report.stopped else None,
                    report.consumed,
                    report.written,
                    report.dead_lettered,
                    json.dumps(report.dead_lettered_by_reason, sort_keys=True),
                    report.batches,
                    report.retries,
                    report.lag,
                ),
            )
            cursor.execute(
                "INSERT INTO collector_samples (instance_id, sampled_at, consumed, written, dead_lettered, "
                "lag_messages) VALUES (%s, %s, %s, %s, %s, %s) ON DUPLICATE KEY UPDATE "
                "consumed = consumed + VALUES(consumed), written = written + VALUES(written), "
                "dead_lettered = dead_lettered + VALUES(dead_lettered), "
                "lag_messages = VALUES(lag_messages)",
                (instance.instance_id, _naive(report.at), consumed, written, dead_lettered, report.lag),
            )
            connection.commit()
            self._published = report
            if time.monotonic() - self._pruned_at >= PRUNE_INTERVAL:
                self._prune(cursor)
                connection.commit()
                self._pruned_at = time.monotonic()
        finally:
            connection.close()

    @staticmethod
    def _prune(cursor: Any) -> None:
        for statement in (
            "DELETE FROM collector_samples WHERE sampled_at < UTC_TIMESTAMP(6) - INTERVAL %s DAY",
            "DELETE FROM collector_instances WHERE updated_at < UTC_TIMESTAMP(6) - INTERVAL %s DAY",
        ):
            cursor.execute(statement, (RETENTION_DAYS,))
