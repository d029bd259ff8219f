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
HOUR = timedelta(hours=1)
T0 = datetime(2026, 12, 6, 22, tzinfo=UTC)


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


def test_the_default_range_is_the_datas_own_span_padded(grafana: Any):
    ranges = report.default_ranges(grafana)
    oldest, newest = min(hour_of(grain) for grain in ORACLE), max(hour_of(grain) for grain in ORACLE)
    assert ranges["job_performance"] == dashboards.TimeRange(oldest - HOUR, newest + 2 * HOUR)
    assert abs(ranges["pipeline_health"].end - (datetime.now(UTC) + HOUR)) < timedelta(minutes=1)
    assert ranges["pipeline_health"].end - ranges["pipeline_health"].start < timedelta(hours=3), "the runs' span"
    asked = report.default_ranges(grafana, end=datetime(2026, 11, 20, 12))
    assert asked["job_performance"] == dashboards.TimeRange(oldest - HOUR, datetime(2026, 11, 20, 12))
    assert asked["pipeline_health"].start == datetime(2026, 11, 13, 12, tzinfo=UTC), "runs all after the end"


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


def no_data_charts(figure: Any) -> list[str]:
    return [axes.get_title() for axes in figure.axes if "No data in this range" in [t.get_text() for t in axes.texts]]


def test_a_range_without_events_draws_no_data(grafana: Any):
    """A week before the fixture's events: the variables have no options, and every chart says there is no data."""
    import matplotlib.pyplot as plt

    before = dashboards.TimeRange(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 8, tzinfo=UTC))
    frames = report.panel_frames(grafana, "job_performance", before)
    figure = report.draw("job_performance", frames, before)
    try:
        charts = [title for title, data in frames.items() if data.panel["type"] != "stat"]
        assert no_data_charts(figure) == charts
        assert report.stat_line(frames["Totals"]) == (
            "Totals — clicks: -, conversions: -, qualified applications: -, disqualified applications: -, spend: -"
        )
    finally:
        plt.close(figure)


def test_jobpulse_report_over_an_empty_events_mart(
    empty_warehouse: Settings, tmp_path: Path, monkeypatch: Any, capsys: Any
):
    """Nothing to take a range from: asked for one, it draws "no data"; not asked, it says what to do."""
    monkeypatch.setenv("JOBPULSE_MYSQL_DATABASE", empty_warehouse.mysql_database)
    assert cli.main(["report", "--out", str(tmp_path), "--from", "2026-11-20", "--to", "2026-11-21"]) == 0
    written = {Path(line) for line in capsys.readouterr().out.split()}
    assert written == {tmp_path / "job_performance.png", tmp_path / "pipeline_health.png"}
    assert all(path.read_bytes().startswith(PNG) for path in written)
    assert cli.main(["report", "--out", str(tmp_path)]) == 1
    assert "the events mart is empty" in capsys.readouterr().err


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


@pytest.mark.parametrize(
    ("oldest", "newest", "start", "end", "expected"),
    [
        # the demo's single hour: an hour of padding each side, not a week (nor matplotlib's four years)
        (T0, T0 + HOUR, None, None, (T0 - HOUR, T0 + 2 * HOUR)),
        # a week of data: padded by a twentieth of it
        (T0, T0 + 7 * 24 * HOUR, None, None, (T0 - 8.4 * HOUR, T0 + 7 * 24 * HOUR + 8.4 * HOUR)),
        # a month of data: its newest week only
        (T0, T0 + 30 * 24 * HOUR, None, None, (T0 + 23 * 24 * HOUR - 8.4 * HOUR, T0 + 30 * 24 * HOUR + 8.4 * HOUR)),
        # bounds asked for are kept; naive ones are UTC
        (T0, T0 + HOUR, datetime(2026, 12, 1), datetime(2026, 12, 2), (datetime(2026, 12, 1), datetime(2026, 12, 2))),
        (T0, T0 + HOUR, T0 - 5 * HOUR, None, (T0 - 5 * HOUR, T0 + 2 * HOUR)),
        (T0, T0 + HOUR, None, T0 + 30 * HOUR, (T0 - HOUR, T0 + 30 * HOUR)),
        # the data wholly beyond the one bound asked for: a week from it, to say "no data" about
        (T0, T0 + HOUR, T0 + 5 * HOUR, None, (T0 + 5 * HOUR, T0 + 5 * HOUR + 7 * 24 * HOUR)),
        (T0, T0 + HOUR, None, T0 - 5 * HOUR, (T0 - 5 * HOUR - 7 * 24 * HOUR, T0 - 5 * HOUR)),
    ],
)
def test_a_reports_range_is_the_one_asked_for_else_the_datas_own(
    oldest: datetime, newest: datetime, start: datetime | None, end: datetime | None, expected: tuple
):
    assert report.report_range(oldest, newest, start, end) == dashboards.TimeRange(*expected)


