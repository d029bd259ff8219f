"""The collector: Kafka topic ``tracking`` -> Cassandra raw log, rejects -> ``tracking.dlq``.

Delivery is at-least-once and the effect exactly-once: a batch is written to Cassandra (idempotent upserts
keyed by the event id) and its rejects to the dead-letter topic, and only then are its Kafka offsets
committed. A crash anywhere before the commit means the batch is consumed and written again, onto the same
rows. A failing Cassandra or Kafka is retried with backoff and never skipped; SIGTERM finishes the batch in
hand, commits it and exits.

Each reject is dead-lettered once even so: the rejects of partition p go to dead-letter partition p, in order, and
before its first dead letter for a partition it was given, a collector reads the end of that dead-letter partition
for the dead letters of the group's uncommitted offsets (sent by a collector that died or lost the partition before
its commit) and skips those rejects. Kafka transactions are not used: librdkafka's send_offsets_to_transaction
hangs past its timeout when the broker restarts (confluentinc/librdkafka#5456, #5511).

Batches are pipelined: while batch N is in flight to Cassandra, batch N+1 is consumed and validated, and N is
committed before N+1 is sent, so offsets are always committed in order and only for stored events.

One message never stops the others: a message the contract rejects is dead-lettered with its reason, and so is
an event Cassandra refuses to store even alone (a batch Cassandra refuses is written again in halves first).
Only a dead-letter topic that stays unwritable stops the collector, after a bounded number of attempts and
with an error and a non-zero exit status, its batch uncommitted: a rejected message is never skipped unrecorded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ingest.collector_stats import CounterPublisher, Instance, Report
from ingest.events import Event, Reason, Rejected, parse_event
from jobpulse.config import Settings
from jobpulse.errors import OperatorError

if TYPE_CHECKING:
    from cassandra.cluster import Session
    from confluent_kafka import Consumer, Message, Producer, TopicPartition

    from ingest.raw_log import PendingWrite, RawLog

log = logging.getLogger("jobpulse.collector")
T = TypeVar("T")

REASON_HEADER = "jobpulse.reason"
DETAIL_HEADER = "jobpulse.detail"
SOURCE_HEADER = "jobpulse.source"  # topic/partition/offset of the original message


@dataclass
class Counters:
    """What the collector has done since it started; written to its stats file (and with ``publish_counters`` to
    MySQL) and logged periodically."""

    consumed: int = 0
    written: int = 0
    dead_lettered: int = 0
    dead_lettered_by_reason: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    retries: int = 0
    lag: int | None = None
    started_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)

    def line(self) -> str:
        lag = "?" if self.lag is None else self.lag
        return (
            f"consumed={self.consumed} written={self.written} dead_lettered={self.dead_lettered} "
            f"batches={self.batches} retries={self.retries} lag={lag}"
        )


@dataclass
class Batch:
    """One poll's worth of messages, validated: what to write, what to dead-letter, what to commit after."""

    messages: list[Message]
    events: list[Event]
    rejects: list[tuple[Message, Rejected]]
    offsets: list[Any]  # TopicPartition with the next offset to read
    consumed: int
    write: PendingWrite | None = None


class Stopping(Exception):
    """Raised inside a retry loop when a stop was requested: the batch is abandoned uncommitted."""


class GaveUp(RuntimeError):
    """An operation retried as often as it may be still failed: the collector stops, its batch uncommitted."""


@dataclass
class CollectorConfig:
    batch_size: int = 5000
    poll_timeout: float = 0.5
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    stats_interval: float = 10.0
    stats_file: Path | None = None
    publish_counters: bool = False  # also to MySQL (ingest.collector_stats), for the dashboard and the alerts
    dead_letter_attempts: int = 5  # then the collector stops (exit status 69) rather than skip a rejected message
    dead_letter_timeout: float = 30.0  # seconds a dead-letter produce may take before it counts as failed


