"""Every accept and reject rule of the event contract (`docs/events.md`)."""

from __future__ import annotations

import json
import math
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.events import (
    LIMITS,
    MAX_MESSAGE_BYTES,
    NUMERIC_FIELDS,
    VALUE_FIELDS,
    Event,
    Reason,
    Rejected,
    parse_event,
)

CREATE_TIME = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"  # a version-1 UUID


def message(**fields: object) -> bytes:
    return json.dumps({"create_time": CREATE_TIME, **fields}).encode()


def reason_of(raw: bytes) -> Reason:
    with pytest.raises(Rejected) as rejected:
        parse_event(raw)
    return rejected.value.reason


def test_a_full_event_is_kept_as_sent():
    fields = {name: f"text {name}" for name in VALUE_FIELDS}
    fields.update(bid=1.25, campaign_id=7, cd=24, ev=2, group_id=3, job_id=1234, publisher_id=9, tz=-420, v=1)
    event = parse_event(message(**fields))
    assert event.create_time == uuid.UUID(CREATE_TIME)
    assert event.job_id == 1234.0 and event.bid == 1.25 and event.tz == -420.0
    assert event.ts == "text ts" and event.custom_track == "text custom_track"
    assert event._fields == ("create_time", *VALUE_FIELDS)


def test_only_create_time_is_required():
    event = parse_event(message())
    assert all(getattr(event, name) is None for name in VALUE_FIELDS)


@pytest.mark.parametrize(
    "fields",
    [
        {"job_id": None},
        {"custom_track": "alive"},
        {"custom_track": ""},
        {"custom_track": "  ClIcK "},
        {"ts": "not a time at all"},
        {"ts": "2026-11-27T23:59:59.123"},
    ],
)
def test_events_the_pipeline_will_not_count_are_still_accepted(fields: dict):
    event = parse_event(message(**fields))
    for name, value in fields.items():
        assert getattr(event, name) == value


@pytest.mark.parametrize(
    ("sent", "stored"),
    [("123", 123.0), ("0.5", 0.5), (" 7 ", 7.0), ("-1e3", -1000.0), (".5", 0.5), (42, 42.0), (1.5, 1.5)],
)
def test_numbers_as_json_numbers_or_numeric_strings(sent: object, stored: float):
    assert parse_event(message(bid=sent, job_id=sent)).bid == stored


def test_unknown_fields_are_ignored():
    assert parse_event(message(job_id=1, brand_new_field={"nested": [1, 2]})).job_id == 1.0


def test_a_number_or_boolean_in_a_text_field_is_kept_as_its_json_text():
    event = parse_event(message(bn=12, md=True, ts=1.5))
    assert (event.bn, event.md, event.ts) == ("12", "true", "1.5")


def test_unicode_and_quotes_survive_unchanged():
    tricky = "Zürich “quoted” 'single' \"double\" \\ back\\slash 😀 日本語 \t tab"
    assert parse_event(message(dt=tricky, ua=tricky)).dt == tricky


def test_uppercase_create_time_is_the_same_event():
    assert parse_event(message(create_time=CREATE_TIME.upper())).create_time == uuid.UUID(CREATE_TIME)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe{}", Reason.NOT_UTF8),
        (b'{"create_time": "' + CREATE_TIME.encode() + b'", "dt": "caf\xe9"}', Reason.NOT_UTF8),
        (b"", Reason.NOT_JSON),
        (b"not json", Reason.NOT_JSON),
        (b'{"create_time": "x",', Reason.NOT_JSON),
        (b'["' + CREATE_TIME.encode() + b'"]', Reason.NOT_AN_OBJECT),
        (b'"just a string"', Reason.NOT_AN_OBJECT),
        (b"null", Reason.NOT_AN_OBJECT),
        (b'{"job_id": 1}', Reason.CREATE_TIME_MISSING),
        (b'{"create_time": null}', Reason.CREATE_TIME_MISSING),
        (b'{"create_time": "not-a-uuid"}', Reason.CREATE_TIME_INVALID),
        (b'{"create_time": 12345}', Reason.CREATE_TIME_INVALID),
        # a version-4 UUID has no time in it
        (b'{"create_time": "' + str(uuid.uuid4()).encode() + b'"}', Reason.CREATE_TIME_INVALID),
        (b'{"create_time": "{' + CREATE_TIME.encode() + b'}"}', Reason.CREATE_TIME_INVALID),
    ],
)
def test_malformed_messages_are_rejected_with_their_reason(raw: bytes, reason: Reason):
    assert reason_of(raw) == reason


@pytest.mark.parametrize(
    "value", ["abc", "", "12abc", "1_000", "nan", "NaN", "Infinity", "-inf", True, {"a": 1}, [1], "1e999"]
)
def test_a_numeric_field_must_hold_a_finite_number(value: object):
    assert reason_of(message(job_id=value)) == Reason.INVALID_NUMBER


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
def test_json_non_finite_numbers_are_rejected(literal: bytes):
    raw = b'{"create_time": "' + CREATE_TIME.encode() + b'", "bid": ' + literal + b"}"
    assert reason_of(raw) == Reason.INVALID_NUMBER


@pytest.mark.parametrize("value", [{"a": "b"}, ["x"], []])
def test_a_text_field_must_not_hold_an_object_or_array(value: object):
    assert reason_of(message(ua=value)) == Reason.INVALID_STRING