def test_a_range_asked_for_that_ends_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="ends before it starts"):
        report.report_range(T0, T0 + HOUR, T0, T0 - HOUR)


def test_a_frame_without_a_value_has_no_data():
    assert not report.has_data(pd.DataFrame(columns=["time", "clicks"]))
    assert not report.has_data(pd.DataFrame({"time": [T0], "conversion_rate": [None], "qualification_rate": [None]}))
    assert not report.has_data(pd.DataFrame({"time": [T0], "metric": ["a"], "value": [float("nan")]}))
    assert report.has_data(pd.DataFrame({"time": [T0], "clicks": [0]}))
    assert report.has_data(pd.DataFrame({"publisher": ["JobHub"], "clicks": [3]}))


@pytest.mark.parametrize(
    ("times", "labels"),
    [
        (["2026-12-05", "2026-12-06"], ["2026-12-05", "2026-12-06"]),  # days: the date alone
        (["2026-12-06 23:02:10", "2026-12-06 23:07:40"], ["12-06 23:02", "12-06 23:07"]),
        (["2026-12-06 23:02:10", "2026-12-06 23:02:50"], ["12-06 23:02:10", "12-06 23:02:50"]),  # a minute apart
    ],
)
def test_bar_labels_read_as_precisely_as_the_bars_need(times: list[str], labels: list[str]):
    assert report.bar_labels(pd.Series(pd.to_datetime(times, utc=True))) == labels


def test_a_single_hour_is_drawn_as_a_visible_point_on_the_reports_range():
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    board = dashboards.load("job_performance")
    time_range = report.report_range(T0, T0 + HOUR)
    frames = {
        title: report.PanelData(dashboards.panel(board, title), frame)
        for title, frame in {
            "Totals": pd.DataFrame({"clicks": [330.0]}),
            "Clicks, conversions and applications per hour": pd.DataFrame({"time": [T0], "clicks": [330.0]}),
            "Spend and average bid per hour": pd.DataFrame({"time": [T0], "spend": [None], "average_bid": [None]}),
            "Top jobs": pd.DataFrame({"job": ["SEO Specialist #2"], "clicks": [48.0]}),
        }.items()
    }
    figure = report.draw("job_performance", frames, time_range)
    charts = {axes.get_title(): axes for axes in figure.axes if axes.get_title()}
    hourly = charts["Clicks, conversions and applications per hour"]
    start, end = (mdates.num2date(limit) for limit in hourly.get_xlim())
    assert (start, end) == (T0 - HOUR, T0 + 2 * HOUR), "the report's range, not years around the point"
    (line,) = hourly.get_lines()
    assert line.get_marker() == "o" and line.get_markersize() >= 4
    empty = charts["Spend and average bid per hour"]
    assert [text.get_text() for text in empty.texts] == ["No data in this range"]
    assert not empty.get_lines()
    plt.close(figure)


def test_many_runs_and_hours_stay_readable():
    import matplotlib.pyplot as plt

    board = dashboards.load("pipeline_health")
    runs = pd.to_datetime([T0 + index * 6 * HOUR for index in range(28)], utc=True)
    frames = {
        title: report.PanelData(dashboards.panel(board, title), frame)
        for title, frame in {
            "Events per run": pd.DataFrame({"time": runs, "events_collected": range(28)}),
            "Run duration": pd.DataFrame({"time": runs, "total": [40.0] * 28}),
        }.items()
    }
    figure = report.draw("pipeline_health", frames, report.report_range(runs[0], runs[-1]))
    charts = {axes.get_title(): axes for axes in figure.axes if axes.get_title()}
    labels = [label.get_text() for label in charts["Events per run"].get_xticklabels()]
    assert labels == report.bar_labels(pd.Series(runs))[::3], "every third run labelled: ten labels at most"
    (line,) = charts["Run duration"].get_lines()
    assert line.get_marker() == "o", "28 points are few enough to mark"
    plt.close(figure)