def health(stats_file: Path, max_age: float) -> tuple[bool, str]:
    """Whether a collector is alive and making progress: its process runs and it wrote its counters within
    ``max_age`` seconds (it does every ``stats_interval`` while it consumes, idle or not, and stops doing so
    while it is stuck retrying a dependency)."""
    import psutil

    try:
        stats = json.loads(stats_file.read_text())
    except (OSError, ValueError) as error:
        return False, f"unhealthy: no counters in {stats_file} ({error})"
    age = time.time() - stats["updated_at"]
    if not psutil.pid_exists(stats["pid"]):
        return False, f"unhealthy: collector {stats['pid']} is not running"
    if age > max_age:
        return False, f"unhealthy: counters last written {age:.0f}s ago (retrying a dependency?)"
    return True, f"healthy: pid {stats['pid']}, counters written {age:.0f}s ago, lag {stats['lag']}"


def identity(message: Message) -> bytes:
    """A digest of a message's key and bytes, which its dead letter carries unchanged."""
    digest = hashlib.blake2b(digest_size=16)
    key = message.key()
    digest.update(b"-" if key is None else len(key).to_bytes(8, "big") + key)
    digest.update(message.value() or b"")
    return digest.digest()


def dead_letter_headers(message: Message, rejected: Rejected) -> list[tuple[str, bytes]]:
    source = f"{message.topic()}/{message.partition()}/{message.offset()}"
    return [
        (REASON_HEADER, rejected.reason.value.encode()),
        (DETAIL_HEADER, rejected.detail.encode("utf-8", errors="replace")),
        (SOURCE_HEADER, source.encode()),
    ]


