"""The Grafana alert rules as data: load ``grafana/provisioning/alerting/`` as Grafana's provisioning reads it
(every string of a rule but its annotations interpolated from the environment, ``$$`` a literal ``$``), run a
rule's queries as the alerting engine runs them (the SQL expanded by :mod:`jobpulse.dashboards` over the
query's relative time range) and evaluate its condition, so tests check the very rules Grafana evaluates.

A rule is one SQL query of one row and one numeric column (or no row: no data) and a math expression
``$<refId> <op> <number>`` as its condition; the evaluation supports that shape and refuses any other.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from jobpulse import dashboards

if TYPE_CHECKING:
    from mysql.connector.abstracts import MySQLConnectionAbstract

ALERTING_DIR = dashboards.PROVISIONING_DIR / "alerting"
EXPRESSION_DATASOURCE = "__expr__"  # Grafana's server-side expressions (math, reduce, threshold)

# Go's os.Expand: ${name}, $name (letters, digits, underscores), or one of the shell's special characters
_ENV_VARIABLE = re.compile(r"\$(?:\{([^}]*)\}|([*#$@!?\-0-9])|(\w+))")
_MATH_CONDITION = re.compile(r"^\s*\$\{?(\w+)\}?\s*(>=|<=|==|!=|>|<)\s*(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*$")
_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq, "!=": operator.ne,
}  # fmt: skip
# What a rule's state is when its query returns no row (noDataState), as the alert's state
_NO_DATA_STATES = {"Alerting": "Alerting", "NoData": "NoData", "OK": "Normal", "KeepLast": "NoData"}


def provisioning_value(text: str, env: Mapping[str, str]) -> str:
    """A string of a provisioning file as Grafana reads it (pkg/services/provisioning/values): ``$$`` is a
    literal ``$``; every other ``$VAR`` or ``${VAR}`` is the environment's value, empty when unset."""
    if "$__env{" in text or "$__file{" in text or "$__vault{" in text:
        raise ValueError(f"Grafana's $__env/$__file/$__vault expanders are not supported here: {text!r}")

    def expand(part: str) -> str:
        return _ENV_VARIABLE.sub(lambda match: env.get(next(filter(None, match.groups()), ""), ""), part)

    return "$".join(expand(part) for part in text.split("$$"))


def _interpolated(value: Any, env: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return provisioning_value(value, env)
    if isinstance(value, list):
        return [_interpolated(item, env) for item in value]
    if isinstance(value, dict):
        return {key: _interpolated(item, env) for key, item in value.items()}
    return value


def rule_files() -> list[Path]:
    return sorted(ALERTING_DIR.glob("*.yaml"))


def load_rules(env: Mapping[str, str]) -> list[dict[str, Any]]:
    """Every alert rule of every group, interpolated from ``env`` as Grafana provisions it (annotations stay as
    written: Grafana renders them as templates when the alert fires), each with its group's name."""
    rules = []
    for path in rule_files():
        for group in yaml.safe_load(path.read_text()).get("groups", []):
            for rule in group["rules"]:
                annotations = rule.get("annotations", {})
                rules.append({**_interpolated(rule, env), "annotations": annotations, "group": group["name"]})
    return rules


def query_value(connection: MySQLConnectionAbstract, query: Mapping[str, Any], now: datetime) -> float | None:
    """The number one of a rule's SQL queries returns over its time range ending ``now`` (None: no row)."""
    relative = query["relativeTimeRange"]
    time_range = dashboards.TimeRange(
        now - timedelta(seconds=relative["from"]), now - timedelta(seconds=relative["to"])
    )
    result = dashboards.run(connection, dashboards.expand(query["model"]["rawSql"], time_range))
    if not result.rows:
        return None
    ((value,),) = result.rows  # the alerting engine takes one row of one number as a single value
    return None if value is None else float(value)


def condition_holds(expression: str, values: Mapping[str, float]) -> bool:
    """A math expression ``$A > 3600`` (the only shape the rules use) on the queries' values."""
    match = _MATH_CONDITION.match(expression)
    if not match:
        raise ValueError(f"math expression {expression!r} is not `$<refId> <comparison> <number>`")
    reference, comparison, threshold = match.groups()
    value = values[reference]
    return not math.isnan(value) and _COMPARISONS[comparison](value, float(threshold))


def evaluate(connection: MySQLConnectionAbstract, rule: Mapping[str, Any], now: datetime) -> str:
    """The rule's state at ``now`` before its pending period: Alerting, Normal, or NoData (as its noDataState
    maps a query without rows)."""
    queries = {query["refId"]: query for query in rule["data"]}
    values = {}
    for reference, query in queries.items():
        if query["datasourceUid"] == EXPRESSION_DATASOURCE:
            continue
        value = query_value(connection, query, now)
        if value is None:
            return _NO_DATA_STATES[rule.get("noDataState", "NoData")]
        values[reference] = value
    condition = queries[rule["condition"]]["model"]
    if condition.get("type") != "math":
        raise ValueError(f"rule {rule['uid']}: its condition is a {condition.get('type')} expression, not math")
    return "Alerting" if condition_holds(condition["expression"], values) else "Normal"
