"""Collector throughput (Kafka -> Cassandra) beside the ceiling: the same rows written straight to Cassandra.

Both runs start from an empty keyspace with the raw log's schema and write the same simulated events. The
ceiling sends pre-encoded batches from memory (validation, Kafka and encoding all done before the clock
starts), from one or more processes, and keeps the best rate: what this machine's Cassandra accepts. The
collector run is `jobpulse collect --drain` over a topic holding the events, timed from start to exit.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import multiprocessing
import time
from datetime import datetime

from bench import results
from jobpulse.config import Settings, load_settings
from jobpulse.namespace import drop, named

NAMESPACE = "bench_collector"  # dropped at the end (jobpulse.namespace)


def simulated_messages(count: int) -> list[bytes]:
    from ingest.simulator import Simulator, encode

    simulator = Simulator(seed=7, start=datetime(2026, 11, 1, 8, 0, 0), rate=1000)
    return [encode(event) for event in itertools.islice(simulator.events(), count)]


def fresh_keyspace(settings: Settings) -> None:
    from jobpulse.clients import cassandra_cluster
    from jobpulse.migrations import migrate_cassandra

    cluster = cassandra_cluster(settings)
    try:
        cluster.connect().execute(f"DROP KEYSPACE IF EXISTS {settings.cassandra_keyspace}", timeout=120)
    finally:
        cluster.shutdown()
    migrate_cassandra(settings, say=lambda message: None)


def fresh_topic(settings: Settings, messages: list[bytes]) -> None:
    from confluent_kafka.admin import AdminClient

    from ingest.publisher import publish
    from jobpulse.clients import kafka_config
    from jobpulse.migrations import ensure_topics

    admin = AdminClient(kafka_config(settings))
    if settings.kafka_topic in admin.list_topics(timeout=10).topics:
        admin.delete_topics([settings.kafka_topic])[settings.kafka_topic].result()
        time.sleep(2)  # topic deletion completes asynchronously
    ensure_topics(settings, say=lambda message: None)
    publish(settings, ((None, message) for message in messages), total=len(messages), rate=0, progress=False)


def _ceiling_worker(settings: Settings, messages: list[bytes], ready: object, go: object, out: object) -> None:
    from ingest.events import parse_event
    from ingest.raw_log import PendingWrite, RawLog
    from jobpulse.clients import cassandra_cluster, keyspace

    cluster = cassandra_cluster(settings)
    raw_log = RawLog(cluster.connect(), keyspace(settings))
    requests = raw_log.requests([parse_event(message) for message in messages], time.time())
    ready.put(len(requests))  # type: ignore[attr-defined]
    go.get()  # type: ignore[attr-defined]
    began = time.perf_counter()
    PendingWrite(raw_log.session, requests).wait(600)
    out.put(time.perf_counter() - began)  # type: ignore[attr-defined]
    cluster.shutdown()


def ceiling(settings: Settings, messages: list[bytes], processes: int) -> float:
    """Events/s when ``processes`` clients send the pre-encoded rows of ``messages`` at once."""
    fresh_keyspace(settings)
    context = multiprocessing.get_context("spawn")
    ready, go, out = context.Queue(), context.Queue(), context.Queue()
    share = -(-len(messages) // processes)
    workers = [
        context.Process(target=_ceiling_worker, args=(settings, messages[i * share : (i + 1) * share], ready, go, out))
        for i in range(processes)
    ]
    for worker in workers:
        worker.start()
    for _ in workers:
        ready.get(timeout=600)
    for _ in workers:
        go.put(True)
    slowest = max(out.get(timeout=900) for _ in workers)
    for worker in workers:
        worker.join()
    return len(messages) / slowest


def collector(settings: Settings) -> tuple[float, dict]:
    from ingest.collector import Collector

    fresh_keyspace(settings)
    began = time.perf_counter()
    counters = Collector(settings).run(drain=True)
    elapsed = time.perf_counter() - began
    return counters.written / elapsed, dataclasses.asdict(counters)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=300_000)
    results.add_arguments(parser)
    args = parser.parse_args()
    settings = dataclasses.replace(named(load_settings(), NAMESPACE), collector_group=f"{NAMESPACE}_{time.time_ns()}")
    try:
        messages = simulated_messages(args.events)
        fresh_topic(settings, messages)
        ceilings = {f"{n}_process": round(ceiling(settings, messages, n)) for n in (1, 2)}
        best = max(ceilings.values())
        rate, counters = collector(settings)
    finally:
        drop(settings)
    results.write(
        "collector",
        {
            "events": args.events,
            "collector_events_per_s": round(rate),
            "ceiling_events_per_s": best,
            "ceiling_by_client_processes": ceilings,
            "collector_share_of_ceiling": round(rate / best, 3),
            "target_share": 0.7,
            "rows_per_event": 2,
            "collector_counters": counters,
        },
        record=args.write,
    )


if __name__ == "__main__":
    main()
