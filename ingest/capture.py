"""Change capture over the raw log's change feed: where the ingest stands and what its next batches cover.

The position is an arrival time (in 100-ns timeuuid ticks), never an event time: an event is captured when it
*arrives* in the raw log, whatever its ``ts`` or ``create_time``, so late events, replayed files and
redeliveries are all captured. A batch covers the arrivals in ``(after, to]``; ``to`` stays behind every
write still in flight when the batch is read, so that none can later appear behind the position: it stops
just before the oldest low watermark the raw log's writers publish (``capture_bound``), and in any case a
fixed safety lag behind the clock. (The collector stamps an arrival when it sends a write and abandons a
write not sent within ``ingest.raw_log.MAX_SEND_DELAY``; Cassandra drops a mutation it could not apply
within its write timeout. The lag covers both with room to spare.)

The position is stored in the landing table's own Delta commits (``userMetadata`` and an idempotent-write
``txn`` entry), so it is committed exactly when the rows it covers are. This module reads it from the Delta log
without Spark, which keeps ``jobpulse ingest --check`` and ``jobpulse status`` cheap.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

GREGORIAN_OFFSET = 0x01B21DD213814000  # 100-ns ticks from 1582-10-15 (the UUID epoch) to 1970-01-01
TICKS_PER_SECOND = 10_000_000
APP_ID = "jobpulse-ingest"  # Delta idempotent-write application id
METADATA_KEY = "jobpulse_ingest"
SHARDS = 8  # must match ingest.raw_log.SHARDS (checked by tests)
# How long the change feed keeps an arrival: tracking_changes' default_time_to_live (checked by tests). A
# position older than that, less a margin for the run itself, may stand before arrivals already expired.
CHANGE_FEED_TTL = timedelta(days=14)
EXPIRY_MARGIN = timedelta(hours=1)


def ticks_of(moment: datetime) -> int:
    """UUID ticks of an aware datetime (microsecond precision)."""
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return GREGORIAN_OFFSET + (delta.days * 86_400 + delta.seconds) * TICKS_PER_SECOND + delta.microseconds * 10


def moment_of(ticks: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=(ticks - GREGORIAN_OFFSET) // 10)


def timeuuid_bound(ticks: int, *, upper: bool) -> str:
    """The smallest (or largest) timeuuid of a tick in Cassandra's timeuuid order, which compares the time
    first and then the remaining bytes as signed values; the same bounds as CQL's min/maxTimeuuid."""
    clock_seq, node = (0x3F7F, 0x7F7F7F7F7F7F) if upper else (0x0080, 0x808080808080)
    fields = (
        ticks & 0xFFFFFFFF,
        (ticks >> 32) & 0xFFFF,
        ((ticks >> 48) & 0x0FFF) | 0x1000,
        ((clock_seq >> 8) & 0x3F) | 0x80,
        clock_seq & 0xFF,
        node,
    )
    return str(uuid.UUID(fields=fields))


@dataclass(frozen=True)
class Position:
    """The last landed batch and the arrival tick it covered up to (inclusive)."""

    batch: int
    to_ticks: int
    landed_at: str | None = None
    rows: int | None = None
    run: str | None = None  # the run that landed it (tells a run whether its own write was the one kept)

    @property
    def to(self) -> datetime:
        return moment_of(self.to_ticks)

    def expired(self, now: datetime) -> bool:
        """Whether arrivals just after the position may already be gone from the change feed."""
        return now - self.to >= CHANGE_FEED_TTL - EXPIRY_MARGIN


