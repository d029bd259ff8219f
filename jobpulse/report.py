"""``jobpulse report``: the dashboards' main panels drawn to PNG files, for readers without a Grafana (a README,
an e-mail, a review). Every figure comes from the dashboard JSON's own SQL, expanded as Grafana expands it
(:mod:`jobpulse.dashboards`), with every template variable at All, so a report and a dashboard over the same
range show the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jobpulse import dashboards
from jobpulse.config import Settings

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from mysql.connector.abstracts import MySQLConnectionAbstract

# The panels each report draws, in order: stats become the header, the rest one chart each.
MAIN_PANELS: dict[str, tuple[str, ...]] = {
    "job_performance": (
        "Totals",
        "Average bid and rates",
        "Clicks, conversions and applications per hour",
        "Spend and average bid per hour",
        "Conversion and qualification rates per hour",
        "Top jobs",
        "Top companies",
        "Top publishers",
    ),
    "pipeline_health": (
        "Newest event hour, age",
        "Last successful run, age",
        "Runs in the time range",
        "Data quality in the time range",
        "Events per run",
        "Run duration",
        "Events not counted, per arrival day",
    ),
}
DEFAULT_SPAN = timedelta(days=7)
TOP_BARS = 10


@dataclass(frozen=True)
class PanelData:
    """One panel's definition and the frame its query returned (time columns as UTC timestamps)."""

    panel: dict[str, Any]
    frame: pd.DataFrame


def newest_event_hour(connection: MySQLConnectionAbstract) -> datetime:
    """The start of the newest hour in ``events``; a report's default range ends one hour after it."""
    result = dashboards.run(connection, "SELECT MAX(dates + INTERVAL hours HOUR) FROM events")
    newest = result.rows[0][0]
    if newest is None:
        raise ValueError("the events mart is empty: run the pipeline first (`jobpulse run`)")
    return newest.replace(tzinfo=UTC)


def default_ranges(
    connection: MySQLConnectionAbstract, start: datetime | None = None, end: datetime | None = None
) -> dict[str, dashboards.TimeRange]:
    """The range of each report: the one asked for, else seven days ending at the newest data (the newest event
    hour for job performance, now for pipeline health: runs happen now even when the events are old)."""
    ranges = {}
    for name, default_end in (
        ("job_performance", lambda: newest_event_hour(connection) + timedelta(hours=1)),
        ("pipeline_health", lambda: datetime.now(UTC)),
    ):
        until = end or default_end()
        ranges[name] = dashboards.TimeRange(start or until - DEFAULT_SPAN, until)
    return ranges


