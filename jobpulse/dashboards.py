"""The Grafana dashboards as data: load the JSON kept under review in ``grafana/dashboards/`` and turn a panel's SQL
into the statement Grafana's MySQL data source sends, so tests and ``jobpulse report`` run the very queries the
dashboards run instead of copies that could drift from them.

Grafana expands a query in two passes, and so does :func:`expand`: the browser interpolates template variables
(``$var``, ``${var}``, ``${var:format}``; a multi-value or All selection becomes quoted, comma-joined literals,
but All becomes a variable's custom ``allValue`` as written when it has one), then the server expands the SQL
macros (pkg/tsdb/mysql/macros.go: ``$__timeFilter(col)`` becomes ``col BETWEEN FROM_UNIXTIME(from) AND
FROM_UNIXTIME(to)``, ``$__timeGroupAlias(col, 1h)`` becomes ``UNIX_TIMESTAMP(col) DIV 3600 * 3600 AS "time"``,
...). The provisioned data source sets the session time zone to UTC, which
:func:`connect` does too: FROM_UNIXTIME and UNIX_TIMESTAMP depend on it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jobpulse.config import PROJECT_ROOT, Settings

if TYPE_CHECKING:
    from mysql.connector.abstracts import MySQLConnectionAbstract

DASHBOARDS_DIR = PROJECT_ROOT / "grafana" / "dashboards"
PROVISIONING_DIR = PROJECT_ROOT / "grafana" / "provisioning"
DATASOURCE_UID = "jobpulse-mysql"
SESSION_TIME_ZONE = "+00:00"  # jsonData.timezone of grafana/provisioning/datasources/mysql.yaml

ALL = "$__all"
_MACRO = re.compile(r"\$([_a-zA-Z0-9]+)\(([^)]*)\)")  # Grafana's sExpr: arguments cannot hold a ")"
_VARIABLE = re.compile(r"\$\{(\w+)(?::([^}]+))?\}|\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]")  # templateSrv's regex
_INTERVAL = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_INTERVAL_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def utc(moment: datetime) -> datetime:
    """``moment`` as a timezone-aware instant: a naive one is taken as UTC (the session time zone)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@dataclass(frozen=True)
class TimeRange:
    """The dashboard's time picker: two instants (timezone-aware; naive ones are taken as UTC)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            object.__setattr__(self, name, utc(getattr(self, name)))
        if self.end < self.start:
            raise ValueError(f"time range ends before it starts: {self.start} .. {self.end}")

    @property
    def from_unix(self) -> int:
        return math.floor(self.start.timestamp())  # Go's Time.Unix() floors

    @property
    def to_unix(self) -> int:
        return math.floor(self.end.timestamp())


@dataclass(frozen=True)
class Variable:
    """A template variable's current value, with the two flags that decide how Grafana formats it for SQL."""

    name: str
    value: str | list[str]
    multi: bool = False
    include_all: bool = False
    options: tuple[tuple[str, str], ...] = ()  # (text, value) pairs its query returned
    all_value: str | None = None  # the custom value All stands for, instead of every option's


@dataclass(frozen=True)
class Result:
    columns: list[str]
    rows: list[tuple[Any, ...]]

    def column(self, name: str) -> list[Any]:
        index = self.columns.index(name)
        return [row[index] for row in self.rows]


# --- loading ----------------------------------------------------------------------------------------------------


def dashboard_files() -> list[Path]:
    return sorted(DASHBOARDS_DIR.glob("*.json"))


def load(name: str) -> dict[str, Any]:
    """A dashboard by file stem (``job_performance``) or by uid."""
    path = DASHBOARDS_DIR / f"{name}.json"
    if path.is_file():
        return json.loads(path.read_text())
    for candidate in dashboard_files():
        dashboard = json.loads(candidate.read_text())
        if dashboard.get("uid") == name:
            return dashboard
    raise ValueError(f"no dashboard {name!r} in {DASHBOARDS_DIR}")