@dataclass(frozen=True)
class Window:
    """One batch: arrivals in ``(after_ticks, to_ticks]``; ``after_ticks`` None means a backfill of the whole
    log (the first run, when there is no position yet)."""

    batch: int
    after_ticks: int | None
    to_ticks: int

    @property
    def to(self) -> datetime:
        return moment_of(self.to_ticks)

    @property
    def backfill(self) -> bool:
        return self.after_ticks is None

    def minutes(self) -> list[datetime]:
        """Arrival minutes (the change feed's partition buckets) that hold the window's arrivals."""
        assert self.after_ticks is not None, "a backfill reads the log, not the change feed"
        first = moment_of(self.after_ticks + 1).replace(second=0, microsecond=0)
        last = moment_of(self.to_ticks).replace(second=0, microsecond=0)
        count = int((last - first).total_seconds() // 60) + 1
        return [first + timedelta(minutes=index) for index in range(count)]

    def arrival_id_range(self) -> tuple[str, str]:
        assert self.after_ticks is not None
        return timeuuid_bound(self.after_ticks + 1, upper=False), timeuuid_bound(self.to_ticks, upper=True)

    def metadata(self, **extra: Any) -> str:
        """The commit's userMetadata: the position this batch moves to, readable by people and by us."""
        return json.dumps({METADATA_KEY: {**asdict(self), "to": moment_of(self.to_ticks).isoformat(), **extra}})


def capture_bound(now: datetime, safety_lag: timedelta, watermarks: Iterable[int]) -> int:
    """The newest arrival tick a batch may cover at ``now``: just before the oldest low watermark of the raw
    log's writers (``ingest.raw_log``: nothing older is in flight anywhere, and nothing older will be
    stamped), so with healthy writers the capture trails the clock by about a second. Never less far than the
    fixed ``safety_lag``, by which any write has become visible or been dropped, whatever its writer says;
    never past ``now``."""
    marks = list(watermarks)
    reached = min(marks) - 1 if marks else ticks_of(now)  # no writer registered: none has anything in flight
    return max(ticks_of(now - safety_lag), min(reached, ticks_of(now)))


def plan(position: Position | None, to_ticks: int, *, max_span: timedelta) -> list[Window]:
    """The batches to land now, up to the arrival tick ``to_ticks`` (``capture_bound``): none when nothing can
    have arrived since the position; a backfill first."""
    if position is None:
        return [Window(batch=1, after_ticks=None, to_ticks=to_ticks)]
    windows, after, batch = [], position.to_ticks, position.batch
    span = int(max_span.total_seconds() * TICKS_PER_SECOND)
    while after < to_ticks:
        batch += 1
        end = min(after + span, to_ticks)
        windows.append(Window(batch=batch, after_ticks=after, to_ticks=end))
        after = end
    return windows


def _commits_newest_first(table_path: Path) -> list[Path]:
    log = table_path / "_delta_log"
    if not log.is_dir():
        return []
    return sorted(log.glob("[0-9]" * 20 + ".json"), reverse=True)


def _positions_newest_first(table_path: Path) -> Iterator[Position]:
    """The position recorded by each ingest commit of the landing table, newest first."""
    for commit in _commits_newest_first(table_path):
        for line in commit.read_text().splitlines():
            action = json.loads(line)
            info = action.get("commitInfo")
            if not info or not info.get("userMetadata"):
                continue
            try:
                recorded = json.loads(info["userMetadata"])[METADATA_KEY]
            except (ValueError, KeyError, TypeError):
                continue  # another writer's metadata (a maintenance job, a person)
            rows = info.get("operationMetrics", {}).get("numOutputRows")
            yield Position(
                batch=int(recorded["batch"]),
                to_ticks=int(recorded["to_ticks"]),
                landed_at=recorded.get("landed_at"),
                rows=int(rows) if rows is not None else None,
                run=recorded.get("run"),
            )


def read_position(table_path: Path) -> Position | None:
    """The position recorded by the newest ingest commit of the landing table, or None if there is none."""
    return next(_positions_newest_first(table_path), None)


def landed_batches(table_path: Path) -> list[Position]:
    """Every batch landed so far, oldest first (what the freshness benchmark maps arrivals to)."""
    return sorted(_positions_newest_first(table_path), key=lambda position: position.batch)
