"""Chaos soak: traffic at 1,000 events/s (bench/soak_traffic.py: 1 % malformed, redeliveries, late events) through
the real collector and the Airflow-scheduled `jobpulse_pipeline` on the local stack, while a schedule kills
with SIGKILL, in turn and at random moments, then restarts: the collector, Kafka, Cassandra, MariaDB, the Spark
application (the Thrift server every statement of the pipeline runs in), the Airflow scheduler, and the Spark
application again while an ingest's landing commit writes its files. On the cluster topology a Kafka or
Cassandra kill takes one node of three, and a Spark worker is killed as well.

Every 10 s it samples the collector's lag (the topic's end offsets minus the collector group's commits, read
from Kafka, so a dead collector still shows) and the freshness of `events` (now minus the newest arrival that
a successful run carried into `events`). At the end, once every service is back and the pipeline has caught
up, the checker holds the system to the truth: every acknowledged valid event in the raw log and nothing else
there; every landed batch once in the landing table and no delivery landed twice; every acknowledged malformed
message in the dead-letter topic exactly once with its reason; `events` equal to the spec oracle over the whole
raw log; no process that exited on its own. A failed check fails the benchmark.

`--short` runs every kind of kill once with short gaps (the version `make test` runs).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import shutil
import signal
import sqlite3
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
from bench.freshness import all_carried, oracle_mismatches, runs_carrying, summary
from bench.soak_traffic import Ledger, digest
from ingest.capture import landed_batches
from jobpulse import demo, stack
from jobpulse.config import PROJECT_ROOT, Settings, load_settings, settings_in_environment
from jobpulse.lakehouse import landing_table, landing_table_path
from jobpulse.namespace import create, drop, named
from jobpulse.stack.process import ManagedProcess

KINDS = ("collector", "kafka", "cassandra", "mariadb", "spark", "scheduler", "ingest_commit")
CLUSTER_KINDS = (*KINDS, "spark_worker")
SERVICES = {"spark": "spark-thrift", "ingest_commit": "spark-thrift", "spark_worker": "spark-worker"}
SAMPLE_SECONDS = 10.0
FRESHNESS_TARGET = 60.0  # issue 13's p95: the bound of recovery when the warm-up gives none of its own
PLOT = PROJECT_ROOT / "docs" / "soak.png"


def namespace() -> Settings:
    return named(load_settings(), "bench_soak")


@dataclass
class Sample:
    at: float  # seconds since the soak began
    lag: int | None  # messages the collector has not committed (None: Kafka did not answer)
    freshness: float | None  # seconds (None: nothing carried into `events` yet, or MySQL did not answer)
    memory_available_gib: float | None = None  # what the machine could still give (the cluster's bound)


@dataclass
class Kill:
    kind: str
    at: float  # seconds since the soak began
    target: str  # the process killed
    back_after_seconds: float  # until the service answered again (restarted by the soak)
    recovered_after_seconds: float | None = None  # until events arriving after it were fresh again


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

        # log_level 0: librdkafka would log every refused connection while Kafka is down
        consumer = Consumer(kafka_config(self.settings, **{"group.id": self.settings.collector_group, "log_level": 0}))
        try:
            while not self.stopping.wait(SAMPLE_SECONDS):
                at = round(time.monotonic() - self.began, 1)
                available = round(psutil.virtual_memory().available / 2**30, 2)
                self.samples.append(Sample(at, lag(self.settings, consumer), freshness(self.settings), available))
        finally:
            consumer.close()


def lag(settings: Settings, consumer: object) -> int | None:
    """Messages of the topic the collector group has not committed; None when Kafka does not tell (it is down,
    or a partition's commit is held by a killed collector's open transaction)."""
    from confluent_kafka import TopicPartition

    partitions = [TopicPartition(settings.kafka_topic, number) for number in range(settings.kafka_partitions)]
    try:
        committed = consumer.committed(partitions, timeout=5)
        ends = [consumer.get_watermark_offsets(tp, timeout=5)[1] for tp in partitions]
    except Exception:
        return None
    if any(tp.error is not None or tp.offset < 0 for tp in committed):
        return None
    return sum(end - tp.offset for tp, end in zip(committed, ends, strict=True))


def freshness(settings: Settings) -> float | None:
    """Seconds since the newest arrival in `events`: the arrival bound of the newest batch a successful run
    carried there; None while nothing is, or while MySQL does not answer."""
    try:
        carried = runs_carrying(settings)
        if not carried:
            return None
        through = carried[-1][0]
        batches = reversed(landed_batches(landing_table_path(settings)))
        bound = next((position.to for position in batches if position.batch <= through), None)
    except Exception:
        return None
    return None if bound is None else round((datetime.now(UTC) - bound).total_seconds(), 1)


# --- the faults ---------------------------------------------------------------------------------------------


def _sigkill_group(process: psutil.Process) -> str:
    target = f"{process.name()} (PID {process.pid})"
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    psutil.wait_procs([process], timeout=30)
    return target


def _node(settings: Settings, kind: str, rng: random.Random) -> str:
    """The service to kill for ``kind``: on the cluster topology, one of its nodes."""
    name = SERVICES.get(kind, kind)
    return rng.choice(
        [service.name for service in stack.services(settings) if service.name.rstrip("-0123456789") == name]
    )


def _kill_service(settings: Settings, name: str) -> str:
    process = stack.service(settings, name).process.process()
    if process is None:
        raise RuntimeError(f"{name} is not running: nothing to kill")
    return f"{name}: " + _sigkill_group(process)


class Schedulers:
    """The Airflow schedulers of a soak: `airflow standalone`'s own, then each one the soak starts in place of
    one it killed (standalone does not restart it). Killing one SIGKILLs the scheduler process alone, as the
    kernel's OOM killer would; the tasks it forked run on and report to the API server."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.started: list[ManagedProcess] = []
        self.orphans: list[
            psutil.Process
        ] = []  # what killed schedulers forked (their workers lead sessions of their own)

    def current(self) -> psutil.Process | None:
        if self.started:
            return self.started[-1].process()
        standalone = demo.managed_process(self.settings, "airflow").process()
        children = standalone.children() if standalone else []
        return next((child for child in children if "scheduler" in " ".join(child.cmdline())), None)

    def kill(self) -> str:
        process = self.current()
        if process is None:
            raise RuntimeError("no Airflow scheduler is running: nothing to kill")
        self.orphans += process.children(recursive=True)
        process.kill()
        psutil.wait_procs([process], timeout=30)
        return f"airflow scheduler (PID {process.pid})"

    def start(self) -> None:
        """A new scheduler, in a session of its own; returns once it heartbeats. The killed one's log server
        still holds its port, and serves the logs of the tasks that run on."""
        number = len(self.started) + 1
        name = f"airflow-scheduler-{number}"
        state = self.settings.state_dir
        process = ManagedProcess(name, state / "run" / f"{name}.pid", state / "logs" / f"{name}.log")
        airflow = str(Path(sys.executable).parent / "airflow")
        started = datetime.now(UTC)
        process.start([airflow, "scheduler", "--skip-serve-logs"], env=demo.airflow_environment(self.settings),
                      cwd=PROJECT_ROOT)  # fmt: skip
        self.started.append(process)
        deadline = time.monotonic() + 180
        while not self._heartbeat_since(started) and time.monotonic() < deadline:
            time.sleep(1)

    def _heartbeat_since(self, moment: datetime) -> bool:
        database = demo.airflow_home(self.settings) / "airflow.db"
        with contextlib.closing(sqlite3.connect(database, timeout=10)) as connection:
            (latest,) = connection.execute(
                "SELECT MAX(latest_heartbeat) FROM job WHERE job_type = 'SchedulerJob' AND state = 'running'"
            ).fetchone()
        return latest is not None and datetime.fromisoformat(latest).replace(tzinfo=UTC) > moment

    def stop_all(self) -> None:
        """Every scheduler the soak started, with whatever each forked (their own sessions)."""
        for process in self.started:
            running = process.process()
            if running is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(running.pid, signal.SIGKILL)
            process.pid_file.unlink(missing_ok=True)
        for orphan in self.orphans:
            with contextlib.suppress(psutil.NoSuchProcess):
                orphan.kill()


