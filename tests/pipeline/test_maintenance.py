"""`jobpulse maintain` (the daily maintenance DAG's task) on real Delta tables: it leaves far fewer files,
changes no data and disturbs no incremental state: the next run carries on exactly."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from pyhive import hive

from ingest.collector import Collector
from ingest.simulator import Simulator, encode
from jobpulse.config import Settings
from jobpulse.lakehouse import landing_table
from jobpulse.maintenance import files_of, maintain
from jobpulse.pipeline import run_once
from tests.ingest.conftest import produce
from tests.pipeline.mart import company_of_job, mart_rows
from tests.pipeline.namespace import isolated_pipeline
from tests.pipeline.spec_oracle import expected_events


@pytest.fixture(scope="module")
def pipeline(running_stack: Settings) -> Iterator[Settings]:
    with isolated_pipeline(running_stack, "maintain") as settings:
        yield settings


def run_with(settings: Settings, events: list[dict]) -> None:
    produce(settings, [encode(event) for event in events])
    Collector(settings).run(drain=True)
    run_once(settings, say=lambda message: None)


def landing_files(settings: Settings) -> int:
    connection = hive.connect(host=settings.spark_thrift_host, port=settings.spark_thrift_port)
    try:
        return files_of(connection.cursor(), landing_table(settings))
    finally:
        connection.close()


def test_compaction_and_vacuum_change_no_data_and_the_pipeline_carries_on(pipeline: Settings):
    events = list(itertools.islice(Simulator(seed=41, start=datetime(2026, 11, 27, 20, 0), rate=2).events(), 3000))
    for part in (events[:1000], events[1000:2000]):
        run_with(pipeline, part)
    rows = mart_rows(pipeline)
    assert rows == expected_events(events[:2000], company_of_job())
    assert landing_files(pipeline) >= 3

    tomorrow = datetime.now().date() + timedelta(days=1)  # today's partitions too, for the test
    files = maintain(pipeline, before=tomorrow, say=lambda message: None)

    assert files[landing_table(pipeline)][1] <= 2 < files[landing_table(pipeline)][0]  # a file per arrival date
    assert all(after <= before for before, after in files.values())
    assert mart_rows(pipeline) == rows
    run_with(pipeline, events[2000:])
    assert mart_rows(pipeline) == expected_events(events, company_of_job())

    with pytest.raises(ValueError, match="retain at least"):
        maintain(pipeline, retain_hours=1)


def test_compaction_stops_before_the_day_however_the_table_is_partitioned():
    from datetime import date

    from jobpulse.maintenance import DeltaTable

    day = date(2026, 11, 28)
    assert DeltaTable("d.t", "dates").optimize_sql(day) == "OPTIMIZE d.t WHERE dates < DATE'2026-11-28'"
    hours = 498_840  # 2026-11-28 00:00 UTC, in hours since 1970-01-01 UTC
    assert DeltaTable("d.t", "created_hour", in_epoch_hours=True).optimize_sql(day) == (
        f"OPTIMIZE d.t WHERE created_hour < {hours}"
    )
    assert DeltaTable("d.t", None).optimize_sql(day) == "OPTIMIZE d.t"
