"""Chaos soak: traffic at 1,000 events/s (bench/soak_traffic.py: 1 % malformed, redeliveries, late events) through
the real collector and the Airflow-scheduled `jobpulse_pipeline` on the local stack, while a schedule kills
with SIGKILL, in turn and at random moments, then restarts: the collector, Kafka, Cassandra, MariaDB, the Spark
application (the Thrift server every statement of the pipeline runs in), the Airflow scheduler, and the Spark
application again the moment an ingest submits its landing commit.

Every 10 s it samples the collector's lag (the topic's end offsets minus the collector group's commits, read
from Kafka, so a dead collector still shows) and the freshness of `events` (now minus the newest arrival that
a successful run carried into `events`). At the end, once every service is back and the pipeline has caught
up, the checker holds the system to the truth: every acknowledged valid event once in the raw log and nothing
else there; every acknowledged malformed message in the dead-letter topic exactly once with its reason;
`events` equal to the spec oracle over the whole raw log. A failed check fails the benchmark.

`--short` runs every kind of kill once with short gaps (the version `make test` runs).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil

from bench import results
from bench.freshness import oracle_mismatches, runs_carrying, summary
from bench.soak_traffic import Ledger, digest
from ingest.capture import landed_batches, read_position, ticks_of
from jobpulse import demo, stack
from jobpulse.config import PROJECT_ROOT, Settings, environment, load_settings
from jobpulse.lakehouse import landing_table, landing_table_path
from jobpulse.namespace import create, drop, named
from jobpulse.stack.process import ManagedProcess

KINDS = ("collector", "kafka", "cassandra", "mariadb", "spark", "scheduler", "ingest_commit")
SAMPLE_SECONDS = 10.0
PLOT = PROJECT_ROOT / "docs" / "soak.png"


def namespace() -> Settings:
    return named(load_settings(), "bench_soak")


@dataclass
class Sample:
    at: float  # seconds since the soak began
    lag: int | None  # messages the collector has not committed (None: Kafka did not answer)
    freshness: float | None  # seconds (None: nothing carried into `events` yet, or MySQL did not answer)


@dataclass
class Kill:
    kind: str
    at: float  # seconds since the soak began
    target: str  # the process killed
    back_after_seconds: float  # until the service answered again (restarted by the soak)
    recovered_after_seconds: float | None = None  # until freshness was under its normal p95 again


class Sampler(threading.Thread):
    """Collector lag and freshness every 10 s, each read on its own so one outage does not hide the other."""

    def __init__(self, settings: Settings, began: float) -> None:
        super().__init__(daemon=True)
        self.settings, self.began = settings, began
        self.samples: list[Sample] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        from confluent_kafka import Consumer

        from jobpulse.clients import kafka_config

        consumer = Consumer(kafka_config(self.settings, **{"group.id": self.settings.collector_group}))
        try:
            while not self.stopping.wait(SAMPLE_SECONDS):
                self.samples.append(Sample(round(time.monotonic() - self.began, 1), _lag(self.settings, consumer),
                                           _freshness(self.settings)))  # fmt: skip
        finally:
            consumer.close()


def _lag(settings: Settings, consumer: object) -> int | None:
    from confluent_kafka import TopicPartition

    partitions = [TopicPartition(settings.kafka_topic, number) for number in range(settings.kafka_partitions)]
    try:
        committed = consumer.committed(partitions, timeout=5)
        ends = [consumer.get_watermark_offsets(tp, timeout=5)[1] for tp in partitions]
    except Exception:  # Kafka down: no figure for this sample
        return None
    return sum(end - max(tp.offset, 0) for tp, end in zip(committed, ends, strict=True))


def _freshness(settings: Settings) -> float | None:
    """Seconds since the newest arrival in `events`: the arrival bound of the newest batch a successful run
    carried there."""
    try:
        carried = runs_carrying(settings)
    except Exception:  # MySQL down
        return None
    if not carried:
        return None
    through = carried[-1][0]
    bound = next((p.to for p in reversed(landed_batches(landing_table_path(settings))) if p.batch <= through), None)
    return None if bound is None else round((datetime.now(UTC) - bound).total_seconds(), 1)


# --- the faults ---------------------------------------------------------------------------------------------


def _sigkill_group(process: psutil.Process) -> str:
    target = f"{process.name()} (PID {process.pid})"
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    psutil.wait_procs([process], timeout=30)
    return target


def _restart_stack(settings: Settings) -> None:
    stack.up(settings, say=lambda message: None)


def _kill_service(settings: Settings, name: str) -> str:
    process = stack.service(settings, name).process.process()
    if process is None:
        raise RuntimeError(f"{name} is not running: nothing to kill")
    return _sigkill_group(process)


def scheduler_process(settings: Settings) -> ManagedProcess:
    """The scheduler the soak starts in place of the one it killed (`airflow standalone` does not restart it)."""
    return ManagedProcess("airflow-scheduler", settings.state_dir / "run" / "airflow-scheduler.pid",
                          settings.state_dir / "logs" / "airflow-scheduler.log")  # fmt: skip


def _kill_scheduler(settings: Settings) -> str:
    """SIGKILL the scheduler process alone, as the kernel's OOM killer would: the tasks it forked run on."""
    restarted = scheduler_process(settings).process()
    standalone = demo.managed_process(settings, "airflow").process()
    candidates = [restarted] if restarted else []
    if standalone is not None:
        candidates += [p for p in standalone.children() if "scheduler" in " ".join(p.cmdline())]
    if not candidates:
        raise RuntimeError("no Airflow scheduler is running: nothing to kill")
    process = candidates[0]
    process.kill()
    psutil.wait_procs([process], timeout=30)
    return f"airflow scheduler (PID {process.pid})"