def _landing_files(settings: Settings) -> set[Path]:
    table = landing_table_path(settings)
    return {*table.rglob("*.parquet"), *(table / "_delta_log").glob("*.json")}


def _kill_during_landing_commit(settings: Settings, patience: float) -> str | None:
    """Once an ingest has submitted its landing commit to the Thrift server and the commit's first files
    appear (data files, or the commit itself if that is quicker), SIGKILL the server; None if no commit comes
    within ``patience``."""
    thrift = stack.service(settings, "spark-thrift")
    commit = re.compile(rf"Submitting query 'INSERT INTO {re.escape(landing_table(settings))}\b")
    deadline = time.monotonic() + patience
    with thrift.process.log_file.open("rb") as log:
        log.seek(0, os.SEEK_END)
        while time.monotonic() < deadline:
            line = log.readline()
            if not line:
                time.sleep(0.05)
                continue
            if commit.search(line.decode("utf-8", errors="replace")):
                before = _landing_files(settings)
                while time.monotonic() < deadline and _landing_files(settings) <= before:
                    time.sleep(0.2)
                return _kill_service(settings, "spark-thrift") + " during a landing commit"
    return None


def kill(settings: Settings, kind: str, rng: random.Random, schedulers: Schedulers) -> str | None:
    """SIGKILL ``kind``; what was killed (None if the moment it waits for did not come)."""
    if kind == "collector":
        collector = demo.managed_process(settings, "collector").process()
        if collector is None:
            raise RuntimeError("the collector is not running: nothing to kill")
        return "collector: " + _sigkill_group(collector)
    if kind == "scheduler":
        return schedulers.kill()
    if kind == "ingest_commit":
        return _kill_during_landing_commit(settings, patience=600)
    return _kill_service(settings, _node(settings, kind, rng))