def panels(dashboard: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel that queries, including those inside collapsed rows."""
    for panel in dashboard.get("panels", []):
        if panel.get("type") == "row":
            yield from (nested for nested in panel.get("panels", []) if nested.get("targets"))
        elif panel.get("targets"):
            yield panel


def panel(dashboard: Mapping[str, Any], title: str) -> dict[str, Any]:
    for candidate in panels(dashboard):
        if candidate["title"] == title:
            return candidate
    raise KeyError(f"no panel {title!r} in dashboard {dashboard.get('uid')}")


def variable_query(variable: Mapping[str, Any]) -> str:
    """The SQL of a query variable (a plain string, or the object newer Grafana versions save)."""
    query = variable.get("query")
    return query.get("rawSql") or query.get("query", "") if isinstance(query, dict) else str(query or "")


# --- expansion --------------------------------------------------------------------------------------------------


def _quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def format_value(value: str | list[str], variable: Variable, fmt: str | None = None) -> str:
    """One variable's value as Grafana writes it into SQL: with no format, the SQL data sources'
    interpolateVariable (multi-value or All: quoted literals joined by commas); else the named format."""
    values = value if isinstance(value, list) else [value]
    if fmt is None:
        if isinstance(value, list):
            return ",".join(_quote_literal(item) for item in value)
        if variable.multi or variable.include_all:
            return _quote_literal(value)
        return value.replace("'", "''")
    if fmt in ("csv", "raw"):
        return ",".join(values)
    if fmt == "pipe":
        return "|".join(values)
    if fmt == "sqlstring":
        return ",".join(_quote_literal(item) for item in values)
    if fmt == "singlequote":
        return ",".join("'" + item.replace("'", "\\'") + "'" for item in values)
    if fmt == "doublequote":
        return ",".join('"' + item.replace('"', '\\"') + '"' for item in values)
    raise ValueError(f"variable format {fmt!r} is not supported")


def interpolate(sql: str, variables: Mapping[str, Variable]) -> str:
    """Replace template variables; names that are not variables (macros such as ``$__timeFilter``, JSON paths
    such as ``$.collect``) stay as they are, as in Grafana."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3) or match.group(4)
        fmt = match.group(2) or match.group(5)
        variable = variables.get(name)
        if variable is None:
            return match.group(0)
        value: str | list[str] = variable.value
        if value == ALL or value == [ALL]:
            if variable.all_value:  # templateSrv skips formatting a custom all value and interpolates it in turn
                return interpolate(variable.all_value, variables)
            value = [option_value for _, option_value in variable.options]
        return format_value(value, variable, fmt)

    return _VARIABLE.sub(replace, sql)


def _interval_seconds(text: str) -> float:
    match = _INTERVAL.match(text.strip("'\""))
    if not match:
        raise ValueError(f"error parsing interval {text}")
    return float(match.group(1)) * _INTERVAL_SECONDS[match.group(2)]


def _go_float(value: float) -> str:
    """Go's ``%v`` for a float64 (strconv 'g' with the shortest digits), as macros.go prints epoch intervals."""
    if value == 0:
        return "0"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)
    count, point = len(digits), len(digits) + exponent  # digits and the decimal point's position
    precision = count if 6 > count >= point else 6
    text = "".join(map(str, digits))
    if point - 1 < -4 or point - 1 >= precision:
        mantissa = text[0] + ("." + text[1:] if count > 1 else "")
        text = f"{mantissa}e{'-' if point - 1 < 0 else '+'}{abs(point - 1):02d}"
    elif point <= 0:
        text = "0." + "0" * -point + text
    elif point < count:
        text = text[:point] + "." + text[point:]
    else:
        text = text + "0" * (point - count)
    return ("-" if sign else "") + text