def _start_scheduler(settings: Settings) -> None:
    airflow = str(Path(sys.executable).parent / "airflow")
    scheduler_process(settings).start([airflow, "scheduler"], env=demo.airflow_environment(settings), cwd=PROJECT_ROOT)


def _kill_during_landing_commit(settings: Settings, log: Path, patience: float) -> str:
    """Wait for an ingest to submit its landing commit to the Thrift server, then SIGKILL the server."""
    commit = re.compile(rf"Submitting query 'INSERT INTO {re.escape(landing_table(settings))}\b")
    with log.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            line = handle.readline()
            if not line:
                time.sleep(0.05)
                continue
            if commit.search(line.decode("utf-8", errors="replace")):
                return _kill_service(settings, "spark-thrift") + " during a landing commit"
    raise RuntimeError(f"no landing commit was submitted in {patience:.0f} s")


def kill(settings: Settings, kind: str) -> str:
    """SIGKILL ``kind``; what was killed."""
    if kind == "collector":
        collector = demo.managed_process(settings, "collector").process()
        if collector is None:
            raise RuntimeError("the collector is not running: nothing to kill")
        return _sigkill_group(collector)
    if kind == "scheduler":
        return _kill_scheduler(settings)
    if kind == "ingest_commit":
        thrift = stack.service(settings, "spark-thrift")
        return _kill_during_landing_commit(settings, thrift.process.log_file, patience=180)
    return _kill_service(settings, {"spark": "spark-thrift"}.get(kind, kind))


def restart(settings: Settings, kind: str) -> None:
    """Start ``kind`` again and wait until it answers."""
    if kind == "collector":
        demo.start_collector(settings, say=lambda message: None)
    elif kind == "scheduler":
        _start_scheduler(settings)
    else:
        _restart_stack(settings)


def schedule(kinds: tuple[str, ...], rounds: int, seed: int) -> list[str]:
    """``rounds`` shuffled turns of every kind, no kind twice in a row."""
    rng = random.Random(seed)
    order: list[str] = []
    for _ in range(rounds):
        turn = list(kinds)
        rng.shuffle(turn)
        if order and turn[0] == order[-1]:
            turn.append(turn.pop(0))
        order += turn
    return order


# --- the checker --------------------------------------------------------------------------------------------


def raw_log_ids(settings: Settings) -> Counter[str]:
    from jobpulse.clients import cassandra_cluster

    cluster = cassandra_cluster(settings)
    try:
        session = cluster.connect()
        session.default_fetch_size = 20_000
        rows = session.execute(f"SELECT create_time FROM {settings.cassandra_keyspace}.tracking", timeout=300)
        return Counter(str(row.create_time) for row in rows)
    finally:
        cluster.shutdown()