def _number(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def panel_frames(
    connection: MySQLConnectionAbstract, name: str, time_range: dashboards.TimeRange
) -> dict[str, PanelData]:
    """The data of a dashboard's main panels, by title: exactly what the report plots."""
    import pandas as pd

    board = dashboards.load(name)
    variables = dashboards.resolve_variables(connection, board, time_range)
    frames = {}
    for title in MAIN_PANELS[name]:
        panel = dashboards.panel(board, title)
        (result,) = dashboards.run_panel(connection, panel, time_range, variables)
        frame = pd.DataFrame([[_number(value) for value in row] for row in result.rows], columns=result.columns)
        if "time" in frame.columns:
            unit = {"unit": "s"} if pd.api.types.is_integer_dtype(frame["time"]) else {}
            frame["time"] = pd.to_datetime(frame["time"], utc=True, **unit)
        frames[title] = PanelData(panel, frame)
    return frames


def _unit(panel: dict[str, Any], column: str) -> str | None:
    for override in panel["fieldConfig"].get("overrides", []):
        if override["matcher"].get("options") == column:
            for prop in override["properties"]:
                if prop["id"] == "unit":
                    return prop["value"]
    return panel["fieldConfig"]["defaults"].get("unit")


def _on_right_axis(panel: dict[str, Any], column: str) -> bool:
    return any(
        override["matcher"].get("options") == column
        and any(prop["id"] == "custom.axisPlacement" and prop["value"] == "right" for prop in override["properties"])
        for override in panel["fieldConfig"].get("overrides", [])
    )


def duration(seconds: float) -> str:
    """A duration as a person says it, in its two largest units: "40 s", "2 min 5 s", "3 h 12 min", "2 d 4 h" (a
    unit of zero left out, the rest dropped, not rounded: an age never reads older than it is)."""
    sign, rest = ("-" if seconds < 0 else ""), round(abs(seconds))
    amounts = []
    for name, size in (("d", 86_400), ("h", 3_600), ("min", 60), ("s", 1)):
        amount, rest = divmod(rest, size)
        amounts.append((amount, name))
    largest = next((index for index, (amount, _) in enumerate(amounts) if amount), len(amounts) - 1)
    shown = [f"{amount} {name}" for amount, name in amounts[largest : largest + 2] if amount]
    return sign + (" ".join(shown) if shown else "0 s")


def _format(value: Any, unit: str | None) -> str:
    if value is None or value != value:  # NULL or NaN
        return "-"
    if unit == "percentunit":
        return f"{value:.1%}"
    if unit == "s":
        return duration(value)
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def _label(column: str, unit: str | None) -> str:
    """A field's name as a person reads it: words, not snake case, and no unit the value already shows."""
    return (column.removesuffix("_seconds") if unit == "s" else column).replace("_", " ")


def stat_line(data: PanelData) -> str:
    """A stat panel as one header line: its title, then each field's label and value ("Newest event hour, age —
    freshness: 2 min 5 s")."""
    row = data.frame.iloc[0] if len(data.frame) else None
    fields = []
    for column in data.frame.columns:
        unit = _unit(data.panel, column)
        fields.append(f"{_label(column, unit)}: {_format(None if row is None else row[column], unit)}")
    return f"{data.panel['title']} — {', '.join(fields)}"


def _draw_timeseries(axes: Axes, data: PanelData) -> None:
    """Lines through the points, as Grafana draws them; bar panels as grouped bars, one group per timestamp
    (runs and days are few and irregular: a time axis would squeeze them into slivers)."""
    from matplotlib.ticker import PercentFormatter

    frame = data.frame
    if "metric" in frame.columns:  # long format: one series per metric value
        value = next(column for column in frame.columns if column not in ("time", "metric"))
        frame = frame.pivot_table(index="time", columns="metric", values=value, aggfunc="sum").reset_index()
    columns = [str(column) for column in frame.columns if column != "time"]
    bars = data.panel["fieldConfig"]["defaults"]["custom"].get("drawStyle") == "bars"
    right = None
    for index, column in enumerate(columns):
        target = axes
        if _on_right_axis(data.panel, column):
            right = right or axes.twinx()
            target = right
        values, label = frame[column].astype(float), column.replace("_", " ")
        if bars:
            width = 0.8 / len(columns)
            target.bar([x + index * width for x in range(len(frame))], values, width, label=label)
        else:
            target.plot(frame["time"], values, marker="o", markersize=2, label=label, color=f"C{index}")
        if _unit(data.panel, column) == "percentunit":
            target.yaxis.set_major_formatter(PercentFormatter(1.0))
    if bars:
        ticks = [x + 0.4 - 0.4 / len(columns) for x in range(len(frame))]
        axes.set_xticks(ticks, frame["time"].dt.strftime("%m-%d %H:%M"))
    handles = [*axes.get_legend_handles_labels()[0], *(right.get_legend_handles_labels()[0] if right else [])]
    axes.legend(handles=handles, fontsize=7, loc="upper left")
    axes.tick_params(axis="x", labelsize=7, rotation=20)


def _draw_top(axes: Axes, data: PanelData) -> None:
    frame = data.frame.head(TOP_BARS).iloc[::-1]
    label, value = frame.columns[0], "clicks"
    axes.barh(frame[label].astype(str).str.slice(0, 40), frame[value].astype(float))
    axes.set_xlabel(value)
    axes.tick_params(axis="y", labelsize=7)


def render(name: str, frames: dict[str, PanelData], time_range: dashboards.TimeRange, path: Path) -> Path:
    """One PNG: the stat panels as header lines, then a chart per other panel, two to a row."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    board = dashboards.load(name)
    stats = [data for data in frames.values() if data.panel["type"] == "stat"]
    charts = [data for data in frames.values() if data.panel["type"] != "stat"]
    rows = (len(charts) + 1) // 2
    header_inches = 0.22 * (len(stats) + 1) + 0.2
    figure, grid = plt.subplots(rows, 2, figsize=(16, header_inches + 4 * rows), squeeze=False)
    lines = [f"{board['title']}, {time_range.start:%Y-%m-%d %H:%M} to {time_range.end:%Y-%m-%d %H:%M} UTC"]
    figure.text(0.01, 1 - 0.1 / figure.get_figheight(), "\n".join(lines + [stat_line(data) for data in stats]),
                va="top", fontsize=10, linespacing=1.5)  # fmt: skip
    for axes, data in zip(grid.flat, charts, strict=False):
        axes.set_title(data.panel["title"], fontsize=10)
        if data.frame.empty:
            axes.text(0.5, 0.5, "no data", ha="center", va="center", transform=axes.transAxes)
        elif data.panel["type"] == "timeseries":
            _draw_timeseries(axes, data)
        else:
            _draw_top(axes, data)
    for axes in list(grid.flat)[len(charts) :]:
        axes.set_visible(False)
    figure.tight_layout(rect=(0, 0, 1, 1 - header_inches / figure.get_figheight()))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=80)
    plt.close(figure)
    return path


def write(settings: Settings, out_dir: Path, start: datetime | None = None, end: datetime | None = None) -> list[Path]:
    """Draw every report into ``out_dir`` (``<dashboard>.png``); returns the files written."""
    connection = dashboards.connect(settings)
    try:
        ranges = default_ranges(connection, start, end)
        return [
            render(name, panel_frames(connection, name, time_range), time_range, out_dir / f"{name}.png")
            for name, time_range in ranges.items()
        ]
    finally:
        connection.close()
