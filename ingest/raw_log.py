"""Writes accepted events to the Cassandra raw log: ``tracking`` and its change feed ``tracking_changes``.

A write is acknowledged only when every row is, at LOCAL_QUORUM, which is what lets the collector commit its
Kafka offsets afterwards. Every row is an idempotent upsert keyed by the event id, so writing a batch again
(a retry, a redelivery) never adds an event. Absent fields are left unset rather than written as null, which
would store a tombstone per empty column.

Each writer publishes a low watermark in ``raw_log_writers``: the oldest arrival it still has in flight (or
now, when it has none). The ingest captures up to the oldest of them instead of waiting out a fixed lag.

The write path is the collector's hot loop, so rows are encoded here straight from the prepared statements'
column types (the driver's generic ``bind`` costs several times more per row), and sent as unlogged batches:
rows of one change-feed partition together (one mutation), and `tracking` rows whose partitions share their
first replica, so the coordinator the driver picks owns every row of the batch.
"""

from __future__ import annotations

import math
import os
import socket
import struct
import time
import uuid
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from operator import attrgetter
from threading import Event as Signal
from threading import Lock
from typing import TYPE_CHECKING, Any

from ingest.events import VALUE_FIELDS, Event

if TYPE_CHECKING:
    from cassandra.cluster import Session
    from cassandra.query import BatchStatement, PreparedStatement

SHARDS = 8
BATCH_ROWS = 32  # ~20 KiB a batch: well under batch_size_warn_threshold (64 KiB)
WINDOW = 48  # batches in flight at once
# A write is abandoned (and retried with a fresh arrival) if some of its requests could not even be sent this
# long after its arrival was stamped: it bounds how far an arrival can trail the moment it becomes visible,
# which the ingest's safety lag relies on (ingest.capture).
MAX_SEND_DELAY = 10.0
CASSANDRA_WRITE_TIMEOUT = 5.0  # write_request_timeout (jobpulse/stack/templates/cassandra.yaml): a mutation
# not applied by then is dropped
HEARTBEAT_INTERVAL = 1.0  # how often a writer refreshes its watermark
# A writer stamps an arrival only if its row was refreshed within FENCE seconds; its row outlives the last
# refresh by WRITER_TTL, by which time every write it stamped is visible or dropped.
FENCE = 5.0
WRITER_TTL = int(FENCE + MAX_SEND_DELAY + CASSANDRA_WRITE_TIMEOUT + 5)


class StaleArrival(RuntimeError):
    """A write took too long to send for its arrival stamp to stay trustworthy: retry it."""


def store_in_halves(
    events: Sequence[Event], store: Callable[[Sequence[Event]], None], refused: type[Exception]
) -> Iterator[tuple[Event, Exception]]:
    """Store ``events`` with ``store``; when it raises ``refused`` (a request the server will refuse however
    often it is sent), store each half apart, down to single events. Yields each event refused on its own,
    with the error; every other event is stored. Other errors propagate (the caller retries the whole)."""
    pending = [list(events)]
    while pending:
        part = pending.pop()
        try:
            store(part)
        except refused as error:
            if len(part) == 1:
                yield part[0], error
            else:
                middle = len(part) // 2
                pending += [part[middle:], part[:middle]]


_COLUMNS = ", ".join(VALUE_FIELDS)
_MARKS = ", ".join("?" for _ in VALUE_FIELDS)
INSERT_EVENT = (
    "INSERT INTO {keyspace}.tracking (create_time, " + _COLUMNS + ", arrived_at) VALUES (?, " + _MARKS + ", ?)"
)
INSERT_CHANGE = (
    "INSERT INTO {keyspace}.tracking_changes (arrival_minute, shard, arrival_id, create_time, " + _COLUMNS + ") "
    "VALUES (?, ?, ?, ?, " + _MARKS + ")"
)

_DOUBLE = struct.Struct(">d").pack
_BIGINT = struct.Struct(">q").pack
_TINYINT = struct.Struct(">b").pack


def _timestamp(value: datetime) -> bytes:
    return _BIGINT(round(value.timestamp() * 1000))


