"""Progress where a person waits: what is being done, how far along, how long it has taken.

On a terminal it is a tqdm bar redrawn in place; anywhere else (a log file, a pipe, Airflow's task log) a
redrawn bar is a run of carriage returns, so it is plain lines instead, one at most every ``interval``
seconds and none for work done before the first interval (a quick step stays silent).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, TextIO

PLAIN_INTERVAL = 10.0  # seconds between plain lines: often enough to see it moving, rare enough to read a log


def elapsed_text(seconds: float) -> str:
    """``35 s``, ``4 min 05 s``, ``1 h 02 min``: whole units a person reads at a glance."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def progress_line(what: str, elapsed: float, done: int | None = None, total: int | None = None, unit: str = "") -> str:
    """One plain progress line: ``fetching spark jars: 12/40 files (3 files/s), 4 s``; without ``done``, a
    wait: ``waiting for Airflow's API: 35 s``."""
    if done is None:
        return f"{what}: {elapsed_text(elapsed)}"
    count = f"{done:,}/{total:,}" if total is not None else f"{done:,}"
    rate = f" ({done / elapsed:,.0f} {unit}/s)" if unit and elapsed >= 1 else ""
    return f"{what}: {count}{f' {unit}' if unit else ''}{rate}, {elapsed_text(elapsed)}"


class Progress:
    """Progress of one piece of work: counted (``update``) or a wait (``tick``). A context manager; ``close``
    shows the final state if it was shown before and has changed since. ``heartbeat`` ticks it every second from
    a thread of its own, for work that blocks in one long call (a backfill's single Spark statement).

    ``enabled=False`` shows nothing (a service's own log, a ``--quiet``); ``stream`` defaults to stderr, so a
    command's output on stdout stays clean."""

    def __init__(
        self,
        what: str,
        *,
        total: int | None = None,
        unit: str = "",
        counted: bool = True,
        stream: TextIO | None = None,
        enabled: bool = True,
        interval: float = PLAIN_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        heartbeat: bool = False,
    ) -> None:
        self.what, self.total, self.unit, self.counted = what, total, unit, counted
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled, self.interval, self.clock = enabled, interval, clock
        self.began = clock()
        self.last_shown: float | None = None  # when the last plain line was written
        self.shown_done = 0  # the count it showed
        self.bar: Any = None
        if enabled and self.stream.isatty():
            from tqdm import tqdm

            shape = {} if counted else {"bar_format": "{desc}: {elapsed}"}
            self.bar = tqdm(desc=what, total=total, unit=unit or "it", file=self.stream, smoothing=0.1, **shape)
        self.lock = threading.Lock()  # the heartbeat's thread and the caller's both write
        self.stopped = threading.Event()
        self.heart = threading.Thread(target=self._beat, daemon=True) if heartbeat and enabled else None
        if self.heart is not None:
            self.heart.start()

    def _beat(self) -> None:
        while not self.stopped.wait(1.0):
            self.tick()

    def elapsed(self) -> float:
        return self.clock() - self.began

    def line(self) -> str:
        return progress_line(self.what, self.elapsed(), self.done if self.counted else None, self.total, self.unit)

    def describe(self, what: str) -> None:
        """Name what is being done now (the artifact being fetched, the batch being landed); shown with the next
        ``update`` or ``tick``."""
        self.what = what
        if self.bar is not None:
            self.bar.set_description_str(what, refresh=False)

    def update(self, count: int = 1) -> None:
        self.done += count
        if self.bar is not None:
            with self.lock:
                self.bar.update(count)
        else:
            self.tick()

    def tick(self) -> None:
        """Show the progress if it is time to (call it in a wait's loop)."""
        if not self.enabled:
            return
        with self.lock:
            if self.bar is not None:
                self.bar.refresh()
            elif self.clock() - (self.last_shown if self.last_shown is not None else self.began) >= self.interval:
                self._write()

    def _write(self) -> None:
        self.stream.write(self.line() + "\n")
        self.stream.flush()
        self.last_shown, self.shown_done = self.clock(), self.done

    def close(self) -> None:
        self.stopped.set()
        if self.heart is not None:
            self.heart.join()
        if self.bar is not None:
            self.bar.close()
        elif self.enabled and self.last_shown is not None and (self.done != self.shown_done or not self.counted):
            self._write()  # the final count, or how long the wait took

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