def restart(settings: Settings, kind: str, schedulers: Schedulers) -> None:
    """Start ``kind`` again and wait until it answers."""
    if kind == "collector":
        demo.start_collector(settings, say=lambda message: None)
    elif kind == "scheduler":
        schedulers.start()
    else:
        stack.up(settings, say=lambda message: None)


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


def raw_log_ids(settings: Settings) -> set[str]:
    from jobpulse.clients import cassandra_cluster

    cluster = cassandra_cluster(settings)
    try:
        session = cluster.connect()
        session.default_fetch_size = 20_000
        rows = session.execute(f"SELECT create_time FROM {settings.cassandra_keyspace}.tracking", timeout=300)
        return {str(row.create_time) for row in rows}
    finally:
        cluster.shutdown()


def landing_duplicates(settings: Settings) -> tuple[int, int]:
    """(batch numbers committed more than once, deliveries landed more than once) in the landing table."""
    from jobpulse.clients import thrift_cursor

    batches = Counter(position.batch for position in landed_batches(landing_table_path(settings)))
    with thrift_cursor(settings) as cursor:
        cursor.execute(
            f"SELECT count(*) - count(DISTINCT create_time, arrived_at) FROM {landing_table(settings)}"
        )  # fmt: skip
        (deliveries,) = cursor.fetchone()
    return sum(count - 1 for count in batches.values()), int(deliveries)


def dead_letters(settings: Settings) -> list[tuple[str, str]]:
    """(digest of the original message, reason) of every committed message in the dead-letter topic."""
    from confluent_kafka import Consumer, KafkaError, TopicPartition

    from ingest.collector import REASON_HEADER
    from jobpulse.clients import kafka_config

    consumer = Consumer(kafka_config(settings, **{"group.id": f"{settings.collector_group}.soak-checker",
                                                  "enable.auto.commit": False, "enable.partition.eof": True,
                                                  "isolation.level": "read_committed"}))  # fmt: skip
    try:
        topic = consumer.list_topics(settings.kafka_dlq_topic, timeout=30).topics[settings.kafka_dlq_topic]
        consumer.assign([TopicPartition(settings.kafka_dlq_topic, number, 0) for number in topic.partitions])
        reading, found = set(topic.partitions), []
        deadline = time.monotonic() + 300
        while reading and time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is None:
                continue
            if message.error():
                if message.error().code() == KafkaError._PARTITION_EOF:  # the last stable offset, under read_committed
                    reading.discard(message.partition())
                continue
            headers = dict(message.headers() or [])
            found.append((digest(message.value()), headers.get(REASON_HEADER, b"").decode()))
        if reading:
            raise RuntimeError(f"the dead-letter topic's partitions {sorted(reading)} were not read to their end")
        return found
    finally:
        consumer.close()


