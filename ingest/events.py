"""The raw tracking event and what the collector accepts (`docs/events.md`).

``parse_event`` turns one Kafka message into an :class:`Event` or raises :class:`Rejected` with a
machine-readable reason, and never raises anything else: whatever bytes arrive, the collector can store or
dead-letter them. Accepted values are kept as sent: numbers (JSON numbers or numeric strings) as floats, text
as text; cleaning happens downstream.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from enum import StrEnum
from typing import Any, NamedTuple

import orjson

MAX_MESSAGE_BYTES = 1024 * 1024

NUMERIC_FIELDS = frozenset({"bid", "campaign_id", "cd", "ev", "group_id", "job_id", "publisher_id", "tz", "v"})
STRING_FIELDS = frozenset(
    {
        "bn", "custom_track", "de", "dl", "dt", "ed", "id", "md", "rl", "sr", "ts", "ua", "uid",
        "utm_campaign", "utm_content", "utm_medium", "utm_source", "utm_term", "vp",
    }
)  # fmt: skip
# Every field but create_time, in the column order of the raw tables (alphabetical).
VALUE_FIELDS = tuple(sorted(NUMERIC_FIELDS | STRING_FIELDS))

# The largest magnitude each numeric field may have: what the pipeline can carry without losing the value.
# bid is summed as decimal(20, 6) (14 integer digits: a larger bid would become NULL and drop out of spend);
# the ids are the mart's grain, kept as doubles, which hold every integer exactly only up to 2^53.
# The other numbers are stored and never computed with: any finite double will do.
LIMITS = {"bid": 1e14, **dict.fromkeys(("job_id", "publisher_id", "campaign_id", "group_id"), float(2**53))}

# Canonical 8-4-4-4-12 form, version 1, RFC 4122 variant. Case-insensitive: a UUID's letters carry no meaning.
_TIME_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", re.IGNORECASE)
# A number written as text: what JSON would accept as a number, with surrounding spaces, in ASCII. (float()
# alone would also take "nan", "inf", "1_000" and digits of other scripts.)
_NUMERIC_TEXT = re.compile(r"\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*", re.ASCII)


class Reason(StrEnum):
    """Why a message went to the dead-letter topic (the value of its ``jobpulse.reason`` header)."""

    TOO_LARGE = "too_large"
    NOT_UTF8 = "not_utf8"
    NOT_JSON = "not_json"
    NOT_AN_OBJECT = "not_an_object"
    CREATE_TIME_MISSING = "create_time_missing"
    CREATE_TIME_INVALID = "create_time_invalid"
    INVALID_NUMBER = "invalid_number"
    OUT_OF_RANGE = "out_of_range"
    INVALID_STRING = "invalid_string"
    PARSE_ERROR = "parse_error"  # the parser failed in a way no rule names: a bug, but never a lost message
    STORAGE_REJECTED = "storage_rejected"  # valid, but Cassandra refuses to store the row (set by the collector)


class Rejected(ValueError):
    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


Event = NamedTuple("Event", [("create_time", uuid.UUID), *((name, Any) for name in VALUE_FIELDS)])


def _reject_constant(name: str) -> Any:
    raise Rejected(Reason.INVALID_NUMBER, f"{name} is not a number JSON allows")


def _number(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        kind = type(value).__name__
        raise Rejected(Reason.INVALID_NUMBER, f"{name} must be a number or a numeric string, got {kind}")
    if isinstance(value, str) and not _NUMERIC_TEXT.fullmatch(value):
        raise Rejected(Reason.INVALID_NUMBER, f"{name} holds the non-numeric string {value[:80]!r}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise Rejected(Reason.INVALID_NUMBER, f"{name} is not finite: {str(value)[:80]!r}")
    limit = LIMITS.get(name)
    if limit is not None and not -limit < number < limit:
        raise Rejected(Reason.OUT_OF_RANGE, f"{name} {str(value)[:80]} is beyond ±{limit:.0e}")
    return number


def _text(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate from a "\\ud800" escape: not storable text
                raise Rejected(Reason.INVALID_STRING, f"{name} holds an unpaired surrogate") from None
        return value
    if isinstance(value, dict | list):
        kind = "an object" if isinstance(value, dict) else "an array"
        raise Rejected(Reason.INVALID_STRING, f"{name} must be text, got {kind}")
    return json.dumps(value)  # a number or boolean in a text field is kept as its JSON text


_INDEX = {name: index for index, name in enumerate(VALUE_FIELDS)}
_IS_NUMERIC = tuple(name in NUMERIC_FIELDS for name in VALUE_FIELDS)
_LIMIT = tuple(LIMITS.get(name, math.inf) for name in VALUE_FIELDS)


def _decode_strictly(raw: bytes) -> Any:
    """The standard library's decoder, for what orjson refused: it tells exactly why a message is invalid."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Rejected(Reason.NOT_UTF8, f"invalid UTF-8 at byte {error.start}") from None
    try:
        # Integers stay text (what a numeric string is): int() refuses more than 4,300 digits, and float() of a
        # 400-digit int raises where float() of its text gives inf, which the checks reject as not finite.
        return json.loads(text, parse_constant=_reject_constant, parse_int=str)
    except json.JSONDecodeError as error:
        raise Rejected(Reason.NOT_JSON, f"{error.msg} at line {error.lineno} column {error.colno}") from None
    except RecursionError:
        raise Rejected(Reason.NOT_JSON, "nested too deeply") from None


def parse_event(raw: bytes) -> Event:
    """Validate one message against the contract; unknown fields are ignored. Raises only :class:`Rejected`."""
    try:
        return _parse(raw)
    except Rejected:
        raise
    except Exception as error:  # what no rule foresaw still gets a reason, and the message its dead letter
        raise Rejected(Reason.PARSE_ERROR, f"{type(error).__name__}: {str(error)[:200]}") from error


def _parse(raw: bytes) -> Event:
    if len(raw) > MAX_MESSAGE_BYTES:
        raise Rejected(Reason.TOO_LARGE, f"{len(raw)} bytes is more than {MAX_MESSAGE_BYTES}")
    try:
        document = orjson.loads(raw)
        # orjson accepts only valid UTF-8 and paired surrogates: its strings need no further check
        checked_text = True
    except orjson.JSONDecodeError:  # invalid, or valid JSON orjson does not take (integers over 64 bits)
        document = _decode_strictly(raw)
        checked_text = False
    if type(document) is not dict:
        raise Rejected(Reason.NOT_AN_OBJECT, f"a JSON {type(document).__name__}, not an object")

    create_time = document.get("create_time")
    if create_time is None:
        raise Rejected(Reason.CREATE_TIME_MISSING, "create_time is missing or null")
    if type(create_time) is not str or not _TIME_UUID.fullmatch(create_time):
        raise Rejected(Reason.CREATE_TIME_INVALID, f"create_time {str(create_time)[:80]!r} is not a version-1 UUID")

    values: list[Any] = [None] * len(VALUE_FIELDS)
    for name, value in document.items():
        index = _INDEX.get(name)
        if index is None or value is None:
            continue  # unknown fields are ignored; null stays null
        kind = type(value)
        if _IS_NUMERIC[index]:
            if kind is float or kind is int:  # orjson's ints fit in 64 bits: float() cannot overflow
                number = float(value)
                values[index] = number if -_LIMIT[index] < number < _LIMIT[index] else _number(name, value)
            else:
                values[index] = _number(name, value)
        elif kind is str and checked_text:
            values[index] = value
        else:
            values[index] = _text(name, value)
    return Event(uuid.UUID(create_time), *values)
