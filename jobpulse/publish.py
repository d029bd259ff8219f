"""Move the lakehouse marts' changed rows into MySQL, where the dbt-mysql models and Grafana read them.

Every lakehouse mart row carries ``last_ingest_batch`` (the newest landing batch among its events); a cell
recomputed by dbt always gets a newer one. The MySQL copy remembers the largest it holds, so a move reads
only the rows recomputed since, through the Spark Thrift server, and upserts them in one MySQL transaction:
a move that fails half-way commits nothing and the next one moves the same rows again.

A reprocess (jobpulse/reprocessing.py) replaces its dates whole instead, in the same transaction: their rows
are deleted and copied again, so the cells the lakehouse dropped go from MySQL too.

Publishes and the MySQL `events` model take turns (a MySQL named lock, ``FACTS_LOCK``), so overlapping runs
(a `jobpulse run` beside a scheduled one) can neither copy stale rows over newer ones nor commit rows with an
``updated_at`` older than the watermark `events` has already moved past.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from jobpulse.config import Settings
from jobpulse.reprocessing import DateRange

CHUNK = 5000
FACTS_LOCK = "jobpulse.facts.{database}"  # also taken by dbt_project/warehouse/macros/facts_lock.sql
LOCK_TIMEOUT = 600  # seconds to wait for another run's publish or `events` model


@dataclass(frozen=True)
class Copy:
    """A lakehouse mart and its MySQL copy (see jobpulse/migrations/mysql/V003__lakehouse_mirrors.sql)."""

    lakehouse_table: str
    mysql_table: str
    columns: tuple[str, ...]
    event_date_column: str | None = None  # what a reprocess's dates select (None: not by event date)


COPIES = (
    Copy(
        "fct_job_hourly",
        "job_hourly_facts",
        (
            "job_id", "dates", "hours", "publisher_id", "campaign_id", "group_id", "clicks", "spend_hour",
            "bid_set", "conversion", "qualified_application", "disqualified_application", "last_ingest_batch",
        ),
        event_date_column="dates",
    ),
    Copy(
        "fct_tracking_quality_daily",
        "tracking_quality_daily",
        (
            "arrival_date", "deliveries", "events", "events_without_job", "events_unparseable_ts",
            "events_unclassified_track", "last_ingest_batch",
        ),
    ),
)  # fmt: skip


def publish(
    settings: Settings, reprocess: DateRange | None = None, when_locked: Callable[[], None] | None = None
) -> dict[str, int]:
    """Copy every changed row of every mart (and every row of a reprocess's dates); returns the rows moved per
    MySQL table. ``when_locked`` is called once the facts lock is held, before anything is copied."""
    from jobpulse.clients import mysql_connect, thrift_connect
    from jobpulse.migrations import _identifier

    schema = _identifier(settings.dbt_lakehouse_schema)
    lakehouse = thrift_connect(settings)
    mysql = mysql_connect(settings, autocommit=False)
    moved = {}
    try:
        read, write = lakehouse.cursor(), mysql.cursor()
        write.execute("SELECT GET_LOCK(%s, %s)", (FACTS_LOCK.format(database=settings.mysql_database), LOCK_TIMEOUT))
        if write.fetchone()[0] != 1:
            raise RuntimeError(f"another run held the facts lock for {LOCK_TIMEOUT} s: try again")
        if when_locked is not None:
            when_locked()
        for copy in COPIES:
            write.execute(f"SELECT COALESCE(MAX(last_ingest_batch), -1) FROM {copy.mysql_table}")
            (copied_through,) = write.fetchone()
            selection, parameters = "last_ingest_batch > %(batch)d", {"batch": int(copied_through)}
            if reprocess is not None and copy.event_date_column is not None:
                dates = {"first": reprocess.first.isoformat(), "last": reprocess.last.isoformat()}
                within = f"{copy.event_date_column} BETWEEN %(first)s AND %(last)s"
                write.execute(f"DELETE FROM {copy.mysql_table} WHERE {within}", dates)
                selection, parameters = f"{selection} OR {within}", {**parameters, **dates}
            read.execute(
                f"SELECT {', '.join(copy.columns)} FROM {schema}.{copy.lakehouse_table} WHERE {selection}",
                parameters,
            )
            upsert = (
                f"INSERT INTO {copy.mysql_table} ({', '.join(copy.columns)}, updated_at) "
                f"VALUES ({', '.join(['%s'] * len(copy.columns))}, NOW(6)) ON DUPLICATE KEY UPDATE "
                + ", ".join(f"{column} = VALUES({column})" for column in copy.columns)
                + ", updated_at = NOW(6)"
            )
            count = 0
            while rows := read.fetchmany(CHUNK):
                write.executemany(upsert, rows)
                count += len(rows)
            moved[copy.mysql_table] = count
        mysql.commit()  # every copy at once: the marts stay consistent with each other
    except BaseException:
        mysql.rollback()
        raise
    finally:
        mysql.close()  # which releases the lock
        lakehouse.close()
    return moved
