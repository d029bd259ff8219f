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
    from matplotlib.figure import Figure
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
LONGEST_DEFAULT_SPAN = timedelta(days=7)  # of the data's own span, the newest week: hourly points stay readable
MIN_PADDING, PADDING_FRACTION = timedelta(hours=1), 0.05  # so the first and last points are off the axis' edges
TOP_BARS = 10
SPARSE_POINTS = 48  # a series of up to two days of hours has its points marked (Grafana's showPoints "auto")
BAR_LABELS = 10  # at most, so that they do not overlap: every n-th group of bars is labelled


@dataclass(frozen=True)
class PanelData:
    """One panel's definition and the frame its query returned (time columns as UTC timestamps)."""

    panel: dict[str, Any]
    frame: pd.DataFrame


def report_range(
    oldest: datetime, newest: datetime, start: datetime | None = None, end: datetime | None = None
) -> dashboards.TimeRange:
    """The range a report covers: the bounds asked for; a bound not asked for, the data's own (``oldest`` to
    ``newest``, at most its newest week), padded. When the data lies wholly beyond the one bound asked for, the
    other is a week from it: a range that says "no data" rather than one that ends before it starts."""
    oldest, newest = dashboards.utc(oldest), dashboards.utc(newest)
    first = max(oldest, newest - LONGEST_DEFAULT_SPAN)
    padding = max(MIN_PADDING, (newest - first) * PADDING_FRACTION)
    until = dashboards.utc(end) if end else newest + padding
    since = dashboards.utc(start) if start else first - padding
    if start and not end and until <= since:
        until = since + LONGEST_DEFAULT_SPAN
    if end and not start and since >= until:
        since = until - LONGEST_DEFAULT_SPAN
    return dashboards.TimeRange(since, until)


def _instants(connection: MySQLConnectionAbstract, sql: str) -> list[datetime | None]:
    """The query's one row, its timestamps as UTC instants (a NULL as None)."""
    return [None if value is None else dashboards.utc(value) for value in dashboards.run(connection, sql).rows[0]]


def default_ranges(
    connection: MySQLConnectionAbstract, start: datetime | None = None, end: datetime | None = None
) -> dict[str, dashboards.TimeRange]:
    """The range of each report (:func:`report_range`): for job performance the event hours in ``events`` (the
    newest one to its end), for pipeline health the recorded runs up to now (runs happen now even when the
    events are old, and a run that is overdue shows as the gap after the last one). An empty ``events`` has no
    span of its own: only a range asked for at both ends is drawn then (with "no data")."""
    now = datetime.now(UTC)
    oldest_hour, newest_hour = _instants(
        connection, "SELECT MIN(dates + INTERVAL hours HOUR), MAX(dates + INTERVAL hours HOUR) FROM events"
    )
    if oldest_hour is None or newest_hour is None:
        if not (start and end):
            raise ValueError(
                "the events mart is empty: run the pipeline first (`jobpulse run`), or give --from and --to"
            )
        oldest_hour = newest_hour = now
    (first_run,) = _instants(connection, "SELECT MIN(started_at) FROM pipeline_run_history")
    return {
        "job_performance": report_range(oldest_hour, newest_hour + timedelta(hours=1), start, end),
        "pipeline_health": report_range(first_run or now, now, start, end),
    }


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


def has_data(frame: pd.DataFrame) -> bool:
    """Whether a panel's frame holds a value to draw: rows whose fields are all NULL draw nothing either."""
    return bool(frame.drop(columns=["time", "metric"], errors="ignore").notna().to_numpy().any())


def bar_labels(times: pd.Series) -> list[str]:
    """Labels for bars at ``times``: the date alone for whole days, else the time to the minute, or to the second
    when two bars would read the same (runs a few seconds apart)."""
    if (times == times.dt.normalize()).all():
        return list(times.dt.strftime("%Y-%m-%d"))
    minutes = times.dt.strftime("%m-%d %H:%M")
    return list(minutes if minutes.is_unique else times.dt.strftime("%m-%d %H:%M:%S"))


def _draw_timeseries(axes: Axes, data: PanelData, time_range: dashboards.TimeRange) -> None:
    """Lines over the report's range, as Grafana draws them, their points marked when few (so that a single point
    shows); bar panels as grouped bars, one group per timestamp (runs and days are few and irregular: a
    time axis would squeeze them into slivers)."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
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
            # A right-axis series dashed, its points hollow: with one point, both axes put theirs at the same spot.
            on_right = target is right
            points = (
                {"marker": "s", "markersize": 7, "markerfacecolor": "none"}
                if on_right
                else {"marker": "o", "markersize": 4}
            )
            style = {"linestyle": "--" if on_right else "-", **(points if len(frame) <= SPARSE_POINTS else {})}
            # Unclipped: a point on the range's edge (an asked-for bound) shows whole; the query keeps the rest in.
            target.plot(frame["time"], values, label=label, color=f"C{index}", clip_on=False, **style)
        if _unit(data.panel, column) == "percentunit":
            target.yaxis.set_major_formatter(PercentFormatter(1.0))
    if bars:
        every = -(-len(frame) // BAR_LABELS)
        ticks = [x + 0.4 - 0.4 / len(columns) for x in range(len(frame))]
        axes.set_xticks(ticks[::every], bar_labels(frame["time"])[::every])
        axes.tick_params(axis="x", labelsize=7, rotation=20)
    else:
        # The report's range, not matplotlib's: with one point it would widen the axis to four years.
        axes.set_xlim(time_range.start, time_range.end)
        locator = AutoDateLocator(tz=UTC)
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(ConciseDateFormatter(locator, tz=UTC))
        axes.tick_params(axis="x", labelsize=7)
    handles = [*axes.get_legend_handles_labels()[0], *(right.get_legend_handles_labels()[0] if right else [])]
    # Below the axis, not over the points: a legend inside would hide a single point or the tallest bars.
    axes.legend(handles=handles, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16 if bars else -0.1),
                ncols=min(len(handles), 6), frameon=False)  # fmt: skip


def _draw_no_data(axes: Axes) -> None:
    axes.text(0.5, 0.5, "No data in this range", ha="center", va="center", fontsize=14, color="dimgray",
              transform=axes.transAxes)  # fmt: skip
    axes.set_xticks([])
    axes.set_yticks([])


def _draw_top(axes: Axes, data: PanelData) -> None:
    frame = data.frame.head(TOP_BARS).iloc[::-1]
    label, value = frame.columns[0], "clicks"
    axes.barh(frame[label].astype(str).str.slice(0, 40), frame[value].astype(float))
    axes.set_xlabel(value)
    axes.tick_params(axis="y", labelsize=7)


def draw(name: str, frames: dict[str, PanelData], time_range: dashboards.TimeRange) -> Figure:
    """A report's figure: the stat panels as header lines, then a chart per other panel, two to a row."""
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
        if not has_data(data.frame):
            _draw_no_data(axes)
        elif data.panel["type"] == "timeseries":
            _draw_timeseries(axes, data, time_range)
        else:
            _draw_top(axes, data)
    for axes in list(grid.flat)[len(charts) :]:
        axes.set_visible(False)
    figure.tight_layout(rect=(0, 0, 1, 1 - header_inches / figure.get_figheight()))
    return figure


def render(name: str, frames: dict[str, PanelData], time_range: dashboards.TimeRange, path: Path) -> Path:
    """One PNG of :func:`draw`'s figure."""
    import matplotlib.pyplot as plt

    figure = draw(name, frames, time_range)
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
