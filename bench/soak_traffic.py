"""The chaos soak's traffic: the simulator's events at a steady rate into Kafka, with the noise a real tracker
sends as well: one message in a hundred malformed (every dead-letter reason the contract lets input cause, and
the poison inputs the collector once choked on), a few redeliveries of earlier messages, a few events hours and
days late. It rides out a Kafka outage (librdkafka keeps and resends what is not acknowledged) and writes a
ledger of what Kafka acknowledged, which the soak's checker holds the pipeline to.

Run as ``python -m bench.soak_traffic --rate 1000 --ledger DIR``; SIGTERM stops it after a flush.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import random
import signal
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ingest.events import MAX_MESSAGE_BYTES, Reason
from ingest.simulator import Simulator, encode, time_uuid

MALFORMED_SHARE = 0.01
REDELIVERY_SHARE = 0.02
LATE_SHARE = 0.01
TOO_LARGE_EVERY = 500  # of the malformed: a 1 MiB message now and then, not 10 MiB/s of them


def _fields(create_time: str, rng: random.Random, **fields: object) -> bytes:
    return json.dumps({"create_time": create_time, "job_id": rng.randrange(1, 500), **fields}).encode()


# Each kind of malformed message, with the reason the collector must give it. Each message is unique (a fresh
# event id or a random tag in it), so the checker can find every one in the dead-letter topic by its bytes.
# Two reasons are absent: `parse_error` is a parser bug by definition and `storage_rejected` needs an event
# Cassandra refuses, which no message under the size limit is.
MALFORMED: tuple[tuple[Reason, Callable[[str, random.Random], bytes]], ...] = (
    (Reason.NOT_UTF8, lambda t, r: b'{"create_time": "' + t.encode() + b'", "dt": "\xff\xfe"}'),
    (Reason.NOT_JSON, lambda t, r: b'{"create_time": "' + t.encode() + b'", "job_id": 1'),
    (Reason.NOT_JSON, lambda t, r: b"[" * 100_000 + t.encode()),  # nested deeper than the parser goes
    (Reason.NOT_AN_OBJECT, lambda t, r: json.dumps(["create_time", t]).encode()),
    (Reason.CREATE_TIME_MISSING, lambda t, r: json.dumps({"job_id": 5, "ed": t}).encode()),
    (Reason.CREATE_TIME_INVALID, lambda t, r: _fields(str(uuid.UUID(int=r.getrandbits(128), version=4)), r)),
    (Reason.CREATE_TIME_INVALID, lambda t, r: _fields(t + "\n", r)),  # a poison input: a trailing newline
    (Reason.INVALID_NUMBER, lambda t, r: _fields(t, r, job_id="twelve")),
    (Reason.INVALID_NUMBER, lambda t, r: _fields(t, r, bid=float("nan"))),
    (Reason.INVALID_NUMBER, lambda t, r: b'{"create_time": "' + t.encode() + b'", "bid": 1' + b"0" * 400 + b"}"),
    (Reason.OUT_OF_RANGE, lambda t, r: _fields(t, r, custom_track="click", bid=1e15)),
    (Reason.INVALID_STRING, lambda t, r: _fields(t, r, ua={"not": "text"})),
    (Reason.INVALID_STRING, lambda t, r: b'{"create_time": "' + t.encode() + b'", "dt": "\\ud800"}'),
)
TOO_LARGE = (Reason.TOO_LARGE, lambda t, r: _fields(t, r, ed="x" * MAX_MESSAGE_BYTES))


def digest(message: bytes) -> str:
    return hashlib.sha256(message).hexdigest()


@dataclass
class Ledger:
    """What Kafka acknowledged: valid events by id, malformed messages by digest with their expected reason.
    Kept on disk as it grows (so a traffic process that dies leaves what it had): ids and digests appended
    as acknowledged, the counts rewritten every few seconds."""

    valid: set[str] = field(default_factory=set)
    malformed: dict[str, str] = field(default_factory=dict)
    sent: int = 0
    redeliveries: int = 0
    late: int = 0
    failed_deliveries: int = 0
    finished: bool = False

    COUNTS = ("sent", "redeliveries", "late", "failed_deliveries", "finished")

    def write_counts(self, directory: Path) -> None:
        scratch = directory / "counts.tmp"
        scratch.write_text(json.dumps({key: getattr(self, key) for key in self.COUNTS}))
        scratch.replace(directory / "counts.json")

    @classmethod
    def read(cls, directory: Path) -> Ledger:
        counts = json.loads((directory / "counts.json").read_text())
        valid = set((directory / "valid.txt").read_text().split())
        malformed = dict(line.split("\t") for line in (directory / "malformed.tsv").read_text().splitlines())
        return cls(valid=valid, malformed=malformed, **counts)


class Traffic:
    """Messages in the order they are sent: the live simulator's, with the noise mixed in."""

    def __init__(self, seed: int, rate: float, start: datetime) -> None:
        self.rng = random.Random(seed)
        self.live = Simulator(seed=seed, start=start, rate=rate).events()
        # late events: created hours and days before they are sent (their ids and times from then)
        self.late = [
            Simulator(seed=seed + 1, start=start - timedelta(hours=3), rate=rate).events(),
            Simulator(seed=seed + 2, start=start - timedelta(days=2), rate=rate).events(),
        ]
        self.recent: deque[tuple[bytes, str]] = deque(maxlen=10_000)  # what a redelivery repeats
        self.malformed = itertools.count()

    def next(self) -> tuple[bytes, str, str | None]:
        """(message, kind, expected reason or event id): kind is live, late, redelivery or malformed."""
        draw = self.rng.random()
        if draw < MALFORMED_SHARE:
            number = next(self.malformed)
            reason, make = (
                TOO_LARGE if number % TOO_LARGE_EVERY == TOO_LARGE_EVERY - 1 else MALFORMED[number % len(MALFORMED)]
            )
            return make(time_uuid(time.time(), self.rng), self.rng), "malformed", reason.value
        if draw < MALFORMED_SHARE + REDELIVERY_SHARE and self.recent:
            message, event_id = self.rng.choice(self.recent)
            return message, "redelivery", event_id
        source = self.rng.choice(self.late) if draw < MALFORMED_SHARE + REDELIVERY_SHARE + LATE_SHARE else self.live
        event = next(source)
        message = encode(event)
        self.recent.append((message, event["create_time"]))
        return message, "late" if source is not self.live else "live", event["create_time"]