def test_a_lone_surrogate_cannot_be_stored_as_text():
    assert reason_of(b'{"create_time": "' + CREATE_TIME.encode() + b'", "dt": "\\ud800"}') == Reason.INVALID_STRING


def test_the_size_limit_is_one_mebibyte():
    padding = MAX_MESSAGE_BYTES - len(message(ed=""))
    at_limit = message(ed="x" * padding)
    assert len(at_limit) == MAX_MESSAGE_BYTES
    assert parse_event(at_limit).ed == "x" * padding
    assert reason_of(message(ed="x" * (padding + 1))) == Reason.TOO_LARGE


# -- poison inputs: each once crashed the parser (and with it the collector) instead of being rejected ----------
def test_a_create_time_with_a_trailing_newline_is_invalid():
    assert reason_of(message(create_time=CREATE_TIME + "\n")) == Reason.CREATE_TIME_INVALID


@pytest.mark.parametrize("digits", [400, 5000])
def test_an_integer_of_hundreds_or_thousands_of_digits_in_a_numeric_field_is_not_finite(digits: int):
    raw = b'{"create_time": "' + CREATE_TIME.encode() + b'", "bid": 1' + b"0" * digits + b"}"
    assert reason_of(raw) == Reason.INVALID_NUMBER


def test_an_integer_of_thousands_of_digits_in_a_text_field_is_kept_as_its_json_text():
    digits = "1" + "0" * 5000
    raw = b'{"create_time": "' + CREATE_TIME.encode() + b'", "ed": ' + digits.encode() + b', "x": ' + digits.encode()
    assert parse_event(raw + b"}").ed == digits


def test_digits_of_other_scripts_are_not_a_number():
    assert reason_of(message(job_id="\u0661\u0662")) == Reason.INVALID_NUMBER


@pytest.mark.parametrize(
    ("field", "value"),
    [("bid", 1e14), ("bid", "-1e14"), ("bid", 10**15), ("job_id", 2**53), ("publisher_id", -(2**53)),
     ("campaign_id", "1e16"), ("group_id", 1e300)],
)  # fmt: skip
def test_numbers_the_pipeline_cannot_carry_exactly_are_out_of_range(field: str, value: object):
    assert reason_of(message(**{field: value})) == Reason.OUT_OF_RANGE


@pytest.mark.parametrize(
    ("field", "value"), [("bid", 99_999_999_999_999.99), ("job_id", 2**53 - 1), ("tz", 1e300), ("cd", -1e300)]
)
def test_numbers_within_what_the_pipeline_carries_are_accepted(field: str, value: float):
    assert getattr(parse_event(message(**{field: value})), field) == float(value)


# -- properties: whatever the bytes, the parser returns an event or rejects it with a reason ---------------------
def accepted_or_rejected(raw: bytes) -> Event | Rejected:
    try:
        return parse_event(raw)
    except Rejected as rejected:
        assert rejected.reason in Reason and rejected.detail
        return rejected


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
field_names = st.sampled_from(["create_time", *VALUE_FIELDS]) | st.text(max_size=12)
create_times = (
    st.uuids(version=1).map(str)
    | st.uuids(version=1).map(lambda value: f"{value}\n")
    | st.uuids().map(str)
    | st.text(max_size=40)
    | json_values
)
# numbers as JSON literals (integers far beyond 64 bits among them) or as numeric strings: what the JSON
# libraries handle least alike
number_literals = st.integers(min_value=-(10**400), max_value=10**400).map(str) | st.floats(allow_nan=False).map(
    lambda number: repr(number) if math.isfinite(number) else "1e999"
)
numeric_texts = st.from_regex(r"\A ?-?[0-9]{1,30}(\.[0-9]{0,5})?(e[+-]?[0-9]{1,4})? ?\Z").map(json.dumps)
numbers = number_literals | numeric_texts


@given(st.binary(max_size=300))
def test_any_bytes_are_accepted_or_rejected_with_a_reason(raw: bytes):
    accepted_or_rejected(raw)


@given(st.dictionaries(field_names, json_values, max_size=8), create_times)
def test_any_json_object_is_accepted_or_rejected_with_a_reason(document: dict, create_time: object):
    document["create_time"] = create_time
    outcome = accepted_or_rejected(json.dumps(document).encode())
    if isinstance(outcome, Event):
        assert str(outcome.create_time) == str(create_time).lower()
        for name in NUMERIC_FIELDS:
            value = getattr(outcome, name)
            assert value is None or (math.isfinite(value) and abs(value) < LIMITS.get(name, math.inf))


@given(st.dictionaries(st.sampled_from(sorted(NUMERIC_FIELDS)), numbers, min_size=1), st.uuids(version=1))
def test_a_number_is_kept_if_the_pipeline_can_carry_it_and_rejected_if_not(fields: dict, create_time: object):
    members = ", ".join(f'"{name}": {literal}' for name, literal in fields.items())
    outcome = accepted_or_rejected(f'{{"create_time": "{create_time}", {members}}}'.encode())
    expected = {
        name: float(json.loads(literal) if literal.startswith('"') else literal) for name, literal in fields.items()
    }
    if all(math.isfinite(value) and abs(value) < LIMITS.get(name, math.inf) for name, value in expected.items()):
        assert isinstance(outcome, Event), outcome
        assert all(getattr(outcome, name) == value for name, value in expected.items())
    else:
        assert isinstance(outcome, Rejected) and outcome.reason in {Reason.INVALID_NUMBER, Reason.OUT_OF_RANGE}
