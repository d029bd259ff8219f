"""jobpulse.dashboards expands SQL exactly as Grafana's MySQL data source does; the expected strings are the
outputs of Grafana's own code (pkg/tsdb/mysql/macros.go, the SQL data sources' interpolateVariable) for the same
inputs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from jobpulse.dashboards import TimeRange, Variable, expand, expand_macros, interpolate

# 2017-04-21 05:01:17 UTC to 2017-04-21 05:06:17 UTC, the instants of Grafana's macros tests
RANGE = TimeRange(datetime(2017, 4, 21, 5, 1, 17, tzinfo=UTC), datetime(2017, 4, 21, 5, 6, 17, tzinfo=UTC))
FROM, TO = 1492750877, 1492751177


@pytest.mark.parametrize(
    ("sql", "expanded"),
    [
        (
            "WHERE $__timeFilter(time_column)",
            f"WHERE time_column BETWEEN FROM_UNIXTIME({FROM}) AND FROM_UNIXTIME({TO})",
        ),
        (
            "WHERE $__timeFilter(e.dates + INTERVAL e.hours HOUR)",
            f"WHERE e.dates + INTERVAL e.hours HOUR BETWEEN FROM_UNIXTIME({FROM}) AND FROM_UNIXTIME({TO})",
        ),
        ("SELECT $__timeGroup(time_column,'5m')", "SELECT UNIX_TIMESTAMP(time_column) DIV 300 * 300"),
        ("SELECT $__timeGroup(time_column, 1h, 0)", "SELECT UNIX_TIMESTAMP(time_column) DIV 3600 * 3600"),
        ("SELECT $__timeGroupAlias(time_column, 1h)", 'SELECT UNIX_TIMESTAMP(time_column) DIV 3600 * 3600 AS "time"'),
        ('SELECT $__timeGroupAlias(d, "1d")', 'SELECT UNIX_TIMESTAMP(d) DIV 86400 * 86400 AS "time"'),
        ("SELECT $__time(time_column)", "SELECT UNIX_TIMESTAMP(time_column) as time_sec"),
        ("SELECT $__timeEpoch(time_column)", "SELECT UNIX_TIMESTAMP(time_column) as time_sec"),
        (
            "WHERE t >= $__timeFrom() AND t <= $__timeTo()",
            f"WHERE t >= FROM_UNIXTIME({FROM}) AND t <= FROM_UNIXTIME({TO})",
        ),
        ("WHERE DATE($__timeFrom()) <= d", f"WHERE DATE(FROM_UNIXTIME({FROM})) <= d"),
        ("WHERE $__unixEpochFilter(time)", f"WHERE time >= {FROM} AND time <= {TO}"),
        ("WHERE $__unixEpochNanoFilter(t)", f"WHERE t >= {FROM}000000000 AND t <= {TO}000000000"),
        ("SELECT $__unixEpochFrom(), $__unixEpochTo()", f"SELECT {FROM}, {TO}"),
        ("SELECT $__unixEpochGroup(t, 5m)", "SELECT t DIV 300 * 300"),
        ("SELECT $__unixEpochGroupAlias(t, 1w)", 'SELECT t DIV 604800 * 604800 AS "time"'),
        ("SELECT $__unixEpochGroup(t, 500ms)", "SELECT t DIV 0.5 * 0.5"),
        ("SELECT $__unixEpochGroup(t, 12d)", "SELECT t DIV 1.0368e+06 * 1.0368e+06"),
        ("SELECT 1", "SELECT 1"),
    ],
)
def test_macros_expand_as_grafana_expands_them(sql: str, expanded: str):
    assert expand_macros(sql, RANGE) == expanded


def test_a_time_range_before_1970_uses_date_add():
    old = TimeRange(datetime(1960, 1, 1, tzinfo=UTC), datetime(1970, 1, 2, tzinfo=UTC))
    assert expand_macros("$__timeFilter(t)", old) == (
        "t BETWEEN DATE_ADD(FROM_UNIXTIME(0), INTERVAL -315619200 SECOND) AND FROM_UNIXTIME(86400)"
    )


def test_the_range_is_taken_in_utc_whatever_the_zone_given():
    hanoi = timezone(timedelta(hours=7))
    shifted = TimeRange(RANGE.start.astimezone(hanoi), RANGE.end.astimezone(hanoi))
    assert expand_macros("$__timeFrom()", shifted) == f"FROM_UNIXTIME({FROM})"
    assert TimeRange(datetime(2017, 4, 21, 5, 1, 17), RANGE.end).from_unix == FROM  # naive means UTC


def test_unknown_macros_and_bad_intervals_fail_as_in_grafana():
    with pytest.raises(ValueError, match="unknown macro __timeFIlter"):
        expand_macros("$__timeFIlter(t)", RANGE)
    with pytest.raises(ValueError, match="needs time column and interval"):
        expand_macros("$__timeGroup(t)", RANGE)
    with pytest.raises(ValueError, match="error parsing interval"):
        expand_macros("$__timeGroup(t, hourly)", RANGE)
    with pytest.raises(ValueError, match="interval"):
        expand_macros("$__timeGroup(t, $__interval)", RANGE)
    with pytest.raises(ValueError):
        TimeRange(RANGE.end, RANGE.start)


COMPANY = Variable("company", ["113", "O'Neil"], multi=True, include_all=True)
ALL_JOBS = Variable("job", ["$__all"], multi=True, include_all=True, options=(("Nurse #1", "1"), ("Chef #2", "2")))
ONE = Variable("publisher", "2")
NO_OPTIONS = Variable("campaign", ["$__all"], multi=True, include_all=True, all_value="'__all__'")


@pytest.mark.parametrize(
    ("sql", "expanded"),
    [
        ("company_id IN ($company)", "company_id IN ('113','O''Neil')"),
        ("company_id IN (${company})", "company_id IN ('113','O''Neil')"),
        ("company_id IN (${company:csv})", "company_id IN (113,O'Neil)"),
        ("company_id IN (${company:sqlstring})", "company_id IN ('113','O''Neil')"),
        ("company_id IN (${company:singlequote})", "company_id IN ('113','O\\'Neil')"),
        ("job_id IN ($job)", "job_id IN ('1','2')"),  # All: every option's value
        ("job_id IN (${job:csv})", "job_id IN (1,2)"),
        # A custom all value goes in as written, whatever the options (here none) and the format.
        ("('__all__' IN ($campaign) OR c IN ($campaign))", "('__all__' IN ('__all__') OR c IN ('__all__'))"),
        ("c IN (${campaign:csv})", "c IN ('__all__')"),
        ("publisher_id = $publisher", "publisher_id = 2"),  # a single-value variable is not quoted
        ("name = '$publisher'", "name = '2'"),
        ("x = $jobs AND y = $__timeFilter(t)", "x = $jobs AND y = $__timeFilter(t)"),  # not variables: untouched
        ("JSON_VALUE(s, '$.collect')", "JSON_VALUE(s, '$.collect')"),
    ],
)
def test_variables_are_formatted_as_grafana_formats_them_for_sql(sql: str, expanded: str):
    assert interpolate(sql, {v.name: v for v in (COMPANY, ALL_JOBS, ONE, NO_OPTIONS)}) == expanded


def test_a_single_selection_of_a_multi_value_variable_is_quoted():
    assert interpolate("= $v", {"v": Variable("v", "a'b", multi=True)}) == "= 'a''b'"
    assert interpolate("= $v", {"v": Variable("v", "a'b")}) == "= a''b"


def test_variables_are_interpolated_before_macros_are_expanded():
    sql = "SELECT $__timeGroupAlias(t, $bucket) FROM x WHERE $__timeFilter(t) AND c IN ($company)"
    assert expand(sql, RANGE, {"bucket": Variable("bucket", "1h"), "company": COMPANY}) == (
        'SELECT UNIX_TIMESTAMP(t) DIV 3600 * 3600 AS "time" FROM x '
        f"WHERE t BETWEEN FROM_UNIXTIME({FROM}) AND FROM_UNIXTIME({TO}) AND c IN ('113','O''Neil')"
    )


def test_a_custom_all_value_is_interpolated_in_turn():
    every = Variable("every", "$__all", include_all=True, all_value="$publisher")
    assert interpolate("p = $every", {"every": every, "publisher": ONE}) == "p = 2"


def test_an_unsupported_format_fails():
    with pytest.raises(ValueError, match="format 'regex'"):
        interpolate("${company:regex}", {"company": COMPANY})