def run(rate: float, ledger_dir: Path, seed: int) -> Ledger:
    """Send ``rate`` messages a second until SIGTERM, then flush and write the ledger (settings from the
    environment, as every JobPulse process reads them)."""
    from confluent_kafka import KafkaError, Producer

    from jobpulse.clients import kafka_config
    from jobpulse.config import load_settings

    settings = load_settings()
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    ledger = Ledger()
    ledger_dir.mkdir(parents=True, exist_ok=True)
    valid_file = (ledger_dir / "valid.txt").open("w")
    malformed_file = (ledger_dir / "malformed.tsv").open("w")
    traffic = Traffic(seed, rate, datetime.now(UTC).replace(tzinfo=None))
    producer = Producer(
        kafka_config(
            settings,
            **{
                "message.max.bytes": 5 * MAX_MESSAGE_BYTES,
                "linger.ms": 20,
                "enable.idempotence": True,
                # a Kafka restart takes tens of seconds: keep what is unacknowledged that long and more
                "message.timeout.ms": 15 * 60 * 1000,
                "queue.buffering.max.messages": 2_000_000,
            },
        )
    )
    resend: list[tuple[bytes, str, str | None]] = []

    def delivered(error: KafkaError | None, message: object, sent: tuple[bytes, str, str | None]) -> None:
        if error is not None:
            ledger.failed_deliveries += 1
            resend.append(sent)
            return
        _, kind, key = sent
        if kind == "malformed":
            malformed_file.write(f"{digest(sent[0])}\t{key}\n")
        elif key not in ledger.valid:
            ledger.valid.add(key)
            valid_file.write(f"{key}\n")
        ledger.sent += 1
        ledger.redeliveries += kind == "redelivery"
        ledger.late += kind == "late"

    began = counted = time.monotonic()
    number = 0
    while not stopping:
        if time.monotonic() - counted > 5:
            valid_file.flush()
            malformed_file.flush()
            ledger.write_counts(ledger_dir)
            counted = time.monotonic()
        due = began + number / rate
        pause = due - time.monotonic()
        if pause > 0:
            producer.poll(pause)
        sent = resend.pop() if resend else traffic.next()
        while True:
            try:
                producer.produce(
                    settings.kafka_topic, value=sent[0], on_delivery=lambda e, m, s=sent: delivered(e, m, s)
                )
                break
            except BufferError:
                producer.poll(1.0)
        number += 1
    while producer.flush(60) or resend:  # what Kafka refused after its timeout goes again
        for sent in resend[:]:
            resend.remove(sent)
            producer.produce(settings.kafka_topic, value=sent[0], on_delivery=lambda e, m, s=sent: delivered(e, m, s))
    valid_file.close()
    malformed_file.close()
    ledger.finished = True
    ledger.write_counts(ledger_dir)
    return ledger


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--ledger", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=61)
    args = parser.parse_args()
    run(args.rate, args.ledger, args.seed)


if __name__ == "__main__":
    main()
