"""Publishing to the tracking topic, shared by the simulator and the replay: idempotent producer, paced."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from jobpulse.config import Settings


class RateLimiter:
    """Paces a loop to ``rate`` items per wall-clock second (no pacing when rate is 0)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.began = time.monotonic()

    def wait(self, done: int) -> None:
        if self.rate <= 0:
            return
        ahead = done / self.rate - (time.monotonic() - self.began)
        if ahead > 0.001:
            time.sleep(ahead)


def publish(settings: Settings, messages: Iterator[tuple[bytes | None, bytes]], *, total: int | None, rate: float,
            progress: bool) -> int:  # fmt: skip
    """Publish (key, value) pairs to the tracking topic, paced to ``rate``; returns the count delivered."""
    from confluent_kafka import KafkaException, Producer

    from jobpulse.clients import kafka_config
    from jobpulse.progress import Progress

    failures: list[str] = []

    def delivered(error: Any, _message: Any) -> None:
        if error is not None:
            failures.append(str(error))

    producer = Producer(
        kafka_config(
            settings,
            **{"acks": "all", "enable.idempotence": True, "linger.ms": 20, "compression.type": "lz4",
               "batch.size": 1_000_000, "message.max.bytes": 5 * 1024 * 1024,
               "queue.buffering.max.messages": 500_000},
        )
    )  # fmt: skip
    pace = RateLimiter(rate)
    bar = Progress(f"publishing to {settings.kafka_topic}", total=total, unit="ev", enabled=progress)
    sent = 0
    try:
        for key, value in messages:
            while True:
                try:
                    producer.produce(settings.kafka_topic, value=value, key=key, on_delivery=delivered)
                    break
                except BufferError:  # local queue full: let deliveries drain
                    producer.poll(0.05)
            sent += 1
            if sent % 1000 == 0:
                producer.poll(0)
                bar.update(1000)
                pace.wait(sent)
        left = producer.flush(120)
        bar.update(sent % 1000)
    finally:
        bar.close()
    if left or failures:
        raise KafkaException(f"{left} message(s) not delivered; first errors: {failures[:3]}")
    return sent