class Collector:
    def __init__(self, settings: Settings, config: CollectorConfig | None = None) -> None:
        self.settings = settings
        self.config = config or CollectorConfig()
        self.counters = Counters()
        self.stop_requested = False
        self._assigned: set[tuple[str, int]] = set()
        self._at_end: set[tuple[str, int]] = set()
        self._last_stats = 0.0
        self._pending: Batch | None = None
        self._publisher: CounterPublisher | None = None
        # by assigned partition, once it has a reject: its uncommitted messages already in the dead-letter topic
        # (source offset -> identity)
        self._sent: dict[int, dict[int, bytes]] = {}
        self._reader: Consumer | None = None
        self._consumer: Consumer
        self._producer: Producer
        self._raw_log: RawLog

    # -- lifecycle --------------------------------------------------------------------------------------------
    def request_stop(self, *_: object) -> None:
        self.stop_requested = True

    def run(self, *, drain: bool = False) -> Counters:
        """Consume until stopped (SIGTERM/SIGINT), or with ``drain`` until the topic is fully consumed."""
        from confluent_kafka import Consumer, Producer

        from ingest.raw_log import RawLog
        from jobpulse.clients import kafka_config, keyspace

        previous = {signum: signal.signal(signum, self.request_stop) for signum in (signal.SIGTERM, signal.SIGINT)}
        self._consumer = consumer = Consumer(
            kafka_config(
                self.settings,
                **{
                    "group.id": self.settings.collector_group,
                    "enable.auto.commit": False,
                    "auto.offset.reset": "earliest",
                    "enable.partition.eof": True,
                    "isolation.level": "read_committed",
                    "fetch.max.bytes": 16 * 1024 * 1024,
                    "max.partition.fetch.bytes": 4 * 1024 * 1024,
                    "statistics.interval.ms": 5000,  # librdkafka reports each partition's lag: see _on_stats
                    "stats_cb": self._on_stats,
                },
            )
        )
        self._producer = Producer(
            kafka_config(
                self.settings,
                **{
                    "acks": "all",
                    "enable.idempotence": True,
                    "linger.ms": 5,
                    "message.max.bytes": 5 * 1024 * 1024,
                    "message.timeout.ms": int(self.config.dead_letter_timeout * 1000),
                },
            )
        )
        if self.config.publish_counters:
            self._publisher = CounterPublisher(
                self.settings,
                Instance(
                    self.settings.collector_group,
                    self.settings.kafka_topic,
                    "drain" if drain else "service",
                    datetime.fromtimestamp(self.counters.started_at, UTC),
                ),
            )
        session, stopped_cleanly = None, False
        try:
            self._check_dead_letter_partitions()
            session = self._retry("connect to Cassandra", self._connect_cassandra)
            self._raw_log = self._retry("register with the raw log", lambda: RawLog(session, keyspace(self.settings)))
            consumer.subscribe([self.settings.kafka_topic], on_assign=self._on_assign, on_revoke=self._on_revoke)
            while not self.stop_requested:
                messages = consumer.consume(num_messages=self.config.batch_size, timeout=self.config.poll_timeout)
                batch = self._validate(messages)
                self._finish_pending()  # the previous batch was written while this one was validated
                if batch is not None:
                    batch.write = self._raw_log.start_store(batch.events)
                    self._pending = batch
                self._refresh_watermark()
                self._report()
                if drain and batch is None and self._drained():
                    break
            self._finish_pending()
            self._raw_log.close()  # nothing in flight: the ingest need not wait for this collector any more
            stopped_cleanly = True
        except Stopping:
            log.warning("stopped during a retry: the batch in hand stays uncommitted and will be consumed again")
            stopped_cleanly = True
        finally:
            self._report(force=True, stopped=stopped_cleanly)
            if self._publisher is not None:
                self._publisher.close(timeout=10)
            consumer.close()
            if self._reader is not None:
                self._reader.close()
            self._producer.flush(10)
            if session is not None:
                session.cluster.shutdown()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return self.counters

    def _refresh_watermark(self) -> None:
        """Tell the ingest, about every second, how far it may capture (ingest.raw_log's low watermark). A
        failure is only logged: the watermark then ages, which only makes the ingest wait longer, and no
        arrival is stamped until it is written again."""
        try:
            self._raw_log.heartbeat(due_only=True)
        except Exception as error:
            log.warning("could not refresh the raw log watermark (%s: %s)", type(error).__name__, error)

    def _connect_cassandra(self) -> Session:
        """A Cassandra session; a failed attempt's cluster object is discarded (the driver
        shuts a cluster down when its first connection fails, so it cannot be retried)."""
        from jobpulse.clients import cassandra_cluster

        cluster = cassandra_cluster(self.settings)
        try:
            return cluster.connect()
        except Exception:
            cluster.shutdown()
            raise

    # -- one batch --------------------------------------------------------------------------------------------
    def _validate(self, messages: list[Message]) -> Batch | None:
        from confluent_kafka import KafkaError, TopicPartition

        events: dict[Any, Event] = {}
        rejects: list[tuple[Message, Rejected]] = []
        next_offsets: dict[tuple[str, int], int] = {}
        for message in messages:
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    self._at_end.add((message.topic(), message.partition()))
                    continue
                if error.fatal():
                    raise RuntimeError(f"fatal Kafka error: {error}")
                log.warning("Kafka: %s", error)  # transient: librdkafka retries by itself
                continue
            key = (message.topic(), message.partition())
            self._at_end.discard(key)
            next_offsets[key] = message.offset() + 1
            try:
                event = parse_event(message.value() or b"")
            except Rejected as rejected:
                rejects.append((message, rejected))
                continue
            events[event.create_time] = event  # a repeat within the batch is the same event: write it once
        if not next_offsets:
            return None
        offsets = [TopicPartition(topic, partition, offset) for (topic, partition), offset in next_offsets.items()]
        consumed = sum(1 for message in messages if message.error() is None)
        return Batch(messages, list(events.values()), rejects, offsets, consumed)

    def _finish_pending(self) -> None:
        """Wait for the batch in flight, dead-letter its rejects, then commit its offsets."""
        batch, self._pending = self._pending, None
        if batch is None:
            return
        refused: list[tuple[Event, Exception]] = []
        try:
            assert batch.write is not None
            batch.write.wait()
        except Exception as error:  # write it again, the same rows, until it holds (in halves if refused)
            log.warning("Cassandra write failed (%s: %s); writing the batch again", type(error).__name__, error)
            refused = self._retry("write to Cassandra", lambda: self._raw_log.store_or_refuse(batch.events))
        rejects = batch.rejects + self._refused_messages(batch.messages, refused)
        undelivered, attempt = rejects, 0

        def dead_letter() -> None:  # each attempt sends only what the previous ones could not deliver
            nonlocal undelivered, attempt
            attempt += 1
            # a send that timed out may have landed all the same: a later attempt looks again first
            self._learn_sent({message.partition() for message, _ in undelivered}, again=attempt > 1)
            failures = self._dead_letter(undelivered)
            undelivered = [undelivered[index] for index in sorted(failures)]
            if failures:
                raise RuntimeError(f"{len(failures)} undelivered, e.g. {next(iter(failures.values()))}")

        if rejects:
            self._retry("dead-letter rejected messages", dead_letter, attempts=self.config.dead_letter_attempts)
        self._retry("commit Kafka offsets", lambda: self._consumer.commit(offsets=batch.offsets, asynchronous=False))
        for committed in batch.offsets:  # no collector of the group consumes these again
            if (sent := self._sent.get(committed.partition)) is not None:
                self._sent[committed.partition] = {
                    offset: digest for offset, digest in sent.items() if offset >= committed.offset
                }
        self.counters.consumed += batch.consumed
        self.counters.written += len(batch.events) - len(refused)
        self.counters.dead_lettered += len(rejects)
        for _message, rejected in rejects:
            reason = rejected.reason.value
            self.counters.dead_lettered_by_reason[reason] = self.counters.dead_lettered_by_reason.get(reason, 0) + 1
        self.counters.batches += 1

    @staticmethod
    def _refused_messages(
        messages: list[Message], refused: list[tuple[Event, Exception]]
    ) -> list[tuple[Message, Rejected]]:
        """The messages that carried the events Cassandra refused, each with its reason (parsed again: this
        happens rarely enough that keeping every message's event would cost more)."""
        if not refused:
            return []
        errors = {event.create_time: error for event, error in refused}
        found = []
        for message in messages:
            if message.error() is not None:
                continue
            try:
                create_time = parse_event(message.value() or b"").create_time
            except Rejected:
                continue
            if create_time in errors:
                error = errors[create_time]
                log.error("Cassandra refused event %s even alone (%s): dead-lettered", create_time, error)
                found.append((message, Rejected(Reason.STORAGE_REJECTED, f"{type(error).__name__}: {error}")))
        return found

    def _dead_letter(self, rejects: list[tuple[Message, Rejected]]) -> dict[int, str]:
        """Produce ``rejects`` to the dead-letter topic, each to the partition of its message's number, and wait;
        returns the failures by index in ``rejects``. A reject already there (see ``_learn_sent``) is skipped."""
        producer = self._producer
        failures: dict[int, str] = {}

        def on_delivery(index: int) -> Callable[[Any, Any], None]:
            def delivered(error: Any, _message: Any) -> None:
                if error is not None:
                    failures[index] = str(error)

            return delivered

        for index, (message, rejected) in enumerate(rejects):
            sent = self._sent.get(message.partition(), {}).get(message.offset())
            if sent is not None and sent == identity(message):
                continue
            try:
                producer.produce(
                    self.settings.kafka_dlq_topic,
                    partition=message.partition(),
                    value=message.value(),
                    key=message.key(),
                    headers=dead_letter_headers(message, rejected),
                    on_delivery=on_delivery(index),
                )
            except Exception as error:  # e.g. the local queue is full
                failures[index] = f"{type(error).__name__}: {error}"
            producer.poll(0)
        # message.timeout.ms fails what is still undelivered after dead_letter_timeout: the flush then returns
        producer.flush(self.config.dead_letter_timeout + 5)
        return failures

    def _retry(self, what: str, operation: Callable[[], T], attempts: int | None = None) -> T:
        """``operation`` until it succeeds: retried with backoff forever, or ``attempts`` times and then
        :class:`GaveUp`."""
        delay = self.config.backoff_initial
        attempt = 0
        while True:
            attempt += 1
            try:
                return operation()
            except Exception as error:  # every failure of a dependency is retried; nothing is skipped
                if self.stop_requested:
                    raise Stopping from error
                if attempts is not None and attempt >= attempts:
                    raise GaveUp(f"could not {what} after {attempt} attempts: {error}") from error
                self.counters.retries += 1
                log.warning("could not %s (%s: %s); retrying in %.1fs", what, type(error).__name__, error, delay)
                time.sleep(delay)
                delay = min(delay * 2, self.config.backoff_max)

    # -- dead letters sent before a crash ----------------------------------------------------------------------
    def _check_dead_letter_partitions(self) -> None:
        """Refuse to start with a dead-letter topic of fewer partitions than the tracking topic: the dead letters
        of partition p go to dead-letter partition p, where a collector that takes p over looks for them."""
        topic, dlq = self.settings.kafka_topic, self.settings.kafka_dlq_topic
        topics = self._retry("read the topics' metadata", lambda: self._consumer.list_topics(timeout=10).topics)
        if topic in topics and dlq in topics and len(topics[dlq].partitions) < len(topics[topic].partitions):
            raise OperatorError(
                f"the dead-letter topic {dlq} has {len(topics[dlq].partitions)} partitions, fewer than the "
                f"{len(topics[topic].partitions)} of {topic} (the collector dead-letters each partition's rejects "
                "to the dead-letter partition of the same number): `jobpulse migrate` adds the missing ones."
            )

    def _learn_sent(self, partitions: set[int], again: bool = False) -> None:
        """Read which uncommitted messages of ``partitions`` are in the dead-letter topic already, for those not
        read since they were assigned (or for all ``again``)."""
        for partition in partitions if again else partitions - self._sent.keys():
            self._sent[partition] = self._retry("read the dead-letter topic", partial(self._sent_before, partition))

    def _sent_before(self, partition: int) -> dict[int, bytes]:
        """The dead letters of the group's uncommitted messages of ``partition``, sent by a collector that died or
        lost the partition before its commit: their source offsets, with each message's identity.

        They are at the end of dead-letter partition ``partition``, read backwards in growing steps until a dead
        letter of a message more than ``batch_size`` below the committed offset: none before it is of a message
        at or above that offset, since committed offsets only grow and a collector dead-letters a batch (at most
        ``batch_size`` messages: the group's collectors share it) while the batch's first offset is the committed
        one."""
        from confluent_kafka import KafkaError, KafkaException, TopicPartition

        reader = self._dead_letter_reader()
        topic, dlq = self.settings.kafka_topic, self.settings.kafka_dlq_topic
        metadata = reader.list_topics(dlq, timeout=10).topics[dlq]
        if metadata.error is not None and metadata.error.code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
            raise KafkaException(metadata.error)
        if partition not in metadata.partitions:  # nothing was sent there, and sending fails loudly
            return {}
        [committed] = reader.committed([TopicPartition(topic, partition)], timeout=10)
        if committed.error is not None:
            raise KafkaException(committed.error)
        threshold = committed.offset
        if threshold < 0:  # nothing committed: the group starts at the partition's first message
            threshold = reader.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)[0]
        first, end = reader.get_watermark_offsets(TopicPartition(dlq, partition), timeout=10)
        prefix, step, older = f"{topic}/{partition}/", 2 * self.config.batch_size, False
        sent: dict[int, bytes] = {}
        while end > first and not older:
            start = max(first, end - step)
            for letter in self._read(TopicPartition(dlq, partition, start), end):
                source = dict(letter.headers() or []).get(SOURCE_HEADER, b"").decode(errors="replace")
                if not (source.startswith(prefix) and source[len(prefix) :].isdecimal()):
                    continue  # another partition's (the dead-letter topic had a single partition before)
                offset = int(source[len(prefix) :])
                if offset >= threshold:
                    sent[offset] = identity(letter)
                older |= offset < threshold - self.config.batch_size
            end, step = start, step * 2
        if sent:
            log.info(
                "%d rejects of %s [%d] are in the dead-letter topic already: not sent again",
                len(sent),
                topic,
                partition,
            )
        return sent

    def _read(self, start: TopicPartition, end: int) -> Iterator[Message]:
        """The messages of one partition from ``start`` up to offset ``end``."""
        from confluent_kafka import KafkaError, KafkaException

        reader = self._dead_letter_reader()
        reader.assign([start])
        position, heard = start.offset, time.monotonic()
        try:
            while position < end:
                messages = reader.consume(num_messages=1000, timeout=0.2)  # waits for all 1000 or the timeout
                if not messages and time.monotonic() - heard > 10:
                    raise TimeoutError(f"nothing read from {start.topic} [{start.partition}] at {position} in 10 s")
                for message in messages:
                    heard, error = time.monotonic(), message.error()
                    if error is not None and error.code() == KafkaError._PARTITION_EOF:
                        return
                    if error is not None:
                        raise KafkaException(error)
                    position = message.offset() + 1
                    if position > end:
                        return
                    yield message
        finally:
            reader.unassign()

    def _dead_letter_reader(self) -> Consumer:
        """A consumer that only reads what it is assigned: never a member of the collectors' group, whose
        committed offsets it reads, and never committing."""
        from confluent_kafka import Consumer

        from jobpulse.clients import kafka_config

        if self._reader is None:
            self._reader = Consumer(
                kafka_config(
                    self.settings,
                    **{
                        "group.id": self.settings.collector_group,
                        "enable.auto.commit": False,
                        "enable.auto.offset.store": False,
                        "enable.partition.eof": True,
                        "auto.offset.reset": "earliest",
                    },
                )
            )
        return self._reader

    # -- partitions and drain ---------------------------------------------------------------------------------
    def _on_assign(self, _consumer: Consumer, partitions: list[Any]) -> None:
        self._assigned |= {(tp.topic, tp.partition) for tp in partitions}
        for tp in partitions:  # another collector may have dead-lettered some of them since: read again
            self._sent.pop(tp.partition, None)

    def _on_revoke(self, _consumer: Consumer, partitions: list[Any]) -> None:
        self._finish_pending()  # commit what was written for these partitions while they are still ours
        revoked = {(tp.topic, tp.partition) for tp in partitions}
        self._assigned -= revoked
        self._at_end -= revoked
        for tp in partitions:
            self._sent.pop(tp.partition, None)

    def _drained(self) -> bool:
        return bool(self._assigned) and self._assigned <= self._at_end

    # -- counters ---------------------------------------------------------------------------------------------
    def _on_stats(self, report: str) -> None:
        """librdkafka's statistics: the sum of the assigned partitions' lag (high watermark - committed)."""
        lag, known = 0, False
        for topic in json.loads(report).get("topics", {}).values():
            for partition in topic.get("partitions", {}).values():
                if partition.get("partition", -1) >= 0 and partition.get("consumer_lag", -1) >= 0:
                    lag += partition["consumer_lag"]
                    known = True
        self.counters.lag = lag if known else None

    def _report(self, force: bool = False, stopped: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_stats < self.config.stats_interval:
            return
        self._last_stats = now
        self.counters.updated_at = time.time()
        log.info("collector: %s", self.counters.line())
        if self.config.stats_file is not None:
            self.config.stats_file.parent.mkdir(parents=True, exist_ok=True)
            scratch = self.config.stats_file.with_suffix(".tmp")
            scratch.write_text(json.dumps({**asdict(self.counters), "pid": os.getpid()}))
            scratch.replace(self.config.stats_file)
        if self._publisher is not None:
            counters = self.counters
            self._publisher.offer(
                Report(
                    datetime.fromtimestamp(counters.updated_at, UTC),
                    counters.consumed,
                    counters.written,
                    counters.dead_lettered,
                    dict(counters.dead_lettered_by_reason),
                    counters.batches,
                    counters.retries,
                    counters.lag,
                    stopped,
                )
            )