def _unix_nanos(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000


def _macro(name: str, args: list[str], time_range: TimeRange) -> str:
    start, end = time_range.from_unix, time_range.to_unix
    if name in ("__time", "__timeEpoch"):
        return f"UNIX_TIMESTAMP({args[0]}) as time_sec"
    if name == "__timeFilter":
        if start < 0:
            return f"{args[0]} BETWEEN DATE_ADD(FROM_UNIXTIME(0), INTERVAL {start} SECOND) AND FROM_UNIXTIME({end})"
        return f"{args[0]} BETWEEN FROM_UNIXTIME({start}) AND FROM_UNIXTIME({end})"
    if name == "__timeFrom":
        return f"FROM_UNIXTIME({start})"
    if name == "__timeTo":
        return f"FROM_UNIXTIME({end})"
    if name in ("__timeGroup", "__timeGroupAlias", "__unixEpochGroup", "__unixEpochGroupAlias"):
        if len(args) < 2:
            raise ValueError(f"macro {name} needs time column and interval")
        seconds = _interval_seconds(args[1])  # a third argument (fill) changes Grafana's result frames, not SQL
        if name.startswith("__timeGroup"):
            expression = f"UNIX_TIMESTAMP({args[0]}) DIV {seconds:.0f} * {seconds:.0f}"
        else:
            expression = f"{args[0]} DIV {_go_float(seconds)} * {_go_float(seconds)}"
        return expression + (' AS "time"' if name.endswith("Alias") else "")
    if name == "__unixEpochFilter":
        return f"{args[0]} >= {start} AND {args[0]} <= {end}"
    nano_from, nano_to = _unix_nanos(time_range.start), _unix_nanos(time_range.end)
    if name == "__unixEpochNanoFilter":
        return f"{args[0]} >= {nano_from} AND {args[0]} <= {nano_to}"
    if name == "__unixEpochNanoFrom":
        return str(nano_from)
    if name == "__unixEpochNanoTo":
        return str(nano_to)
    raise ValueError(f"unknown macro {name}")


def expand_macros(sql: str, time_range: TimeRange) -> str:
    """The server-side pass: sqleng's plain replacements, then the MySQL macro engine."""
    if "$__interval" in sql:
        raise ValueError("$__interval depends on the panel's width: use a fixed interval")
    sql = sql.replace("$__unixEpochFrom()", str(time_range.from_unix))
    sql = sql.replace("$__unixEpochTo()", str(time_range.to_unix))
    return _MACRO.sub(
        lambda match: _macro(match.group(1), [arg.strip(" ") for arg in match.group(2).split(",")], time_range), sql
    )


def expand(sql: str, time_range: TimeRange, variables: Mapping[str, Variable] | None = None) -> str:
    """A panel's raw SQL as the data source runs it: variables first (browser), then macros (server)."""
    return expand_macros(interpolate(sql, variables or {}), time_range)


# --- running ----------------------------------------------------------------------------------------------------


def connect(settings: Settings) -> MySQLConnectionAbstract:
    """The read-only account in a UTC session, as the provisioned data source connects."""
    from jobpulse.clients import mysql_connect

    return mysql_connect(settings, readonly=True, time_zone=SESSION_TIME_ZONE)


def run(connection: MySQLConnectionAbstract, sql: str) -> Result:
    cursor = connection.cursor()
    try:
        cursor.execute(sql)
        columns = [description[0] for description in cursor.description]
        return Result(columns, [tuple(row) for row in cursor.fetchall()])
    finally:
        cursor.close()


def _text(value: Any) -> str:
    """A variable option as Grafana's data frames turn it into text (a whole float prints without ``.0``)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, bytes | bytearray):
        return value.decode()
    return str(value)


def resolve_variables(
    connection: MySQLConnectionAbstract,
    dashboard: Mapping[str, Any],
    time_range: TimeRange,
    selections: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Variable]:
    """Run each query variable's query in order (later ones see the earlier ones, as chained variables do) and
    select its saved default, which for these dashboards is All; ``selections`` picks values instead."""
    resolved: dict[str, Variable] = {}
    for definition in dashboard.get("templating", {}).get("list", []):
        if definition.get("type") != "query":
            raise ValueError(f"variable {definition.get('name')}: only query variables are supported")
        name = definition["name"]
        result = run(connection, expand(variable_query(definition), time_range, resolved))
        value_column = result.columns.index("__value") if "__value" in result.columns else 0
        text_column = result.columns.index("__text") if "__text" in result.columns else value_column
        options = tuple((_text(row[text_column]), _text(row[value_column])) for row in result.rows)
        multi, include_all = bool(definition.get("multi")), bool(definition.get("includeAll"))
        if selections and name in selections:
            value: str | list[str] = list(selections[name]) if multi else selections[name][0]
        else:
            current = definition.get("current", {}).get("value", ALL if include_all else "")
            value = current if isinstance(current, str) else list(current)
        resolved[name] = Variable(name, value, multi, include_all, options, definition.get("allValue") or None)
    return resolved


def run_panel(
    connection: MySQLConnectionAbstract,
    panel_definition: Mapping[str, Any],
    time_range: TimeRange,
    variables: Mapping[str, Variable],
) -> list[Result]:
    """Every target of one panel, expanded and run."""
    return [
        run(connection, expand(target["rawSql"], time_range, variables))
        for target in panel_definition["targets"]
        if not target.get("hide")
    ]
