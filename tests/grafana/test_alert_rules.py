"""The Grafana alert rules: their provisioning file as Grafana 12.2 reads it (checked without a Grafana), and
their SQL, expanded as the alerting engine expands it and run as the read-only account, against the marts of a
stale pipeline (every rule fires) and of a fresh one (none does), with the thresholds' default settings."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from jobpulse import alerts, dashboards, dbt
from jobpulse.clients import mysql_connect
from jobpulse.config import OPTIONS, PROJECT_ROOT, Settings
from tests.pipeline.namespace import isolated_pipeline

DEFAULTS = {option.env: option.default for option in OPTIONS.values()}
RULES = alerts.load_rules(DEFAULTS)
SQL_QUERIES = [query for rule in RULES for query in rule["data"] if query["datasourceUid"] != "__expr__"]
COMPOSE = PROJECT_ROOT / "docker" / "docker-compose.yml"


# --- the file ---------------------------------------------------------------------------------------------------


def test_the_five_alerts_are_provisioned():
    assert [rule["uid"] for rule in RULES] == [
        "jobpulse-events-stale", "jobpulse-no-successful-run", "jobpulse-dead-letter-rate", "jobpulse-collector-lag",
        "jobpulse-collector-silent",
    ]  # fmt: skip


@pytest.mark.parametrize("rule", RULES, ids=[rule["uid"] for rule in RULES])
def test_a_rule_is_one_query_and_a_math_condition_on_it(rule: dict[str, Any]):
    references = [query["refId"] for query in rule["data"]]
    assert len(set(references)) == len(references)
    assert rule["condition"] in references
    (datasource,) = yaml.safe_load((dashboards.PROVISIONING_DIR / "datasources" / "mysql.yaml").read_text())[
        "datasources"
    ]
    for query in rule["data"]:
        assert query["model"]["refId"] == query["refId"]
        if query["datasourceUid"] == alerts.EXPRESSION_DATASOURCE:
            assert query["model"]["type"] == "math"
            named = set(re.findall(r"\$\{?(\w+)", query["model"]["expression"]))
            assert named and named <= set(references) - {query["refId"]}, "the expression reads the other queries"
        else:
            assert query["datasourceUid"] == datasource["uid"] == dashboards.DATASOURCE_UID
            assert query["model"]["format"] == "table" and query["model"]["rawQuery"]
            assert query["relativeTimeRange"]["from"] > query["relativeTimeRange"]["to"] >= 0
    assert rule["noDataState"] in ("Alerting", "NoData", "OK", "KeepLast")
    assert rule["execErrState"] in ("Alerting", "Error", "OK", "KeepLast")
    assert re.fullmatch(r"\d+[smh]", rule["for"])
    assert rule["annotations"]["summary"] and rule["labels"]["severity"] in ("critical", "warning")
    board = dashboards.load(rule["dashboardUid"])
    assert rule["panelId"] in [panel["id"] for panel in dashboards.panels(board)]


def test_the_rules_live_in_the_dashboards_folder():
    (provider,) = yaml.safe_load((dashboards.PROVISIONING_DIR / "dashboards" / "jobpulse.yaml").read_text())[
        "providers"
    ]
    for path in alerts.rule_files():
        document = yaml.safe_load(path.read_text())
        assert document["apiVersion"] == 1
        assert {group["folder"] for group in document["groups"]} == {provider["folder"]}


def test_every_threshold_is_a_setting_that_grafana_gets_with_its_default():
    """Grafana reads the thresholds from its environment, which the compose file fills with the defaults."""
    text = "".join(path.read_text() for path in alerts.rule_files()).replace("$$", "")
    thresholds = set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", text))
    assert thresholds == {"JOBPULSE_ALERT_EVENTS_AGE", "JOBPULSE_ALERT_SUCCESS_AGE", "JOBPULSE_ALERT_DEAD_LETTER_RATE",
                          "JOBPULSE_ALERT_COLLECTOR_LAG", "JOBPULSE_ALERT_COLLECTOR_SILENCE"}  # fmt: skip
    passed = dict(re.findall(r"(JOBPULSE_ALERT_\w+): \$\{\1:-([^}]*)\}", COMPOSE.read_text()))
    assert passed == {name: DEFAULTS[name] for name in thresholds}


def test_the_sql_reaches_the_data_source_with_its_dollars():
    """No query reads the environment (a bare `$__timeFilter` would be emptied): each `$$` is the `$` of a macro
    or a JSON path, and the rest is as written."""
    for path in alerts.rule_files():
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                for query in rule["data"]:
                    if sql := query["model"].get("rawSql"):
                        assert alerts.provisioning_value(sql, {}) == sql.replace("$$", "$")


def test_provisioning_interpolates_as_grafana_does():
    env = {"LIMIT": "60", "B": "2"}
    assert alerts.provisioning_value("$$A > ${LIMIT}", env) == "$A > 60"
    assert alerts.provisioning_value("$$A > $LIMIT", env) == "$A > 60"
    assert alerts.provisioning_value("$B$$B", env) == "2$B"
    assert alerts.provisioning_value("$UNSET and ${UNSET} and ${}", env) == " and  and "
    assert alerts.provisioning_value("JSON_VALUE(x, '$.a') + $1", env) == "JSON_VALUE(x, '$.a') + "
    with pytest.raises(ValueError, match="expanders"):
        alerts.provisioning_value("$__file{/etc/secret}", env)


def test_a_condition_compares_a_value_with_a_number():
    assert alerts.condition_holds("$A > 5400", {"A": 5401})
    assert not alerts.condition_holds("$A > 5400", {"A": 5400})
    assert alerts.condition_holds("${A} <= 0.01", {"A": 0.01})
    assert not alerts.condition_holds("$A > 1", {"A": float("nan")})
    for unsupported in ("$A > $B", "abs($A) > 1", "$A >", "$A > ${JOBPULSE_ALERT_X}"):
        with pytest.raises(ValueError, match="is not"):
            alerts.condition_holds(unsupported, {"A": 1, "B": 2})


# --- the SQL, on a stale pipeline and a fresh one ---------------------------------------------------------------


@pytest.fixture(scope="module")
def marts(settings: Settings) -> Iterator[Settings]:
    """A namespace's serving database, its dbt models built (no run yet)."""
    with isolated_pipeline(settings, "alerts") as namespaced:
        dbt.run_models(namespaced, dbt.WAREHOUSE)
        yield namespaced


