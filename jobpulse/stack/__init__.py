"""The local service stack (Cassandra, Kafka, MariaDB, Spark Thrift server) as processes on the loopback.

The settings name what runs: a Cassandra node on each address of JOBPULSE_CASSANDRA_HOSTS, a Kafka broker on
each of JOBPULSE_KAFKA_BOOTSTRAP_SERVERS, and a Spark standalone master and workers when JOBPULSE_SPARK_MASTER
is a spark:// URL. The single topology has one of each; the cluster topology's defaults name three nodes,
three brokers and a master with two workers.

``up`` starts what is not running and waits until every service answers a real request; ``down`` stops
exactly the processes named by the stack's PID files; ``status`` probes each one.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from jobpulse.config import Settings
from jobpulse.stack.cassandra import Cassandra
from jobpulse.stack.kafka import Kafka
from jobpulse.stack.mariadb import MariaDB
from jobpulse.stack.process import ServiceError, wait_until
from jobpulse.stack.service import Service
from jobpulse.stack.spark_standalone import SparkMaster, SparkWorker
from jobpulse.stack.spark_thrift import SparkThrift

__all__ = ["ServiceError", "ServiceStatus", "check", "down", "serve", "services", "status", "up"]


def services(settings: Settings) -> list[Service]:
    """Every service, in start order: MariaDB first and the Thrift server last (it keeps its catalog in
    MariaDB, and runs its executors on the standalone workers when there are some)."""
    return [
        MariaDB(settings),
        *(Cassandra(settings, index) for index in range(len(settings.cassandra_hosts))),
        *(Kafka(settings, index) for index in range(len(settings.kafka_brokers))),
        *([SparkMaster(settings)] if settings.spark_standalone else []),
        *(SparkWorker(settings, index) for index in range(settings.spark_workers if settings.spark_standalone else 0)),
        SparkThrift(settings),
    ]


def service(settings: Settings, name: str) -> Service:
    """The service called ``name``; a clustered service's own name (``cassandra``) is its first node, which is
    what a single node is called, so one command (a compose file's `stack accounts cassandra`) fits both."""
    by_name = {candidate.name: candidate for candidate in services(settings)}
    if name not in by_name and f"{name}-1" in by_name:
        name = f"{name}-1"
    if name not in by_name:
        raise ServiceError(f"no service {name!r}; the stack has {', '.join(by_name)}")
    return by_name[name]


def serve(settings: Settings, name: str) -> None:
    """Run one service in the foreground in place of this process (a container's main process)."""
    target = service(settings, name)
    target.prepare()
    target.home.mkdir(parents=True, exist_ok=True)
    os.chdir(target.home)
    command = target.command()
    os.execvpe(command[0], command, target.environment())


def check(settings: Settings, name: str) -> str:
    """One real request to one service (a container health check); raises if it does not answer."""
    return service(settings, name).check()


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    host: str
    port: int
    pid: int | None
    healthy: bool
    detail: str
    memory_mib: int | None = None  # resident memory of the process and its children (a worker's executors)


def _probe(service: Service) -> ServiceStatus:
    pid = service.process.pid
    if pid is None and not service.port_in_use():
        return ServiceStatus(service.name, service.host, service.port, None, False, "stopped")
    try:
        detail, healthy = service.check(), pid is not None
        if pid is None:
            detail = f"port {service.port} answers but no PID file: not started by this stack"
    except Exception as error:  # any failure to answer is "unhealthy"; say why
        detail, healthy = (f"not answering: {error}" if pid else "stopped"), False
    return ServiceStatus(service.name, service.host, service.port, pid, healthy, detail, service.process.memory_mib())


def status(settings: Settings) -> list[ServiceStatus]:
    return [_probe(service) for service in services(settings)]


def _start(service: Service, say: Callable[[str], None]) -> bool:
    """Start ``service`` unless it runs already. Returns True if it was started now."""
    if service.process.pid is not None:
        return False
    if service.port_in_use():
        raise ServiceError(
            f"{service.name}: port {service.host}:{service.port} is taken by a process this stack did not "
            f"start; stop it or set another port (see `jobpulse config`)"
        )
    service.prepare()
    pid = service.process.start(service.command(), env=service.environment(), cwd=service.home)
    say(f"{service.name}: started (PID {pid}), log {service.process.log_file}")
    return True


def _finish(service: Service, started: bool, say: Callable[[str], None], began: float) -> None:
    """Once ``service`` answers: ``after_start`` on a fresh start, then its health."""
    try:
        if started:
            raise ServiceError("just started: apply after_start")
        detail = service.check()
    except Exception:  # a fresh start, or an earlier `up` that stopped before after_start finished
        service.after_start()
        detail = wait_until(
            service.check,
            process=service.process,
            timeout=service.start_timeout,
            waiting=f"{service.name}: waiting until it is healthy",
        )
    say(f"{service.name}: healthy on {service.host}:{service.port} ({detail}, {time.monotonic() - began:.0f}s)")


def _await(services: list[Service], started: dict[str, bool], say: Callable[[str], None]) -> None:
    """Wait until every one of ``services`` answers, then finish each in order: the first node of a cluster
    makes its accounts only once all its peers are up."""
    began = time.monotonic()
    for service in services:
        wait_until(
            service.ping,
            process=service.process,
            timeout=service.start_timeout,
            waiting=f"{service.name}: waiting for it to answer on {service.host}:{service.port}",
        )
    for service in services:
        _finish(service, started[service.name], say, began)


def up(settings: Settings, say: Callable[[str], None] = print) -> None:
    """Start every service that is not running and wait until all answer; a no-op on a running stack."""
    database, *others, thrift = services(settings)
    started = {database.name: _start(database, say)}
    # The others start while MariaDB comes up; the Thrift server needs MariaDB for its catalog, and the
    # standalone master (when there is one) to run anything.
    for service in others:
        started[service.name] = _start(service, say)
    _await([database], started, say)
    _await([service for service in others if isinstance(service, SparkMaster)], started, say)
    started[thrift.name] = _start(thrift, say)
    _await([service for service in others if not isinstance(service, SparkMaster)] + [thrift], started, say)
    from jobpulse.migrations import migrate

    migrate(settings, say)  # first start: create the schemas; later: apply what is new (usually nothing)


def down(settings: Settings, say: Callable[[str], None] = print) -> None:
    """Stop the stack's processes, last started first; the nodes of one cluster all at once (Kafka's last
    broker would otherwise wait for a controller quorum that is gone before it gives up)."""

    def stop(service: Service) -> None:
        pid = service.process.pid
        say(f"{service.name}: stopped (PID {pid})" if service.process.stop() else f"{service.name}: not running")

    for _, nodes in itertools.groupby(reversed(services(settings)), key=type):
        with ThreadPoolExecutor() as pool:
            list(pool.map(stop, nodes))