def dead_letters(settings: Settings) -> list[tuple[str, str]]:
    """(digest of the original message, reason) of everything in the dead-letter topic."""
    from confluent_kafka import Consumer, TopicPartition

    from ingest.collector import REASON_HEADER
    from jobpulse.clients import kafka_config

    consumer = Consumer(kafka_config(settings, **{"group.id": f"{settings.collector_group}.soak-checker",
                                                  "enable.auto.commit": False}))  # fmt: skip
    try:
        metadata = consumer.list_topics(settings.kafka_dlq_topic, timeout=30).topics[settings.kafka_dlq_topic]
        partitions = [TopicPartition(settings.kafka_dlq_topic, number, 0) for number in metadata.partitions]
        remaining = {tp.partition: consumer.get_watermark_offsets(tp, timeout=30)[1] for tp in partitions}
        consumer.assign(partitions)
        found = []
        deadline = time.monotonic() + 300
        while any(end > 0 for end in remaining.values()) and time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is None or message.error():
                continue
            headers = dict(message.headers() or [])
            found.append((digest(message.value()), headers.get(REASON_HEADER, b"").decode()))
            if message.offset() + 1 >= remaining[message.partition()]:
                remaining[message.partition()] = 0
        return found
    finally:
        consumer.close()


def check(settings: Settings, ledger: Ledger) -> dict[str, object]:
    raw = raw_log_ids(settings)
    stored = set(raw)
    letters = dead_letters(settings)
    by_digest = Counter(key for key, _ in letters)
    reasons = dict(letters)
    found = {
        "valid_events_missing_from_the_raw_log": len(ledger.valid - stored),
        "raw_log_rows_not_sent": len(stored - ledger.valid),
        "raw_log_duplicates": sum(count - 1 for count in raw.values()),
        "malformed_missing_from_the_dead_letters": len(ledger.malformed.keys() - by_digest.keys()),
        "dead_letters_with_a_wrong_reason": sum(
            1 for key, reason in ledger.malformed.items() if key in reasons and reasons[key] != reason
        ),
        "dead_letter_duplicates": sum(count - 1 for count in by_digest.values()),
        "dead_letters_not_sent_as_malformed": len(by_digest.keys() - ledger.malformed.keys()),
        "events_cells_differing_from_the_spec_oracle": oracle_mismatches(settings),
    }
    return {**found, "passed": not any(found.values())}


# --- the soak -----------------------------------------------------------------------------------------------


def recovery(samples: list[Sample], after: float, bound: float) -> float | None:
    """Seconds from ``after`` until a sample shows freshness under ``bound`` again."""
    back = next((s.at for s in samples if s.at > after and s.freshness is not None and s.freshness <= bound), None)
    return None if back is None else round(back - after, 1)


def caught_up(settings: Settings, stopped: datetime) -> bool:
    """Every arrival before ``stopped`` is landed and carried into `events` by a successful run."""
    landed = read_position(landing_table_path(settings))
    carried = runs_carrying(settings)
    return bool(landed and landed.to_ticks > ticks_of(stopped) and carried and carried[-1][0] >= landed.batch)


def soak(settings: Settings, args: argparse.Namespace, say: Callable[[str], None] = print) -> dict[str, object]:
    os.environ.update(environment(settings))  # the collector, the traffic and Airflow all read these
    ledger_dir = settings.state_dir / "soak" / settings.kafka_topic
    traffic = ManagedProcess("soak-traffic", settings.state_dir / "run" / "soak-traffic.pid",
                             settings.state_dir / "logs" / "soak-traffic.log")  # fmt: skip
    rounds = 1 if args.short else max(1, round(args.minutes * 60 / (args.gap * len(KINDS))))
    order = schedule(KINDS, rounds, args.seed)
    rng = random.Random(args.seed)
    machine_before = results.machine()
    kills: list[Kill] = []
    began = time.monotonic()
    sampler = Sampler(settings, began)
    try:
        demo.up(settings, rate=args.rate, say=say, dags=(demo.DAG_ID,), simulate=False)
        began = sampler.began = time.monotonic()
        traffic.start([sys.executable, "-m", "bench.soak_traffic", "--rate", str(args.rate), "--ledger",
                       str(ledger_dir), "--seed", str(args.seed)], env=dict(os.environ), cwd=PROJECT_ROOT)  # fmt: skip
        sampler.start()
        time.sleep(args.warmup * 60)
        warm = [s.freshness for s in sampler.samples if s.freshness is not None]
        normal_p95 = summary(warm)["p95"] if warm else args.gap
        say(f"warm-up over: freshness p95 {normal_p95} s; {len(order)} kills")
        for kind in order:
            time.sleep(rng.uniform(0.5, 1.5) * args.gap)
            target = kill(settings, kind)
            killed = time.monotonic()
            restart(settings, kind)
            back = round(time.monotonic() - killed, 1)
            kills.append(Kill(kind, round(killed - began, 1), target, back))
            say(f"{kills[-1].at:7.1f} s  killed {target}; back after {back} s")
        end = began + max(args.minutes * 60, time.monotonic() - began + args.gap)
        time.sleep(max(0.0, end - time.monotonic()))
        traffic.stop(timeout=600)  # SIGTERM: it flushes and writes its ledger
        stopped = datetime.now(UTC)
        soaked = time.monotonic() - began
        deadline = time.monotonic() + args.catch_up * 60
        while not caught_up(settings, stopped) and time.monotonic() < deadline:
            time.sleep(SAMPLE_SECONDS)
        caught = caught_up(settings, stopped)
    finally:
        sampler.stopping.set()
        if sampler.is_alive():
            sampler.join()
        traffic.stop(timeout=600)
        scheduler_process(settings).stop()
        demo.stop_processes(settings, ("airflow", "collector"), say=say)
        _restart_stack(settings)  # whatever a failure left down
    for done in kills:
        done.recovered_after_seconds = recovery(sampler.samples, done.at, normal_p95)
    ledger = Ledger.read(ledger_dir)
    verdict = check(settings, ledger) if caught else {"passed": False, "caught_up": False}
    lags = [s.lag for s in sampler.samples if s.lag is not None]
    fresh = [s.freshness for s in sampler.samples if s.freshness is not None]
    return {
        "rate_events_per_second": args.rate,
        "soaked_minutes": round(soaked / 60, 1),
        "messages_acknowledged": ledger.sent,
        "valid_events": len(ledger.valid),
        "malformed": len(ledger.malformed),
        "redeliveries": ledger.redeliveries,
        "late_events": ledger.late,
        "normal_freshness_p95_seconds": normal_p95,
        "kills": [asdict(kill) for kill in kills],
        "largest_lag_messages": max(lags, default=None),
        "largest_freshness_seconds": max(fresh, default=None),
        "checker": verdict,
        "samples": [asdict(sample) for sample in sampler.samples],
        "machine_before": machine_before,
    }


