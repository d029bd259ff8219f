"""Every query of both dashboards, expanded as Grafana expands it and run as the read-only account against a
database the real pipeline filled: each returns its columns, and the numbers are those of the mart (recomputed
from the raw events by the spec's oracle), over the time range and the variables chosen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ingest.reference_data import reference_data
from jobpulse import dashboards
from jobpulse.clients import mysql_connect
from jobpulse.config import Settings
from tests.grafana.conftest import (
    FIRST_RUN,
    FULL_RANGE,
    JUNK,
    ORACLE,
    RAW,
    SECOND_RUN,
    UNPARSEABLE,
    around_now,
    hour_of,
    oracle_hours,
    oracle_totals,
)

COUNTS = ["clicks", "conversions", "qualified_applications", "disqualified_applications"]
TOP = [*COUNTS, "spend", "conversion_rate"]
COLUMNS = {
    "jobpulse-job-performance": {
        "Totals": [*COUNTS, "spend"],
        "Average bid and rates": ["average_bid", "conversion_rate", "qualification_rate"],
        "Clicks, conversions and applications per hour": ["time", *COUNTS],
        "Spend and average bid per hour": ["time", "spend", "average_bid"],
        "Conversion and qualification rates per hour": ["time", "conversion_rate", "qualification_rate"],
        "Top jobs": ["job", "company", *TOP],
        "Top companies": ["company", *TOP],
        "Top publishers": ["publisher", *TOP],
        "Spend per day, top 10 companies": ["time", "metric", "spend"],
        "Clicks per day, top 10 publishers": ["time", "metric", "clicks"],
    },
    "jobpulse-pipeline-health": {
        "Newest event hour, age": ["freshness_seconds"],
        "Last successful run, age": ["since_last_success_seconds"],
        "Collector now": ["lag_messages", "since_report_seconds", "stopped"],
        "Collector in the time range": ["consumed", "written", "dead_lettered", "dead_letter_rate"],
        "Collector throughput and lag": ["time", "consumed", "written", "dead_lettered", "lag_messages"],
        "Runs in the time range": ["runs", "succeeded", "failed", "collected", "dead_lettered"],
        "Events per run": ["time", "events_collected", "events_dead_lettered", "events_landed", "cells_changed"],
        "Run duration": [
            "time", "total", "collect", "wait for new data", "ingest", "dbt lakehouse", "publish", "dbt warehouse",
        ],
        "Runs": [
            "started_at", "source", "status", "seconds", "events_collected", "events_dead_lettered",
            "events_landed", "cells_changed", "landed_through_batch", "error",
        ],
        "Data quality in the time range": ["deliveries", "events", "counted", "not_counted"],
        "Events not counted, per arrival day": [
            "time", "without_job", "unparseable_ts", "unclassified_track", "redeliveries",
        ],
    },
}  # fmt: skip


def results(connection: Any, name: str, time_range: dashboards.TimeRange, **selections: list[str]) -> dict:
    board = dashboards.load(name)
    variables = dashboards.resolve_variables(connection, board, time_range, selections)
    found = {}
    for panel in dashboards.panels(board):
        (found[panel["title"]],) = dashboards.run_panel(connection, panel, time_range, variables)
    return found


def as_dict(result: dashboards.Result) -> dict[str, Any]:
    (row,) = result.rows
    return {column: float(value) for column, value in zip(result.columns, row, strict=True)}


def busiest(dimension: str) -> str:
    """The known company (or publisher) with the most clicks: a selection that surely has data."""
    clicks: dict[int, int] = {}
    for grain, cell in ORACLE.items():
        key = cell[6] if dimension == "company" else int(grain[3])
        if key:
            clicks[key] = clicks.get(key, 0) + cell[0]
    return str(max(clicks, key=lambda key: clicks[key]))


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


@pytest.mark.parametrize(
    ("name", "time_range"), [("job_performance", FULL_RANGE), ("pipeline_health", None)], ids=["job", "health"]
)
def test_every_query_returns_its_columns_and_rows(grafana: Any, name: str, time_range: Any):
    board = dashboards.load(name)
    time_range = time_range or around_now()
    for variable in dashboards.resolve_variables(grafana, board, time_range).values():
        assert variable.options, f"variable {variable.name} has no options"
        assert variable.value == ["$__all"], "every variable defaults to All"
    found = results(grafana, name, time_range)
    assert set(found) == set(COLUMNS[board["uid"]]), "every panel is checked here"
    for panel in dashboards.panels(board):
        result = found[panel["title"]]
        assert result.columns == COLUMNS[board["uid"]][panel["title"]], panel["title"]
        assert result.rows, f"{panel['title']}: no rows"
        if panel["targets"][0]["format"] == "time_series":
            times = result.column("time")
            assert times == sorted(times), f"{panel['title']}: Grafana needs time series sorted by time"


def test_every_query_runs_on_an_empty_events_mart(empty_warehouse: Settings):
    """No events: the job dashboard's variables have no options, and All must still make SQL that runs."""
    connection = dashboards.connect(empty_warehouse)
    try:
        for name, time_range in (("job_performance", FULL_RANGE), ("pipeline_health", around_now())):
            board = dashboards.load(name)
            for variable in dashboards.resolve_variables(connection, board, time_range).values():
                assert not variable.options and variable.value == ["$__all"], variable.name
            for title, result in results(connection, name, time_range).items():
                assert result.columns == COLUMNS[board["uid"]][title], title
                if "time" in result.columns:
                    assert not result.rows, f"{title}: rows without events"
    finally:
        connection.close()