def write(
    settings: Settings,
    facts_hours: list[datetime],
    runs: list[dict[str, Any]],
    collectors: list[dict[str, Any]],
) -> None:
    """Fact cells at the given hours (then the warehouse models, as a run ends), the recorded runs and the
    collectors' reports, replacing the previous ones. A collector is its last report's time, whether it stopped
    cleanly, its lag then, and its samples as (minutes ago, consumed, dead-lettered)."""
    connection = mysql_connect(settings)
    try:
        cursor = connection.cursor()
        for table in ("pipeline_runs", "collector_instances", "collector_samples"):
            cursor.execute(f"DELETE FROM {table}")
        for hour in facts_hours:
            cursor.execute(
                "INSERT INTO job_hourly_facts VALUES (1, %s, %s, 1, 1, 1, 3, 1.5, 0.5, 1, 0, 0, 1, UTC_TIMESTAMP(6))",
                (hour.date(), hour.hour),
            )
        for number, run in enumerate(runs):
            cursor.execute(
                "INSERT INTO pipeline_runs (run_id, started_at, finished_at, status, events_collected, "
                "events_dead_lettered, step_seconds) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    f"run{number}",
                    run["started"].replace(tzinfo=None),
                    run["started"].replace(tzinfo=None) + timedelta(seconds=35),
                    run["status"],
                    run["collected"],
                    run["dead_lettered"],
                    json.dumps({"collect": 5}),
                ),
            )
        for number, collector in enumerate(collectors):
            reported = collector["reported"].replace(tzinfo=None)
            samples = [
                (reported - timedelta(minutes=ago), consumed, dead) for ago, consumed, dead in collector["samples"]
            ]
            consumed, dead_lettered = sum(sample[1] for sample in samples), sum(sample[2] for sample in samples)
            cursor.execute(
                "INSERT INTO collector_instances VALUES (%s, 'jobpulse-collector', 'tracking', 'host', %s, 'service', "
                "%s, %s, %s, %s, %s, %s, '{}', 1, 0, %s)",
                (
                    f"collector{number}", number, reported - timedelta(hours=2), reported,
                    reported if collector["stopped"] else None, consumed, consumed - dead_lettered, dead_lettered,
                    collector["lag"],
                ),
            )  # fmt: skip
            for at, consumed, dead_lettered in samples:
                cursor.execute(
                    "INSERT INTO collector_samples VALUES (%s, %s, %s, %s, %s, %s)",
                    (f"collector{number}", at, consumed, consumed - dead_lettered, dead_lettered, collector["lag"]),
                )
        connection.commit()
    finally:
        connection.close()
    dbt.run_models(settings, dbt.WAREHOUSE)


