"""The pipeline on the cluster topology (`make test-cluster` runs these with JOBPULSE_TOPOLOGY=cluster): three
Cassandra nodes, three Kafka brokers, a Spark standalone master with two workers. Simulated traffic goes through
Kafka, the collector, the ingest and dbt on the workers' executors, and `events` must equal the spec oracle;
then again with a Cassandra node, a Kafka broker and a Spark worker SIGKILLed while traffic flows and a run is
in progress. With one of each down, a quorum of every service is left, so the next run completes with exact
counts; after `stack up` the three rejoin and `stack status` is healthy again."""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time
from collections.abc import Iterator
from datetime import datetime

import pytest

from ingest.publisher import publish
from ingest.simulator import Simulator, encode
from jobpulse import stack
from jobpulse.config import Settings
from jobpulse.pipeline import run_once
from tests.pipeline.mart import company_of_job, mart_rows, raw_log_events
from tests.pipeline.namespace import isolated_pipeline
from tests.pipeline.spec_oracle import expected_events

pytestmark = pytest.mark.cluster

KILLED = ("cassandra-2", "kafka-1", "spark-worker-1")  # kafka-1 is often the controllers' leader too


@pytest.fixture(scope="module")
def pipeline(running_stack: Settings) -> Iterator[Settings]:
    assert running_stack.topology == "cluster", "the cluster tests run on JOBPULSE_TOPOLOGY=cluster (make test-cluster)"
    with isolated_pipeline(running_stack, "cluster") as settings:
        yield settings


def simulated(seed: int, count: int) -> list[dict]:
    return list(itertools.islice(Simulator(seed=seed, start=datetime(2026, 11, 27, 22, 0), rate=20).events(), count))


def send(settings: Settings, events: list[dict], rate: float = 0) -> None:
    """Through Kafka as the tracker would: acks=all, idempotent, paced to ``rate`` events/s (0: at once)."""
    publish(settings, ((None, encode(event)) for event in events), total=len(events), rate=rate, progress=False)


def raw_log(settings: Settings) -> list[dict]:
    with raw_log_events(settings) as events:
        return list(events)


def assert_exactly_once(settings: Settings, sent: list[dict]) -> None:
    """Every event sent is in the raw log, and `events` equals the spec oracle over the whole raw log."""
    stored = raw_log(settings)
    assert {event["create_time"] for event in sent} <= {event["create_time"] for event in stored}
    assert mart_rows(settings) == expected_events(stored, company_of_job())


def nodes(settings: Settings) -> dict[str, tuple[bool, str]]:
    return {row.name: (row.healthy, row.detail) for row in stack.status(settings)}


def test_every_node_of_the_cluster_is_up_and_the_pipeline_counts_every_event_once(pipeline: Settings):
    health = nodes(pipeline)
    assert {name for name, (healthy, _) in health.items() if healthy} == {
        "mariadb", "cassandra-1", "cassandra-2", "cassandra-3", "kafka-1", "kafka-2", "kafka-3", "spark-master",
        "spark-worker-1", "spark-worker-2", "spark-thrift",
    }, health  # fmt: skip
    assert "2 worker(s) alive" in health["spark-master"][1]
    assert "3 broker(s)" in health["kafka-1"][1]

    events = simulated(seed=1, count=3000)
    send(pipeline, events)
    run_once(pipeline, say=lambda message: None)

    assert sorted(event["create_time"] for event in raw_log(pipeline)) == sorted(e["create_time"] for e in events)
    assert mart_rows(pipeline) == expected_events(events, company_of_job())


def test_a_node_a_broker_and_a_worker_killed_mid_run_lose_no_event(pipeline: Settings):
    events = simulated(seed=2, count=6000)
    sending = threading.Thread(target=send, args=(pipeline, events, 200.0))  # 30 s of traffic
    in_dbt = threading.Event()
    killed: dict[str, int] = {}

    def kill_when_modelling() -> None:
        in_dbt.wait(timeout=300)
        for service in stack.services(pipeline):
            if service.name in KILLED and (pid := service.process.pid) is not None:
                os.kill(pid, signal.SIGKILL)
                killed[service.name] = pid

    def watch(message: str) -> None:
        if message.startswith("dbt lakehouse"):
            in_dbt.set()

    killer = threading.Thread(target=kill_when_modelling)
    sending.start()
    killer.start()
    time.sleep(5)
    deadline = time.monotonic() + 900
    while (sending.is_alive() or not killed) and time.monotonic() < deadline:
        try:
            run_once(pipeline, say=watch)
        except Exception as error:  # a run the kills break: the next one must make up for it
            print(f"a run the kills broke: {error!r}")
    sending.join()
    killer.join()
    assert sorted(killed) == sorted(KILLED)
    down = nodes(pipeline)
    assert [name for name in KILLED if down[name][0]] == [], down

    run_once(pipeline, say=lambda message: None)  # one of each still down: the quorums left carry it
    assert_exactly_once(pipeline, events)

    stack.up(pipeline, say=lambda message: None)  # restarts what is down; every node answers again
    assert all(healthy for healthy, _ in nodes(pipeline).values()), nodes(pipeline)
    more = simulated(seed=3, count=1000)
    send(pipeline, more)
    run_once(pipeline, say=lambda message: None)
    assert_exactly_once(pipeline, events + more)
