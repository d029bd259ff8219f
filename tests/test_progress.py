"""The progress helper's pure parts: its lines, and a bar on a terminal but rate-limited plain lines elsewhere."""

import io
import time

import pytest

from jobpulse.progress import Progress, elapsed_text, progress_line


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("seconds", "text"), [(0.4, "0 s"), (35.9, "35 s"), (245, "4 min 05 s"), (3725, "1 h 02 min")])
def test_elapsed_reads_in_whole_units(seconds, text):
    assert elapsed_text(seconds) == text


def test_a_counted_line_says_what_how_far_how_fast_and_how_long():
    assert (
        progress_line("fetching spark jars", 4.2, 12, 40, "files")
        == "fetching spark jars: 12/40 files (3 files/s), 4 s"
    )
    assert (
        progress_line("publishing events", 60, 12_000, None, "ev")
        == "publishing events: 12,000 ev (200 ev/s), 1 min 00 s"
    )
    assert progress_line("landing batches", 0.5, 1, 3) == "landing batches: 1/3, 0 s"


def test_a_wait_says_what_it_waits_for_and_how_long():
    assert progress_line("waiting for Airflow's API", 35) == "waiting for Airflow's API: 35 s"


def test_not_on_a_terminal_it_writes_plain_lines_at_most_once_an_interval():
    clock, stream = Clock(), io.StringIO()
    with Progress("sending", total=100, unit="ev", stream=stream, interval=10, clock=clock) as progress:
        for _ in range(5):  # quick work, before the first interval: silent
            progress.update()
        assert stream.getvalue() == ""
        clock.now += 10
        progress.update(5)
        clock.now += 3
        progress.update(10)  # within the interval of the last line: nothing
        clock.now += 7
        progress.update(10)
        clock.now += 2
        progress.update(70)
    assert stream.getvalue().splitlines() == [
        "sending: 10/100 ev (1 ev/s), 10 s",
        "sending: 30/100 ev (2 ev/s), 20 s",
        "sending: 100/100 ev (5 ev/s), 22 s",  # the final count, on close
    ]
    assert "\r" not in stream.getvalue()


def test_the_final_count_is_not_repeated_on_close():
    clock, stream = Clock(), io.StringIO()
    with Progress("sending", total=10, stream=stream, interval=10, clock=clock) as progress:
        clock.now += 10
        progress.update(10)
    assert stream.getvalue().splitlines() == ["sending: 10/10, 10 s"]


def test_work_done_within_the_first_interval_shows_nothing_at_all():
    stream = io.StringIO()
    with Progress("waiting for kafka", counted=False, stream=stream, clock=Clock()) as progress:
        progress.tick()
    assert stream.getvalue() == ""


def test_a_wait_names_what_it_waits_for_as_that_changes():
    clock, stream = Clock(), io.StringIO()
    with Progress("waiting for Airflow", counted=False, stream=stream, interval=10, clock=clock) as progress:
        clock.now += 12
        progress.tick()
        progress.describe("unpausing jobpulse_checks")
        clock.now += 10
        progress.tick()
    assert stream.getvalue().splitlines()[:2] == ["waiting for Airflow: 12 s", "unpausing jobpulse_checks: 22 s"]


def test_on_a_terminal_it_draws_a_bar_in_place():
    terminal = Terminal()
    with Progress("sending", total=4, unit="ev", stream=terminal) as progress:
        progress.update(4)
    assert "\r" in terminal.getvalue() and "4/4" in terminal.getvalue()


def test_disabled_it_shows_nothing_anywhere():
    for stream in (io.StringIO(), Terminal()):
        clock = Clock()
        with Progress("sending", total=4, stream=stream, enabled=False, interval=1, clock=clock) as progress:
            clock.now += 5
            progress.update(4)
        assert stream.getvalue() == ""


def test_a_heartbeat_shows_work_that_blocks_in_one_call():
    stream = io.StringIO()
    with Progress("landing batch 1, a backfill", counted=False, stream=stream, interval=0.5, heartbeat=True):
        time.sleep(1.6)  # one long call, no update from the caller
    lines = stream.getvalue().splitlines()
    assert lines and all(line.startswith("landing batch 1, a backfill: ") for line in lines)