# CQL type name -> encoder of a non-null Python value, for the types of the raw tables.
_ENCODERS: dict[str, Callable[[Any], bytes]] = {
    "DoubleType": _DOUBLE,
    "UTF8Type": str.encode,  # UTF-8 is str.encode's default
    "VarcharType": str.encode,
    "TimeUUIDType": attrgetter("bytes"),
    "UUIDType": attrgetter("bytes"),
    "DateType": _timestamp,
    "ByteType": _TINYINT,
}


def _ticks(moment: float) -> int:
    """100-ns timeuuid ticks of a Unix time, exactly as ``uuid_from_time`` stamps an arrival."""
    from ingest.capture import GREGORIAN_OFFSET

    return int(moment * 1e6) * 10 + GREGORIAN_OFFSET


def shard_of(create_time: uuid.UUID) -> int:
    """Stable across processes and runs (unlike ``hash``), so replays of one event land in the same shard."""
    return zlib.crc32(create_time.bytes) % SHARDS


def arrival_minute(arrived_at: datetime) -> datetime:
    return arrived_at.replace(second=0, microsecond=0)


class EventEncoder:
    """Serialises an event's values once, for both tables, from the column types of the tracking insert."""

    def __init__(self, statement: PreparedStatement) -> None:
        from cassandra.query import UNSET_VALUE

        self.unset = UNSET_VALUE
        columns = statement.column_metadata[: 1 + len(VALUE_FIELDS)]
        if [column.name for column in columns] != ["create_time", *VALUE_FIELDS]:
            raise TypeError("the tracking insert's columns do not follow the Event's fields")
        missing = [column.name for column in columns if column.type.__name__ not in _ENCODERS]
        if missing:
            raise TypeError(f"no encoder for the types of columns {missing}")
        self.encoders = [_ENCODERS[column.type.__name__] for column in columns]

    def encode(self, event: Event) -> list[Any]:
        unset = self.unset
        return [unset if value is None else encode(value) for encode, value in zip(self.encoders, event, strict=True)]


def batches(statement: PreparedStatement, rows: list[list[Any]], consistency: int) -> list[BatchStatement]:
    """Unlogged batches of encoded ``rows``, each routed by the partition key of its first row.

    Adds the values with the batch's own (protected) method, as ``BatchStatement.add`` does after binding;
    tests/ingest/test_raw_log.py checks that the result equals what ``add`` builds.
    """
    from cassandra.query import BatchStatement, BatchType

    routing = list(statement.routing_key_indexes or [])
    result = []
    for start in range(0, len(rows), BATCH_ROWS):
        batch = BatchStatement(BatchType.UNLOGGED, consistency_level=consistency)
        chunk = rows[start : start + BATCH_ROWS]
        parts = [chunk[0][index] for index in routing]
        batch.keyspace = statement.keyspace
        batch.routing_key = parts[0] if len(parts) == 1 else parts
        for values in chunk:
            batch._add_statement_and_params(True, statement.query_id, values)
        result.append(batch)
    return result


