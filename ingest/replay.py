"""Replay newline-delimited JSON events from files or stdin: to Kafka as they are, or straight into Cassandra.

To Kafka, one line is one message with its bytes unchanged (only the line's ``\\n`` is removed), invalid lines
included, so the collector judges them and dead-letters what the contract rejects. ``direct`` validates each
line itself and bulk-loads the valid events into the raw log, for benchmarks and backfills; it reports every
invalid line with its file, line number and reason.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ingest.events import Event, Reason, Rejected, parse_event
from jobpulse.config import Settings

DIRECT_BATCH = 5000


@dataclass
class ReplayReport:
    lines: int = 0
    empty: int = 0
    published: int = 0
    stored: int = 0
    invalid: list[str] = field(default_factory=list)  # "file:line: reason" (direct mode)


def _open(name: str) -> BinaryIO:
    return sys.stdin.buffer if name == "-" else Path(name).open("rb")


def read_lines(names: Iterable[str], report: ReplayReport) -> Iterator[tuple[str, int, bytes]]:
    """(file, line number, raw bytes) of every non-empty line; an empty line carries no event."""
    for name in names:
        handle = _open(name)
        try:
            for number, line in enumerate(handle, start=1):
                raw = line[:-1] if line.endswith(b"\n") else line
                report.lines += 1
                if not raw:
                    report.empty += 1
                    continue
                yield name, number, raw
        finally:
            if handle is not sys.stdin.buffer:
                handle.close()


def replay_to_kafka(settings: Settings, names: list[str], *, rate: float, progress: bool) -> ReplayReport:
    from ingest.publisher import publish

    report = ReplayReport()
    messages = ((None, raw) for _, _, raw in read_lines(names, report))
    report.published = publish(settings, messages, total=None, rate=rate, progress=progress)
    return report


def replay_direct(settings: Settings, names: list[str], *, progress: bool) -> ReplayReport:
    from ingest.raw_log import RawLog
    from jobpulse.clients import cassandra_cluster, keyspace
    from jobpulse.progress import Progress

    report = ReplayReport()
    cluster = cassandra_cluster(settings)
    bar = Progress(f"storing in {keyspace(settings)}.tracking", unit="ev", enabled=progress)
    try:
        raw_log = RawLog(cluster.connect(), keyspace(settings))
        batch: dict[object, tuple[Event, str]] = {}  # by event id: the event and the file:line it came from

        def store() -> None:
            refused = raw_log.store_or_refuse([event for event, _ in batch.values()])
            for event, error in refused:
                report.invalid.append(f"{batch[event.create_time][1]}: {Reason.STORAGE_REJECTED} ({error})")
            report.stored += len(batch) - len(refused)
            bar.update(len(batch))
            batch.clear()

        for name, number, raw in read_lines(names, report):
            try:
                event = parse_event(raw)
            except Rejected as rejected:
                report.invalid.append(f"{name}:{number}: {rejected.reason} ({rejected.detail})")
                continue
            batch[event.create_time] = (event, f"{name}:{number}")
            if len(batch) >= DIRECT_BATCH:
                store()
        store()
    finally:
        bar.close()
        cluster.shutdown()
    return report
