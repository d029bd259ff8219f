"""Change capture's pure parts: ticks, timeuuid bounds, planning, and reading the position from a Delta log."""

from __future__ import annotations

import itertools
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ingest import raw_log
from ingest.capture import (
    SHARDS,
    Position,
    Window,
    capture_bound,
    moment_of,
    plan,
    read_position,
    ticks_of,
    timeuuid_bound,
)

NOW = datetime(2026, 11, 27, 23, 59, 30, 123456, tzinfo=UTC)
LAG = timedelta(seconds=30)
SPAN = timedelta(hours=2)


def test_ticks_are_the_uuid_clock_and_round_trip():
    assert moment_of(ticks_of(NOW)) == NOW
    assert uuid.UUID(timeuuid_bound(ticks_of(NOW), upper=False)).time == ticks_of(NOW)


def test_bounds_are_version_1_uuids_of_the_tick_with_extreme_tails():
    low, high = (uuid.UUID(timeuuid_bound(1234567890, upper=flag)) for flag in (False, True))
    assert low.version == high.version == 1 and low.time == high.time == 1234567890
    assert str(low).endswith("8080-808080808080") and str(high).endswith("bf7f-7f7f7f7f7f7f")


def test_the_first_run_is_a_backfill_of_everything_up_to_the_bound():
    [window] = plan(None, ticks_of(NOW - LAG), max_span=SPAN)
    assert window.backfill and window.batch == 1 and window.to_ticks == ticks_of(NOW - LAG)


def test_nothing_is_planned_until_the_bound_has_passed_the_position():
    position = Position(batch=7, to_ticks=ticks_of(NOW - LAG))
    assert plan(position, ticks_of(NOW - LAG), max_span=SPAN) == []
    assert plan(position, ticks_of(NOW - LAG) + 10, max_span=SPAN) == [
        Window(batch=8, after_ticks=position.to_ticks, to_ticks=position.to_ticks + 10)
    ]


def test_the_capture_stops_just_before_the_oldest_writer_watermark():
    oldest, younger = ticks_of(NOW - timedelta(seconds=3)), ticks_of(NOW - timedelta(seconds=1))
    assert capture_bound(NOW, LAG, [younger, oldest]) == oldest - 1  # an arrival stamped at it may be in flight


def test_without_writers_in_flight_the_capture_reaches_the_clock():
    assert capture_bound(NOW, LAG, []) == ticks_of(NOW)
    assert capture_bound(NOW, LAG, [ticks_of(NOW + timedelta(seconds=5))]) == ticks_of(NOW)  # a writer's clock ahead


def test_the_fixed_lag_bounds_how_far_a_stuck_writer_holds_the_capture_back():
    stuck = ticks_of(NOW - timedelta(minutes=10))  # a write in flight for 10 minutes is long dropped
    assert capture_bound(NOW, LAG, [stuck, ticks_of(NOW)]) == ticks_of(NOW - LAG)


def test_a_long_absence_is_caught_up_in_contiguous_batches_of_bounded_span():
    position = Position(batch=3, to_ticks=ticks_of(NOW - timedelta(hours=5)))
    windows = plan(position, ticks_of(NOW - LAG), max_span=SPAN)
    assert [window.batch for window in windows] == [4, 5, 6]
    assert windows[0].after_ticks == position.to_ticks
    assert all(earlier.to_ticks == later.after_ticks for earlier, later in itertools.pairwise(windows))
    assert windows[-1].to_ticks == ticks_of(NOW - LAG)
    assert all(moment_of(w.to_ticks) - moment_of(w.after_ticks) <= SPAN for w in windows)


def test_a_window_reads_the_minutes_it_touches_and_no_more():
    after = ticks_of(datetime(2026, 11, 27, 23, 58, 59, 999999, tzinfo=UTC))
    window = Window(batch=2, after_ticks=after, to_ticks=ticks_of(datetime(2026, 11, 28, 0, 1, 0, tzinfo=UTC)))
    assert [minute.strftime("%H:%M") for minute in window.minutes()] == ["23:58", "23:59", "00:00", "00:01"]
    # positioned on the last tick of 23:58: the window's first arrival is 23:59:00, so 23:58 is not read
    on_boundary = Window(batch=2, after_ticks=ticks_of(datetime(2026, 11, 27, 23, 59, tzinfo=UTC)) - 1,
                         to_ticks=ticks_of(datetime(2026, 11, 27, 23, 59, 30, tzinfo=UTC)))  # fmt: skip
    assert [minute.strftime("%H:%M") for minute in on_boundary.minutes()] == ["23:59"]


def test_the_shard_count_matches_the_writer():
    assert SHARDS == raw_log.SHARDS


def write_commit(log: Path, version: int, *actions: dict) -> None:
    log.mkdir(parents=True, exist_ok=True)
    (log / f"{version:020d}.json").write_text("\n".join(json.dumps(action) for action in actions) + "\n")


def test_the_position_is_read_from_the_newest_ingest_commit(tmp_path: Path):
    log = tmp_path / "_delta_log"
    assert read_position(tmp_path) is None
    write_commit(log, 0, {"commitInfo": {"operation": "CREATE TABLE"}}, {"metaData": {}})
    assert read_position(tmp_path) is None
    ours = Window(batch=1, after_ticks=None, to_ticks=ticks_of(NOW)).metadata(landed_at="x", run="r1")
    write_commit(
        log,
        1,
        {"commitInfo": {"operation": "WRITE", "userMetadata": ours, "operationMetrics": {"numOutputRows": "42"}}},
        {"txn": {"appId": "jobpulse-ingest", "version": 1}},
    )
    write_commit(log, 2, {"commitInfo": {"operation": "OPTIMIZE", "userMetadata": "compaction by the nightly job"}})
    assert read_position(tmp_path) == Position(batch=1, to_ticks=ticks_of(NOW), landed_at="x", rows=42, run="r1")


def test_the_change_feeds_ttl_is_the_one_its_migration_sets():
    from ingest.capture import CHANGE_FEED_TTL

    migration = (
        Path(raw_log.__file__).parent.parent / "jobpulse" / "migrations" / "cassandra" / "V001__raw_event_log.cql"
    )
    assert f"default_time_to_live = {int(CHANGE_FEED_TTL.total_seconds())}" in migration.read_text()


def test_a_position_expires_an_hour_before_the_change_feed_drops_what_follows_it():
    position = Position(batch=3, to_ticks=ticks_of(NOW))
    assert not position.expired(NOW + timedelta(days=13, hours=22, minutes=59))
    assert position.expired(NOW + timedelta(days=13, hours=23))
    assert position.expired(NOW + timedelta(days=30))