class PendingWrite:
    """Requests sent with at most ``window`` in flight; ``wait`` returns once all are acknowledged (or one failed).

    The window keeps the driver's connection from overflowing (it refuses requests once its write buffer is
    full); each acknowledgement sends the next request, from the driver's event loop. ``on_settled`` is called
    once nothing of the write can still reach Cassandra: every request sent has been answered (a failure stops
    further sends, but requests already sent may still be applied).
    """

    def __init__(
        self,
        session: Session | None,
        requests: list[BatchStatement],
        window: int = WINDOW,
        send_by: float | None = None,
        on_settled: Callable[[], None] | None = None,
        error: BaseException | None = None,
    ) -> None:
        self._session = session
        self._send_by = send_by  # time.monotonic() after which no request may be sent
        self._requests = requests
        self._on_settled = on_settled
        self._lock = Lock()
        self._next = 0
        self._left = len(requests)
        self._in_flight = 0
        self._settled = False
        self._done = Signal()
        self._error: BaseException | None = error
        if not requests or error is not None:
            self._done.set()
            self._settle_if_quiet()
            return
        for _ in range(min(window, len(requests))):
            self._send_next()

    @classmethod
    def failed(cls, error: BaseException) -> PendingWrite:
        """A write that could not start: ``wait`` raises ``error``."""
        return cls(None, [], error=error)

    def _send_next(self) -> None:
        with self._lock:
            if self._next >= len(self._requests) or self._error is not None:
                return
            request = self._requests[self._next]
            self._next += 1
            late = self._send_by is not None and time.monotonic() > self._send_by
            if not late:
                self._in_flight += 1
        if late:
            self._stop(StaleArrival(f"requests still unsent {MAX_SEND_DELAY:.0f}s after the arrival stamp"))
            return
        try:
            future = self._session.execute_async(request)  # type: ignore[union-attr]
        except Exception as error:
            self._answered(error)
            return
        future.add_callbacks(self._succeeded, self._answered)

    def _succeeded(self, _result: Any) -> None:
        self._answered(None)

    def _answered(self, error: BaseException | None) -> None:
        with self._lock:
            self._in_flight -= 1
            if error is None:
                self._left -= 1
            else:
                self._error = self._error or error
            finished = self._left == 0 or self._error is not None
        if finished:
            self._done.set()
            self._settle_if_quiet()
        else:
            self._send_next()

    def _stop(self, error: BaseException) -> None:
        with self._lock:
            self._error = self._error or error
        self._done.set()
        self._settle_if_quiet()

    def _settle_if_quiet(self) -> None:
        with self._lock:
            if self._settled or self._in_flight > 0 or (self._left > 0 and self._error is None):
                return
            self._settled = True
        if self._on_settled is not None:
            self._on_settled()

    def wait(self, timeout: float = 120.0) -> None:
        if not self._done.wait(timeout):
            raise TimeoutError(f"{self._left} Cassandra write(s) unanswered after {timeout:.0f}s")
        if self._error is not None:
            raise self._error