def plot(result: dict[str, object], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples = result["samples"]
    minutes = [s["at"] / 60 for s in samples]
    figure, freshness_axis = plt.subplots(figsize=(11, 4.5))
    freshness_axis.plot(minutes, [s["freshness"] for s in samples], color="tab:blue", label="freshness of `events` (s)")
    freshness_axis.set_xlabel("minutes into the soak")
    freshness_axis.set_ylabel("freshness (s)")
    lag_axis = freshness_axis.twinx()
    lag_axis.plot(
        minutes, [s["lag"] for s in samples], color="tab:orange", linestyle="--", label="collector lag (messages)"
    )
    lag_axis.set_ylabel("collector lag (messages)")
    for done in result["kills"]:
        freshness_axis.axvline(done["at"] / 60, color="tab:red", alpha=0.4)
        freshness_axis.annotate(done["kind"], (done["at"] / 60, 1.0), xycoords=("data", "axes fraction"),
                                rotation=90, va="top", ha="right", fontsize=8, color="tab:red")  # fmt: skip
    freshness_axis.set_title(f"Chaos soak at {result['rate_events_per_second']:.0f} events/s: "
                             f"checker {'passed' if result['checker']['passed'] else 'FAILED'}")  # fmt: skip
    handles = freshness_axis.get_legend_handles_labels()[0] + lag_axis.get_legend_handles_labels()[0]
    freshness_axis.legend(handles, [h.get_label() for h in handles], loc="upper left")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--minutes", type=float, default=30.0, help="traffic at least this long")
    parser.add_argument("--warmup", type=float, default=3.0, help="minutes of traffic before the first kill")
    parser.add_argument("--gap", type=float, default=210.0, help="mean seconds between kills")
    parser.add_argument("--catch-up", type=float, default=15.0, help="minutes the pipeline gets to catch up")
    parser.add_argument("--short", action="store_true", help="every kind of kill once (what `make test` runs)")
    parser.add_argument("--seed", type=int, default=61)
    parser.add_argument("--name", default="soak", help="results file: bench/results/<name>.json")
    parser.add_argument("--keep", action="store_true", help="leave the soak's namespace for inspection")
    results.add_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, object]:
    args = arguments(argv)
    settings = namespace()
    stack.up(settings, say=print)
    drop(settings)
    create(settings)
    try:
        result = soak(settings, args)
    finally:
        if not args.keep:
            drop(settings)
    results.write(args.name, result, record=args.write)
    if args.write:
        plot(result, PLOT)
    if not result["checker"]["passed"]:
        raise SystemExit(f"the soak's checker failed: {result['checker']}")
    return result


if __name__ == "__main__":
    main()