def test_job_performance_matches_the_mart_over_the_range(grafana: Any):
    found = results(grafana, "job_performance", FULL_RANGE)
    expected = oracle_totals(FULL_RANGE.start, FULL_RANGE.end)
    assert expected["clicks"] > 500 and expected["qualified_applications"] > 0, "the fixture has real traffic"
    totals = as_dict(found["Totals"])
    assert totals == pytest.approx(expected)

    rates = as_dict(found["Average bid and rates"])
    assert rates["average_bid"] == pytest.approx(expected["spend"] / expected["clicks"])
    assert rates["conversion_rate"] == pytest.approx(expected["conversions"] / expected["clicks"], abs=1e-4)
    applications = expected["qualified_applications"] + expected["disqualified_applications"]
    assert rates["qualification_rate"] == pytest.approx(expected["qualified_applications"] / applications, abs=1e-4)

    hours = oracle_hours(FULL_RANGE.start, FULL_RANGE.end)
    assert len(hours) >= 7
    series = found["Clicks, conversions and applications per hour"]
    assert {row[0]: [float(value) for value in row[1:]] for row in series.rows} == {
        epoch(hour): [values[column] for column in COUNTS] for hour, values in hours.items()
    }
    spend = found["Spend and average bid per hour"]
    assert spend.column("time") == [epoch(hour) for hour in hours]
    assert spend.column("spend") == pytest.approx([values["spend"] for values in hours.values()])

    companies = found["Top companies"]
    clicks = companies.column("clicks")
    assert clicks == sorted(clicks, reverse=True) and len(clicks) == 20
    by_company: dict[float, float] = {}
    for cell in ORACLE.values():
        by_company[float(cell[6] or 0)] = by_company.get(float(cell[6] or 0), 0) + cell[0]
    assert [float(value) for value in clicks] == sorted(by_company.values(), reverse=True)[:20]


def test_the_time_range_drives_every_query(grafana: Any):
    """Hours 09:00 to 11:00 inclusive: Grafana's BETWEEN takes the hour starting at the range's end too."""
    narrow = dashboards.TimeRange(datetime(2026, 11, 20, 9, tzinfo=UTC), datetime(2026, 11, 20, 11, tzinfo=UTC))
    found = results(grafana, "job_performance", narrow)
    expected = oracle_totals(narrow.start, narrow.end)
    assert 0 < expected["clicks"] < oracle_totals(FULL_RANGE.start, FULL_RANGE.end)["clicks"]
    assert as_dict(found["Totals"]) == pytest.approx(expected)
    assert found["Clicks, conversions and applications per hour"].column("time") == [
        epoch(narrow.start + timedelta(hours=hour)) for hour in range(3)
    ]
    top_jobs = sum(float(value) for value in found["Top jobs"].column("clicks"))
    assert 0 < top_jobs <= expected["clicks"]
    jobs_in_range = {grain[0] for grain in ORACLE if narrow.start <= hour_of(grain) <= narrow.end}
    variables = dashboards.resolve_variables(grafana, dashboards.load("job_performance"), narrow)
    assert {float(value) for _, value in variables["job"].options} == jobs_in_range


