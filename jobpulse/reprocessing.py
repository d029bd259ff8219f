"""Reprocessing: rebuild the metrics of a range of event dates from the raw log.

Used when the landing table lost events the raw log holds, or when the cleaning or classification rules
changed: the ingest lands again, as one extra batch, the raw-log events of those dates that the landing table
lacks; dbt recomputes every cell of those dates whole (deleting cells that no longer exist); the publish
replaces those dates in MySQL in one transaction; the MySQL mart drops the cells that vanished. Everything
else runs as in any incremental run, so a reprocess also lands whatever is new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

MAX_DAYS = 366  # one year at a time: the raw-log scan and the recomputation stay bounded


@dataclass(frozen=True)
class DateRange:
    """Event dates ``first`` to ``last``, both included (the spec's `dates`, read from the text of `ts`)."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"the range ends ({self.last}) before it starts ({self.first})")
        if (self.last - self.first) >= timedelta(days=MAX_DAYS):
            raise ValueError(f"at most {MAX_DAYS} days per reprocess; split {self.first}..{self.last}")

    @classmethod
    def parse(cls, first: str, last: str | None = None) -> DateRange:
        """From ISO dates (``last`` defaults to ``first``); a clear error for anything else."""
        try:
            dates = date.fromisoformat(first), date.fromisoformat(last or first)
        except ValueError as error:
            raise ValueError(f"reprocess dates must be YYYY-MM-DD: {error}") from None
        return cls(*dates)

    def dbt_vars(self) -> dict[str, str]:
        """What the dbt models read (dbt_project/common/macros/reprocess_dates.sql)."""
        return {"jobpulse__reprocess_from": self.first.isoformat(), "jobpulse__reprocess_to": self.last.isoformat()}

    def __str__(self) -> str:
        return f"{self.first.isoformat()}..{self.last.isoformat()}"
