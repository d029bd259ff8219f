"""The dashboards and their provisioning as files: what Grafana 12.2 loads at start, checked without a Grafana.
Every panel and variable reads the provisioned data source; every table the SQL reads is a dbt model, and the
dashboard's exposure names each."""

from __future__ import annotations

import itertools
import re
from datetime import datetime
from typing import Any

import pytest
import yaml

from jobpulse import dashboards
from jobpulse.config import PROJECT_ROOT

DBT = PROJECT_ROOT / "dbt_project" / "warehouse"
BOARDS = {path.stem: dashboards.load(path.stem) for path in dashboards.dashboard_files()}
RANGE = dashboards.TimeRange(datetime(2026, 11, 20), datetime(2026, 11, 21))
ALL_VALUE = "'__all__'"  # each variable's custom all value: All means no filter, whatever the options
EVENT_FILTERS = tuple(f"({ALL_VALUE} IN (${name}) OR {column} IN (${name}))" for name, column in (
    ("company", "COALESCE(e.company_id, 0)"), ("job", "e.job_id"), ("publisher", "e.publisher_id"),
    ("campaign", "e.campaign_id"),
))  # fmt: skip


def provisioning(kind: str) -> dict[str, Any]:
    (path,) = (PROJECT_ROOT / "grafana" / "provisioning" / kind).glob("*.yaml")
    return yaml.safe_load(path.read_text())


def queries(board: dict[str, Any]) -> list[str]:
    """The SQL of every panel target and every variable."""
    panel_sql = [target["rawSql"] for panel in dashboards.panels(board) for target in panel["targets"]]
    return panel_sql + [dashboards.variable_query(variable) for variable in board["templating"]["list"]]


def test_both_dashboards_are_there_with_their_uids():
    assert {name: board["uid"] for name, board in BOARDS.items()} == {
        "job_performance": "jobpulse-job-performance",
        "pipeline_health": "jobpulse-pipeline-health",
    }


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_dashboard_model_is_grafana_12(name: str):
    board = BOARDS[name]
    # Grafana 12.2 migrates older models up on load; v41 needs none of its hideFrom (v42) rewriting.
    assert board["schemaVersion"] == 41
    assert "id" not in board or board["id"] is None, "provisioned dashboards get their id from Grafana"
    assert board["time"] == {"from": "now-7d", "to": "now"} and board["timezone"] == "utc"
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids)), "panel ids are unique"


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_panels_fill_the_grid_without_overlapping(name: str):
    cells: dict[tuple[int, int], str] = {}
    for panel in BOARDS[name]["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        for cell in itertools.product(range(grid["x"], grid["x"] + grid["w"]), range(grid["y"], grid["y"] + grid["h"])):
            assert cell not in cells, f"{panel['title']} overlaps {cells.get(cell)}"
            cells[cell] = panel["title"]


def test_the_datasource_is_provisioned_read_only_with_credentials_from_the_environment():
    config = provisioning("datasources")
    assert config["apiVersion"] == 1
    (source,) = config["datasources"]
    assert source["uid"] == dashboards.DATASOURCE_UID and source["type"] == "mysql"
    assert source["user"] == "$JOBPULSE_MYSQL_READONLY_USER"
    assert source["secureJsonData"] == {"password": "$JOBPULSE_MYSQL_READONLY_PASSWORD"}
    assert source["jsonData"]["database"] == "$JOBPULSE_MYSQL_DATABASE"
    assert source["jsonData"]["timezone"] == dashboards.SESSION_TIME_ZONE, "the tests' sessions match Grafana's"
    assert source["editable"] is False


def test_the_dashboard_provider_reads_the_mounted_folder():
    (provider,) = provisioning("dashboards")["providers"]
    assert provider["type"] == "file" and provider["allowUiUpdates"] is False
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"  # compose mounts grafana/dashboards there


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_every_panel_and_variable_reads_the_provisioned_datasource(name: str):
    board = BOARDS[name]
    expected = {"type": "mysql", "uid": dashboards.DATASOURCE_UID}
    assert provisioning("datasources")["datasources"][0]["uid"] == expected["uid"]
    for panel in dashboards.panels(board):
        assert panel["datasource"] == expected, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == expected and target["rawQuery"] and target["editorMode"] == "code"
            assert target["format"] in ("table", "time_series")
    for variable in board["templating"]["list"]:
        assert variable["datasource"] == expected, variable["name"]


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_every_query_expands(name: str):
    variables = {
        variable["name"]: dashboards.Variable(variable["name"], ["1"], multi=True, include_all=True)
        for variable in BOARDS[name]["templating"]["list"]
    }
    for sql in queries(BOARDS[name]):
        expanded = dashboards.expand(sql, RANGE, variables)
        assert not re.search(r"\$(?!\.)", expanded), f"left unexpanded: {expanded}"


def test_the_job_dashboard_range_and_every_variable_filter_every_events_query():
    board = BOARDS["job_performance"]
    names = [variable["name"] for variable in board["templating"]["list"]]
    assert names == ["company", "job", "publisher", "campaign"]
    for variable in board["templating"]["list"]:
        assert variable["multi"] and variable["includeAll"] and variable["current"]["value"] == ["$__all"]
        assert variable["allValue"] == ALL_VALUE, "All is no filter, not every option: a range without events has none"
        assert variable["refresh"] == 2, "options follow the time range"
        assert "$__timeFilter(e.dates + INTERVAL e.hours HOUR)" in dashboards.variable_query(variable)
    for panel in dashboards.panels(board):
        (target,) = panel["targets"]
        sql = target["rawSql"]
        assert "$__timeFrom()" in sql and "$__timeTo()" in sql, panel["title"]
        if "FROM events" in sql:
            assert "$__timeFilter(e.dates + INTERVAL e.hours HOUR)" in sql, panel["title"]
            assert all(condition in sql for condition in EVENT_FILTERS), panel["title"]
        if target["format"] == "time_series" and "FROM events" in sql:
            assert "$__timeGroupAlias(e.dates + INTERVAL e.hours HOUR, 1h)" in sql, panel["title"]


def dbt_models() -> set[str]:
    return {path.stem for path in (DBT / "models").rglob("*.sql")}


def exposures() -> dict[str, dict[str, Any]]:
    path = DBT / "models" / "marts" / "_warehouse__exposures.yml"
    return {exposure["url"].rsplit("/d/", 1)[1]: exposure for exposure in yaml.safe_load(path.read_text())["exposures"]}


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_each_dashboard_is_a_dbt_exposure_of_exactly_the_tables_it_reads(name: str):
    board = BOARDS[name]
    exposure = exposures()[board["uid"]]
    assert exposure["type"] == "dashboard" and exposure["url"] == f"http://localhost:3000/d/{board['uid']}"
    tables = {table for sql in queries(board) for table in re.findall(r"\b(?:FROM|JOIN)\s+([a-z_]+)", sql)}
    assert tables <= dbt_models(), "a dashboard reads dbt models only, never a source"
    assert set(exposure["depends_on"]) == {f"ref('{table}')" for table in tables}
