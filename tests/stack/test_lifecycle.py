"""`stack up` is idempotent, `stack down` leaves no process behind, and the stack comes back healthy."""

from __future__ import annotations

import socket

import psutil
import pytest

from jobpulse import stack
from jobpulse.config import Settings

pytestmark = [pytest.mark.stack_lifecycle, pytest.mark.usefixtures("running_stack")]


def stack_processes(settings: Settings) -> list[psutil.Process]:
    """Every process whose command line names the stack's state folder: what `down` must leave none of."""
    marker = str(settings.state_dir)
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info["cmdline"] or []
        own_spark_driver = cmdline[-1:] == ["pyspark-shell"]  # this test run's own local Spark session
        if not own_spark_driver and any(marker in part for part in cmdline):
            found.append(proc)
    return found


def port_open(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def test_up_on_a_running_stack_changes_nothing(settings: Settings):
    before = {row.name: row.pid for row in stack.status(settings)}
    messages: list[str] = []
    stack.up(settings, say=messages.append)
    after = {row.name: row.pid for row in stack.status(settings)}
    assert before == after
    assert not [message for message in messages if "started" in message]


def test_down_stops_every_process_and_up_restores_a_healthy_stack(settings: Settings):
    rows = stack.status(settings)
    assert all(row.healthy for row in rows), rows
    assert {row.name for row in rows} == {"mariadb", "cassandra", "kafka", "spark-thrift"}
    pids = [row.pid for row in rows]
    assert len(stack_processes(settings)) >= len(pids)

    stack.down(settings, say=lambda message: None)

    assert not [pid for pid in pids if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]
    assert stack_processes(settings) == []
    assert not [row.port for row in rows if port_open(row.host, row.port)]
    assert not [row for row in stack.status(settings) if row.healthy or row.pid]

    stack.up(settings, say=lambda message: None)
    assert all(row.healthy for row in stack.status(settings))
