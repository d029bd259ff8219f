"""Daily care of the lakehouse's Delta tables: compaction and removal of unreferenced files.

Every minute the ingest appends a few small files to the landing table and dbt's merges rewrite files of
the marts' recent partitions, so a day leaves thousands of small files, and every read (dbt's incremental
state queries, the publish) opens them all. Compaction (`OPTIMIZE`) rewrites the partitions *before* a date
(default: today, which the pipeline is still writing to, so the two never touch the same files) into few
large files; it changes no data, so the landing table stays append-only and no incremental state moves.
`VACUUM` then deletes the files no table version younger than the retention still needs (Delta's default
7 days, the window for time travel and for readers still running). Per-file statistics need no job: Delta
records min/max/null counts of every file when it writes it, which is what skips files at read time.

The raw log needs nothing of the kind: Cassandra's change feed expires by TTL under time-window compaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from jobpulse.config import Settings
from jobpulse.lakehouse import landing_table

DEFAULT_RETAIN_HOURS = 168


@dataclass(frozen=True)
class DeltaTable:
    name: str  # database.table
    partition_column: str | None
    in_epoch_hours: bool = False  # the partition is a count of hours since 1970-01-01 UTC, not a date

    def optimize_sql(self, before: date) -> str:
        if self.partition_column is None:
            return f"OPTIMIZE {self.name}"
        if self.in_epoch_hours:
            hours = (before - date(1970, 1, 1)).days * 24
            return f"OPTIMIZE {self.name} WHERE {self.partition_column} < {hours}"
        return f"OPTIMIZE {self.name} WHERE {self.partition_column} < DATE'{before.isoformat()}'"


def delta_tables(settings: Settings) -> list[DeltaTable]:
    """The landing table and the lakehouse dbt models stored as Delta tables (the views need nothing)."""
    models = settings.dbt_lakehouse_schema
    return [
        DeltaTable(landing_table(settings), "arrival_date"),
        DeltaTable(f"{models}.base_datalake__tracking_first_arrivals", "created_hour", in_epoch_hours=True),
        DeltaTable(f"{models}.stg_datalake__tracking", "dates"),
        DeltaTable(f"{models}.fct_job_hourly", "dates"),
        DeltaTable(f"{models}.fct_tracking_quality_daily", None),
    ]


def files_of(cursor: Any, table: str) -> int:
    """Files in the table's current version (a DB-API cursor on the Spark Thrift server)."""
    cursor.execute(f"DESCRIBE DETAIL {table}")
    columns = [column[0] for column in cursor.description]
    return int(dict(zip(columns, cursor.fetchone(), strict=True))["numFiles"])


def maintain(
    settings: Settings,
    before: date | None = None,
    retain_hours: int = DEFAULT_RETAIN_HOURS,
    say: Callable[[str], None] = print,
) -> dict[str, tuple[int, int]]:
    """Compact every Delta table's partitions before ``before`` and vacuum it; returns the live files of each
    table (before, after)."""
    from jobpulse.clients import thrift_cursor

    if retain_hours < DEFAULT_RETAIN_HOURS:
        raise ValueError(f"retain at least {DEFAULT_RETAIN_HOURS} hours: readers and time travel rely on them")
    before = before or datetime.now(UTC).date()
    files = {}
    with thrift_cursor(settings) as cursor:
        for table in delta_tables(settings):
            cursor.execute(f"SHOW TABLES IN {table.name.split('.')[0]} LIKE '{table.name.split('.')[1]}'")
            if not cursor.fetchall():
                say(f"{table.name}: not created yet")
                continue
            files_before = files_of(cursor, table.name)
            cursor.execute(table.optimize_sql(before))
            cursor.fetchall()
            cursor.execute(f"VACUUM {table.name} RETAIN {retain_hours} HOURS")
            cursor.fetchall()
            files[table.name] = (files_before, files_of(cursor, table.name))
            say(f"{table.name}: {files_before} -> {files[table.name][1]} files")
    return files