def test_variables_filter_every_panel(grafana: Any):
    board = dashboards.load("job_performance")
    everything = dashboards.resolve_variables(grafana, board, FULL_RANGE)
    companies = {float(value) for _, value in everything["company"].options}
    assert companies == {float(cell[6] or 0) for cell in ORACLE.values()}
    assert 0.0 in companies, "jobs the job table does not know are selectable as company 0"
    names = dict((value, text) for text, value in everything["company"].options)
    assert names["0"] == "Unknown company"

    company, publisher = busiest("company"), busiest("publisher")
    assert names[company] == {str(c.id): c.name for c in reference_data().companies}[company]
    found = results(grafana, "job_performance", FULL_RANGE, company=[company], publisher=[publisher, "0"])
    expected = oracle_totals(
        FULL_RANGE.start, FULL_RANGE.end, company={float(company)}, publisher={float(publisher), 0.0}
    )
    assert 0 < expected["clicks"] < oracle_totals(FULL_RANGE.start, FULL_RANGE.end)["clicks"]
    assert as_dict(found["Totals"]) == pytest.approx(expected)
    assert set(found["Top companies"].column("company")) == {names[company]}

    chained = dashboards.resolve_variables(grafana, board, FULL_RANGE, {"company": [company]})
    assert {float(value) for _, value in chained["job"].options} == {
        grain[0] for grain, cell in ORACLE.items() if cell[6] == int(company)
    }, "the job variable lists the selected companies' jobs only"


def test_pipeline_health_matches_the_runs_and_the_quality_tables(grafana: Any, warehouse: Settings):
    now = datetime.now(UTC)
    found = results(grafana, "pipeline_health", around_now())
    runs = as_dict(found["Runs in the time range"])
    assert runs == {
        "runs": 2, "succeeded": 2, "failed": 0,
        "collected": len(FIRST_RUN) + len(SECOND_RUN), "dead_lettered": len(JUNK),
    }  # fmt: skip
    per_run = found["Events per run"]
    assert per_run.column("events_collected") == [len(FIRST_RUN), len(SECOND_RUN)]
    assert per_run.column("events_dead_lettered") == [0, len(JUNK)]
    assert all(value > 0 for value in per_run.column("cells_changed"))
    consumed = len(FIRST_RUN) + len(SECOND_RUN) + len(JUNK)  # each run's collector reported what it drained
    assert as_dict(found["Collector in the time range"]) == pytest.approx(
        {"consumed": consumed, "written": consumed - len(JUNK), "dead_lettered": len(JUNK),
         "dead_letter_rate": len(JUNK) / consumed},
        abs=1e-4,
    )  # fmt: skip
    now_row = dict(zip(found["Collector now"].columns, found["Collector now"].rows[0], strict=True))
    assert now_row["stopped"] == 1 and now_row["lag_messages"] in (0, None), "the second run's collector drained"
    throughput = found["Collector throughput and lag"]
    assert sum(float(value) for value in throughput.column("consumed")) == consumed
    durations = found["Run duration"]
    for total, *steps in (row[1:] for row in durations.rows):
        assert 0 < sum(step for step in steps if step is not None) <= float(total) + 0.5

    newest = max(hour_of(grain) for grain in ORACLE)
    (freshness,) = found["Newest event hour, age"].rows[0]
    assert abs(freshness - (now - newest).total_seconds()) < 120
    (since_success,) = found["Last successful run, age"].rows[0]
    assert 0 <= since_success < 3600

    pipeline = mysql_connect(warehouse)
    cursor = pipeline.cursor()
    cursor.execute(
        "SELECT SUM(deliveries), SUM(events), SUM(events_without_job), SUM(events_unparseable_ts), "
        "SUM(events_unclassified_track) FROM tracking_quality_daily"
    )
    deliveries, events, without_job, unparseable, unclassified = (float(value) for value in cursor.fetchone())
    pipeline.close()
    assert events == len(RAW) + len(UNPARSEABLE) and unparseable == len(UNPARSEABLE)
    assert as_dict(found["Data quality in the time range"]) == {
        "deliveries": deliveries, "events": events, "counted": events - without_job - unparseable - unclassified,
        "not_counted": without_job + unparseable + unclassified,
    }  # fmt: skip
    not_counted = found["Events not counted, per arrival day"]
    assert sum(float(value) for value in not_counted.column("unparseable_ts")) == len(UNPARSEABLE)
    assert sum(float(value) for value in not_counted.column("without_job")) == without_job > 0