def states(settings: Settings) -> dict[str, str]:
    connection = dashboards.connect(settings)  # the read-only account in a UTC session, as the data source
    try:
        now = datetime.now(UTC)
        return {rule["uid"]: alerts.evaluate(connection, rule, now) for rule in RULES}
    finally:
        connection.close()


def test_the_rules_fire_for_a_stale_pipeline_and_not_for_a_fresh_one(marts: Settings):
    every = {rule["uid"] for rule in RULES}
    assert states(marts) == {
        "jobpulse-events-stale": "Alerting",  # no event at all, no run at all: as stale as can be
        "jobpulse-no-successful-run": "Alerting",
        "jobpulse-dead-letter-rate": "Normal",  # nothing collected: no rate to judge
        "jobpulse-collector-lag": "Normal",  # no collector ever reported: the staleness rules speak
        "jobpulse-collector-silent": "Normal",
    }

    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    stale_runs = [{"started": now - timedelta(hours=3), "status": "success", "collected": 900, "dead_lettered": 0}]
    # the collector last reported 10 minutes ago, far behind, after an hour that dead-lettered a third of its
    # messages; one that stopped cleanly before it does not count
    stale_collectors = [
        {"reported": datetime.now(UTC) - timedelta(minutes=40), "stopped": True, "lag": 0, "samples": [(0, 10, 0)]},
        {"reported": datetime.now(UTC) - timedelta(minutes=10), "stopped": False, "lag": 900_000,
         "samples": [(50, 50, 20), (20, 40, 10), (0, 60, 20)]},
    ]  # fmt: skip
    write(marts, [now - timedelta(hours=10)], stale_runs, stale_collectors)
    assert states(marts) == dict.fromkeys(every, "Alerting")

    fresh_runs = [{"started": datetime.now(UTC) - timedelta(minutes=2), "status": "success", "collected": 10_000,
                   "dead_lettered": 5}]  # fmt: skip
    # the dead one of before, now succeeded by a collector that reports, keeps up, and dead-letters little
    fresh_collectors = [
        stale_collectors[1],
        {"reported": datetime.now(UTC) - timedelta(seconds=5), "stopped": False, "lag": 40,
         "samples": [(0, 5000, 2), (1, 5000, 3)]},
    ]  # fmt: skip
    write(marts, [now], fresh_runs, fresh_collectors)
    assert states(marts) == dict.fromkeys(every, "Normal")

    # a cleanly stopped collector is not silent (a deliberate stop); its report still counts for the rate
    fresh_collectors[1]["stopped"] = True
    write(marts, [], fresh_runs, fresh_collectors)  # the fact cell of before stays
    assert states(marts)["jobpulse-collector-silent"] == "Normal"
    assert states(marts)["jobpulse-collector-lag"] == "Normal"