class RawLog:
    """Writes to the raw log in ``keyspace`` (a name checked by ``jobpulse.clients.keyspace``)."""

    def __init__(self, session: Session, keyspace: str) -> None:
        from cassandra.cluster import EXEC_PROFILE_DEFAULT

        self.session = session
        self.keyspace = keyspace
        # the level the session's cluster was built with (JOBPULSE_CASSANDRA_CONSISTENCY): its reads use it too
        self.consistency = session.get_execution_profile(EXEC_PROFILE_DEFAULT).consistency_level
        self.insert_event = session.prepare(INSERT_EVENT.format(keyspace=keyspace))
        self.insert_change = session.prepare(INSERT_CHANGE.format(keyspace=keyspace))
        self.encoder = EventEncoder(self.insert_event)
        self.writer = uuid.uuid4()
        self._register = session.prepare(
            f"INSERT INTO {keyspace}.raw_log_writers (writer, low_watermark, host, pid) VALUES (?, ?, ?, ?) "
            f"USING TTL {WRITER_TTL}"
        )
        self._stamps: Counter[int] = Counter()  # arrival stamps (ticks) of the writes still in flight
        self._stamp_lock = Lock()
        self._refreshed = -math.inf  # time.monotonic() of the last watermark written
        self.heartbeat()  # registered before the first arrival is stamped

    # -- the low watermark ---------------------------------------------------------------------------------------
    def low_watermark(self) -> int:
        """The oldest arrival stamp still in flight, or now when none is: nothing this writer stamps from now on
        is older (stamps are taken under the same lock)."""
        with self._stamp_lock:
            return min(self._stamps) if self._stamps else _ticks(time.time())

    def heartbeat(self, *, due_only: bool = False) -> None:
        """Publish the low watermark (and so stay registered); with ``due_only``, only if the last one is older
        than HEARTBEAT_INTERVAL. Raises if Cassandra does not take it."""
        began = time.monotonic()
        if due_only and began - self._refreshed < HEARTBEAT_INTERVAL:
            return
        self.session.execute(
            self._register, (self.writer, self.low_watermark(), socket.gethostname(), os.getpid()), timeout=FENCE
        )
        self._refreshed = began  # when the watermark was read, not when it was acknowledged: conservative

    def close(self) -> None:
        """Unregister: a writer that stopped has nothing in flight, and must not hold the ingest back."""
        self.session.execute(f"DELETE FROM {self.keyspace}.raw_log_writers WHERE writer = %s", (self.writer,))

    def _stamp(self) -> float:
        with self._stamp_lock:
            now = time.time()
            self._stamps[_ticks(now)] += 1
        return now

    def _settle(self, stamp: float) -> None:
        with self._stamp_lock:
            ticks = _ticks(stamp)
            self._stamps[ticks] -= 1
            if not self._stamps[ticks]:
                del self._stamps[ticks]

    def store(self, events: Sequence[Event], *, change_feed: bool = True) -> None:
        """Write ``events`` and wait for every acknowledgement. Without the ``change_feed`` (a bulk load of history
        into an empty log), only the ingest's backfill or a resync finds them."""
        self.start_store(events, change_feed=change_feed).wait()

    def store_or_refuse(self, events: Sequence[Event]) -> list[tuple[Event, Exception]]:
        """Write ``events``; what Cassandra refuses as invalid (a batch over ``batch_size_fail_threshold``, say)
        is written again in halves, and the events it still refuses alone are returned with the error. A
        single event's rows are each one partition, so no batch-size limit applies to them."""
        from cassandra import InvalidRequest

        return list(store_in_halves(events, self.store, InvalidRequest))

    def start_store(self, events: Sequence[Event], *, change_feed: bool = True) -> PendingWrite:
        """Send ``events`` to both tables and return at once; ``wait()`` on the result before relying on it."""
        try:
            if time.monotonic() - self._refreshed > FENCE:  # the fence: never stamp while unregistered
                self.heartbeat()
            else:
                self.heartbeat(due_only=True)
        except Exception as error:
            return PendingWrite.failed(error)
        send_by = time.monotonic() + MAX_SEND_DELAY  # taken before the arrival stamp, so never later than it
        stamp = self._stamp()
        try:
            requests = self.requests(events, stamp, change_feed=change_feed)
        except BaseException:
            self._settle(stamp)
            raise
        return PendingWrite(self.session, requests, send_by=send_by, on_settled=lambda: self._settle(stamp))

    def requests(self, events: Sequence[Event], now: float, *, change_feed: bool = True) -> list[BatchStatement]:
        """The batches that write ``events`` to both tables (or `tracking` alone without the ``change_feed``) with
        the arrival ``now`` (sent by ``start_store``)."""
        from cassandra.util import uuid_from_time

        # One arrival for the batch, taken at send time: a retry takes a new one, so an arrival is never older
        # than the attempt that writes it by more than a request timeout (what the ingest's safety lag covers).
        arrived_at = datetime.fromtimestamp(now, UTC)
        arrived = _timestamp(arrived_at)
        arrival = uuid_from_time(now).bytes
        minute = _timestamp(arrival_minute(arrived_at))

        encoded = [self.encoder.encode(event) for event in events]
        requests = []
        for group in self._by_first_replica(encoded):
            requests += batches(self.insert_event, [[*values, arrived] for values in group], self.consistency)
        if not change_feed:
            return requests
        by_shard: dict[int, list[list[Any]]] = defaultdict(list)
        for event, values in zip(events, encoded, strict=True):
            by_shard[shard_of(event.create_time)].append(values)
        for shard, group in by_shard.items():
            prefix = [minute, _TINYINT(shard), arrival]
            requests += batches(self.insert_change, [prefix + values for values in group], self.consistency)
        return requests

    def _by_first_replica(self, encoded: list[list[Any]]) -> list[list[list[Any]]]:
        metadata = self.session.cluster.metadata
        if len(metadata.all_hosts()) < 2:
            return [encoded]
        keyspace = self.keyspace
        groups: dict[object, list[list[Any]]] = defaultdict(list)
        for values in encoded:
            replicas = metadata.get_replicas(keyspace, values[0])  # values[0]: the encoded create_time
            groups[replicas[0] if replicas else None].append(values)
        return list(groups.values())