def check(settings: Settings, ledger: Ledger) -> dict[str, int]:
    """Everything that differs from the truth, counted (all zero is a pass)."""
    stored = raw_log_ids(settings)
    letters = dead_letters(settings)
    by_digest = Counter(key for key, _ in letters)
    reasons = dict(letters)
    batches_twice, deliveries_twice = landing_duplicates(settings)
    return {
        "valid_events_missing_from_the_raw_log": len(ledger.valid - stored),
        "raw_log_rows_not_sent": len(stored - ledger.valid),
        "landing_batches_committed_twice": batches_twice,
        "deliveries_landed_twice": deliveries_twice,
        "malformed_missing_from_the_dead_letters": len(ledger.malformed.keys() - by_digest.keys()),
        "dead_letters_with_a_wrong_reason": sum(
            1 for key, reason in ledger.malformed.items() if key in reasons and reasons[key] != reason
        ),
        "dead_letter_duplicates": sum(count - 1 for count in by_digest.values()),
        "dead_letters_not_sent_as_malformed": len(by_digest.keys() - ledger.malformed.keys()),
        "events_cells_differing_from_the_spec_oracle": oracle_mismatches(settings),
    }


# --- the soak -----------------------------------------------------------------------------------------------


def recovery(samples: list[Sample], after: float, bound: float) -> float | None:
    """Seconds from ``after`` until a sample shows `events` holding arrivals from after it, under ``bound`` old."""
    back = next((s.at for s in samples if s.at > after and s.freshness is not None and s.freshness <= bound
                 and s.at - s.freshness > after), None)  # fmt: skip
    return None if back is None else round(back - after, 1)


def normal_p95(samples: list[Sample], warmup_seconds: float) -> float:
    """Freshness p95 of the warm-up once the first run has carried data (not Airflow's cold start)."""
    first = next((s.at for s in samples if s.freshness is not None), None)
    warm = [s.freshness for s in samples if first is not None and first + 60 <= s.at <= warmup_seconds and s.freshness]
    return summary(warm)["p95"] if len(warm) >= 3 else FRESHNESS_TARGET


def caught_up(settings: Settings, stopped: datetime) -> bool:
    """Every arrival before ``stopped`` is landed and carried into `events` by a successful run (False while a
    service it asks is still down)."""
    try:
        return all_carried(settings, stopped)
    except Exception:
        return False


def wait_until(condition: Callable[[], bool], minutes: float) -> bool:
    deadline = time.monotonic() + minutes * 60
    while not condition() and time.monotonic() < deadline:
        time.sleep(SAMPLE_SECONDS)
    return condition()


def refuse_a_running_demo(settings: Settings) -> None:
    """The soak starts and kills the demo's processes: never those of a `make demo` on other data."""
    running = [name for name in ("airflow", "collector", "simulator") if demo.managed_process(settings, name).pid]
    if running:
        raise SystemExit(f"{', '.join(running)} of `make demo` running: `make demo-down` first")


