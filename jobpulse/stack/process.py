"""Start and stop long-lived local processes by PID file, and wait for them to answer.

A PID file alone cannot tell our process from an unrelated one that reused its PID after a reboot, so each
PID file also records the process' start time; a mismatch means the process is gone.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil


class ServiceError(RuntimeError):
    """A service did not start, answer or stop; the message says which and shows its log tail."""


def log_tail(path: Path, lines: int = 40) -> str:
    if not path.is_file():
        return f"(no log at {path})"
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        handle.seek(max(0, handle.tell() - 64 * 1024))
        text = handle.read().decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


@dataclass(frozen=True)
class ManagedProcess:
    """A background process owned by the stack: its PID file and its log file."""

    name: str
    pid_file: Path
    log_file: Path

    def start(self, command: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None) -> int:
        """Start ``command`` in its own session (so ``stop`` can end its whole process group)."""
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        if cwd is not None:
            cwd.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting {self.name}\n".encode())
            log.flush()
            child = subprocess.Popen(
                list(command),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                start_new_session=True,
            )
        started = psutil.Process(child.pid).create_time()
        self.pid_file.write_text(json.dumps({"pid": child.pid, "started": started}))
        return child.pid

    def process(self) -> psutil.Process | None:
        """The live process this PID file names, or None (and a stale PID file is removed)."""
        try:
            record = json.loads(self.pid_file.read_text())
            proc = psutil.Process(record["pid"])
            if abs(proc.create_time() - record["started"]) > 1 or proc.status() == psutil.STATUS_ZOMBIE:
                raise psutil.NoSuchProcess(record["pid"])
            return proc
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, psutil.NoSuchProcess):
            self.pid_file.unlink(missing_ok=True)
            return None

    @property
    def pid(self) -> int | None:
        proc = self.process()
        return proc.pid if proc else None

    def memory_mib(self) -> int | None:
        """Resident memory of the process and its children, in MiB (None if it is not running)."""
        proc = self.process()
        if proc is None:
            return None
        total = 0
        for member in [proc, *proc.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                total += member.memory_info().rss
        return total // 2**20

    def stop(self, timeout: float = 60.0) -> bool:
        """SIGTERM the process group, SIGKILL what is left after ``timeout``. True if something was running."""
        proc = self.process()
        if proc is None:
            return False
        members = [proc, *proc.children(recursive=True)]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        _, alive = psutil.wait_procs(members, timeout=timeout)
        for straggler in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                straggler.kill()
        psutil.wait_procs(alive, timeout=10)
        self.pid_file.unlink(missing_ok=True)
        return True


def wait_until(
    check: Callable[[], object],
    *,
    process: ManagedProcess,
    timeout: float,
    interval: float = 1.0,
    waiting: str | None = None,
) -> object:
    """Call ``check`` until it returns without raising; fail with the log tail on timeout or process death.
    ``waiting`` names the wait for the person watching (``jobpulse.progress``): shown once it takes a while."""
    from jobpulse.progress import Progress

    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    with Progress(waiting or "", counted=False, enabled=waiting is not None) as progress:
        while time.monotonic() < deadline:
            if process.process() is None:
                raise ServiceError(
                    f"{process.name} exited during start-up; last lines of {process.log_file}:\n"
                    f"{log_tail(process.log_file)}"
                )
            try:
                return check()
            except Exception as error:  # any failure to answer means "not ready yet"
                last_error = error
            progress.tick()
            time.sleep(interval)
    raise ServiceError(
        f"{process.name} did not answer within {timeout:.0f}s (last error: {last_error}); "
        f"last lines of {process.log_file}:\n{log_tail(process.log_file)}"
    )
