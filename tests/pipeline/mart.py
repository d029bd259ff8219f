"""The `events` mart as the tests compare it with the spec oracle (tests/pipeline/spec_oracle.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ingest.reference_data import reference_data
from jobpulse.clients import cassandra_cluster, mysql_connect
from jobpulse.config import Settings

GRAIN = "job_id, dates, hours, publisher_id, campaign_id, group_id"
MEASURES = "clicks, spend_hour, bid_set, conversion, qualified_application, disqualified_application, company_id"


def mart_rows(settings: Settings) -> dict[tuple, tuple]:
    """{grain: measures} of every row of `events`, in the oracle's shape."""
    connection = mysql_connect(settings)
    try:
        cursor = connection.cursor()
        cursor.execute(f"SELECT {GRAIN}, {MEASURES} FROM events")
        return {tuple(row[:6]): tuple(row[6:]) for row in cursor.fetchall()}
    finally:
        connection.close()


@contextmanager
def raw_log_events(settings: Settings) -> Iterator[Iterator[dict[str, Any]]]:
    """Every event of the raw log, in the oracle's shape, streamed: a busy day's millions of rows are never
    held as dicts at once."""
    cluster = cassandra_cluster(settings)
    try:
        rows = cluster.connect().execute(
            "SELECT create_time, job_id, ts, custom_track, bid, publisher_id, campaign_id, group_id "
            f"FROM {settings.cassandra_keyspace}.tracking",
            timeout=300,
        )
        yield ({**row._asdict(), "create_time": str(row.create_time)} for row in rows)
    finally:
        cluster.shutdown()


def company_of_job() -> dict[int, int]:
    return {job.id: job.company_id for job in reference_data().jobs}
