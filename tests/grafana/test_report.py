"""`jobpulse report` draws what the dashboards show: its frames come from the dashboards' SQL and add up to the
mart (recomputed from the raw events), and the command writes one PNG per dashboard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from jobpulse import cli, dashboards, report
from jobpulse.config import Settings
from tests.grafana.conftest import FIRST_RUN, FULL_RANGE, ORACLE, SECOND_RUN, hour_of, oracle_hours, oracle_totals

PNG = b"\x89PNG\r\n\x1a\n"


def test_the_plotted_frames_add_up_to_the_mart(grafana: Any):
    frames = report.panel_frames(grafana, "job_performance", FULL_RANGE)
    assert list(frames) == list(report.MAIN_PANELS["job_performance"])
    hourly = frames["Clicks, conversions and applications per hour"].frame
    expected = oracle_hours(FULL_RANGE.start, FULL_RANGE.end)
    assert list(hourly["time"]) == list(expected), "one point per hour with events, as UTC timestamps"
    for column in ("clicks", "conversions", "qualified_applications", "disqualified_applications"):
        assert list(hourly[column]) == [values[column] for values in expected.values()], column
    totals = oracle_totals(FULL_RANGE.start, FULL_RANGE.end)
    assert frames["Totals"].frame.iloc[0].to_dict() == pytest.approx(totals)
    spend = frames["Spend and average bid per hour"].frame
    assert spend["spend"].sum() == pytest.approx(totals["spend"])
    top = frames["Top publishers"].frame
    assert top["clicks"].is_monotonic_decreasing and top["clicks"].sum() <= totals["clicks"]

    runs = report.panel_frames(grafana, "pipeline_health", report.default_ranges(grafana)["pipeline_health"])
    assert list(runs["Events per run"].frame["events_collected"]) == [len(FIRST_RUN), len(SECOND_RUN)]


def test_the_default_range_is_the_week_up_to_the_newest_data(grafana: Any):
    ranges = report.default_ranges(grafana)
    newest = max(hour_of(grain) for grain in ORACLE)
    assert ranges["job_performance"].end == newest + timedelta(hours=1)
    assert ranges["job_performance"].end - ranges["job_performance"].start == timedelta(days=7)
    assert abs(ranges["pipeline_health"].end - datetime.now(UTC)) < timedelta(minutes=1)
    asked = report.default_ranges(grafana, end=datetime(2026, 11, 20, 12))
    assert asked["job_performance"] == asked["pipeline_health"]
    assert asked["job_performance"].start == datetime(2026, 11, 13, 12, tzinfo=UTC)


def test_jobpulse_report_writes_a_png_per_dashboard(warehouse: Settings, tmp_path: Path, monkeypatch: Any, capsys):
    monkeypatch.setenv("JOBPULSE_MYSQL_DATABASE", warehouse.mysql_database)
    assert cli.main(["report", "--out", str(tmp_path)]) == 0
    written = {Path(line) for line in capsys.readouterr().out.split()}
    assert written == {tmp_path / "job_performance.png", tmp_path / "pipeline_health.png"}
    for path in written:
        content = path.read_bytes()
        assert content.startswith(PNG) and len(content) > 20_000, path

    assert cli.main(["report", "--out", str(tmp_path), "--from", "2026-11-21", "--to", "2026-11-20"]) == 1
    assert "ends before it starts" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (40, "40 s"),
        (125, "2 min 5 s"),
        (120, "2 min"),
        (3_600 + 30, "1 h"),  # the third unit dropped, not rounded
        (3 * 3_600 + 12 * 60 + 59, "3 h 12 min"),
        (2 * 86_400 + 4 * 3_600 + 5, "2 d 4 h"),
        (59.6, "1 min"),
        (-90, "-1 min 30 s"),
    ],
)
def test_a_duration_reads_in_its_two_largest_units(seconds: float, text: str):
    assert report.duration(seconds) == text


def test_the_header_shows_labels_and_durations_not_field_names():
    board = dashboards.load("pipeline_health")

    def line(title: str, **fields: Any) -> str:
        return report.stat_line(report.PanelData(dashboards.panel(board, title), pd.DataFrame([fields])))

    assert line("Newest event hour, age", freshness_seconds=125) == "Newest event hour, age — freshness: 2 min 5 s"
    assert line("Last successful run, age", since_last_success_seconds=40) == (
        "Last successful run, age — since last success: 40 s"
    )
    assert line("Runs in the time range", runs=12, dead_lettered=None) == (
        "Runs in the time range — runs: 12, dead lettered: -"
    )