def soak(settings: Settings, args: argparse.Namespace, say: Callable[[str], None] = print) -> dict[str, object]:
    ledger_dir = settings.state_dir / "soak" / settings.kafka_topic
    traffic = ManagedProcess("soak-traffic", settings.state_dir / "run" / "soak-traffic.pid",
                             settings.state_dir / "logs" / "soak-traffic.log")  # fmt: skip
    kinds = CLUSTER_KINDS if settings.topology == "cluster" else KINDS
    rounds = 1 if args.short else max(1, round(args.minutes * 60 / (args.gap * len(kinds))))
    order = schedule(kinds, rounds, args.seed)
    rng = random.Random(args.seed)
    machine_before = results.machine()
    kills: list[Kill] = []
    exited: list[str] = []  # processes that died without being killed
    schedulers = Schedulers(settings)
    sampler = Sampler(settings, time.monotonic())
    caught, soaked = False, 0.0
    try:
        demo.up(settings, rate=args.rate, say=say, dags=(demo.DAG_ID,), simulate=False, docs=False)
        began = sampler.began = time.monotonic()
        traffic.start([sys.executable, "-m", "bench.soak_traffic", "--rate", str(args.rate), "--ledger",
                       str(ledger_dir), "--seed", str(args.seed)], env=dict(os.environ), cwd=PROJECT_ROOT)  # fmt: skip
        sampler.start()
        time.sleep(args.warmup * 60)
        say(f"warm-up over; {len(order)} kills follow")
        for kind in order:
            time.sleep(rng.uniform(0.5, 1.5) * args.gap)
            for name in ("collector", "airflow"):
                if demo.managed_process(settings, name).pid is None:
                    exited.append(f"{name} before the kill at {time.monotonic() - began:.0f} s")
                    if name == "collector":
                        demo.start_collector(settings, say=say)
            if traffic.pid is None:
                raise RuntimeError(f"the traffic stopped on its own; see {traffic.log_file}")
            target = kill(settings, kind, rng, schedulers)
            killed = time.monotonic()
            if target is None:
                say(f"{killed - began:7.1f} s  no landing commit came: {kind} skipped")
                continue
            restart(settings, kind, schedulers)
            kills.append(Kill(kind, round(killed - began, 1), target, round(time.monotonic() - killed, 1)))
            say(f"{kills[-1].at:7.1f} s  killed {target}; back after {kills[-1].back_after_seconds} s")
        time.sleep(max(args.gap, began + args.minutes * 60 - time.monotonic()))
        traffic.stop(timeout=600)  # SIGTERM: it flushes and writes its ledger
        soaked = time.monotonic() - began
        # everything sent is collected, then everything collected is carried into `events`
        wait_until(lambda: bool(sampler.samples) and sampler.samples[-1].lag == 0, args.catch_up)
        stopped = datetime.now(UTC)
        caught = wait_until(lambda: caught_up(settings, stopped), args.catch_up)
    finally:
        sampler.stopping.set()
        if sampler.is_alive():
            sampler.join()
        traffic.stop(timeout=600)
        schedulers.stop_all()
        demo.stop_processes(settings, ("airflow", "collector"), say=say)
        stack.up(settings, say=lambda message: None)  # whatever a failure left down
    bound = normal_p95(sampler.samples, args.warmup * 60)
    for done in kills:
        done.recovered_after_seconds = recovery(sampler.samples, done.at, bound)
    ledger = Ledger.read(ledger_dir)
    if not args.keep:
        shutil.rmtree(ledger_dir)  # the ids of every event sent: tens of MB in a long soak
    found = check(settings, ledger)
    lags = [s.lag for s in sampler.samples if s.lag is not None]
    fresh = [s.freshness for s in sampler.samples if s.freshness is not None]
    available = [s.memory_available_gib for s in sampler.samples]
    return {
        "rate_events_per_second": args.rate,
        "topology": settings.topology,
        "soaked_minutes": round(soaked / 60, 1),
        "messages_acknowledged": ledger.sent,
        "valid_events": len(ledger.valid),
        "malformed": len(ledger.malformed),
        "redeliveries": ledger.redeliveries,
        "late_events": ledger.late,
        "deliveries_failed_and_sent_again": ledger.failed_deliveries,  # by the traffic, e.g. while Kafka was down
        "normal_freshness_p95_seconds": bound,
        "kills": [asdict(done) for done in kills],
        "largest_lag_messages": max(lags, default=None),
        "largest_freshness_seconds": max(fresh, default=None),
        "memory_total_gib": round(psutil.virtual_memory().total / 2**30, 2),
        "least_memory_available_gib": min(available, default=None),
        "checker": {
            **found,
            "caught_up": caught,
            "exited_on_their_own": exited,
            "passed": caught and not exited and ledger.finished and not any(found.values()),
        },
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
    lag_axis.plot(minutes, [s["lag"] for s in samples], color="tab:orange", linestyle="--",
                  label="collector lag (messages)")  # fmt: skip
    lag_axis.set_ylabel("collector lag (messages)")
    for done in result["kills"]:
        freshness_axis.axvline(done["at"] / 60, color="tab:red", alpha=0.4)
        freshness_axis.annotate(done["kind"], (done["at"] / 60, 1.0), xycoords=("data", "axes fraction"),
                                rotation=90, va="top", ha="right", fontsize=8, color="tab:red")  # fmt: skip
    verdict = "passed" if result["checker"]["passed"] else "FAILED"
    freshness_axis.set_title(f"Chaos soak at {result['rate_events_per_second']:.0f} events/s "
                             f"({result['topology']}): checker {verdict}")  # fmt: skip
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
    parser.add_argument("--plot", type=Path, default=PLOT, help="where --write draws lag and freshness")
    parser.add_argument("--keep", action="store_true", help="leave the soak's namespace for inspection")
    results.add_arguments(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, object]:
    args = arguments(argv)
    # `kill` stops it the way Ctrl-C does, stopping what it started (a background job ignores SIGINT)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    settings = namespace()
    refuse_a_running_demo(settings)
    stack.up(settings, say=print)
    drop(settings)
    create(settings)
    try:
        with settings_in_environment(settings):
            result = soak(settings, args)
    finally:
        if not args.keep:
            drop(settings)
    results.write(args.name, result, record=args.write)
    if args.write:
        plot(result, args.plot)
    if not result["checker"]["passed"]:
        raise SystemExit(f"the soak's checker failed: {result['checker']}")
    return result


if __name__ == "__main__":
    main()
