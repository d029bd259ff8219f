"""A from-scratch recomputation of the `events` mart from raw events, written from docs/metrics.md alone
(none of the pipeline's code), to check the pipeline's output against."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

TS = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[ T]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?$")
KINDS = {"click", "conversion", "qualified", "unqualified"}


def _day_and_hour(ts: Any) -> tuple[date, int] | None:
    match = TS.match(ts.strip()) if isinstance(ts, str) else None
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3])), int(match[4])
    except ValueError:  # 2026-02-30 and the like
        return None


def expected_events(raw_events: Iterable[dict[str, Any]], company_of_job: dict[int, int]) -> dict[tuple, tuple]:
    """{(job_id, dates, hours, publisher_id, campaign_id, group_id): (clicks, spend_hour, bid_set, conversion,
    qualified_application, disqualified_application, company_id)} over the events, each id counted once."""
    seen: set[str] = set()
    cells: dict[tuple, dict[str, Any]] = defaultdict(lambda: {"bids": [], "conversion": 0, "qualified": 0,
                                                             "unqualified": 0})  # fmt: skip
    for event in raw_events:
        if event["create_time"] in seen:
            continue
        seen.add(event["create_time"])
        if event.get("job_id") is None:
            continue
        when = _day_and_hour(event.get("ts"))
        kind = (event.get("custom_track") or "").strip(" ").lower()
        if when is None or kind not in KINDS:
            continue
        grain = (
            float(event["job_id"]), when[0], when[1],
            float(event.get("publisher_id") or 0), float(event.get("campaign_id") or 0),
            float(event.get("group_id") or 0),
        )  # fmt: skip
        cell = cells[grain]
        if kind == "click":
            cell["bids"].append(Decimal(str(event.get("bid") or 0)))
        else:
            cell[kind] += 1
    result = {}
    for grain, cell in cells.items():
        bids = cell["bids"]
        spend = sum(bids, Decimal(0))
        average = (spend / len(bids)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if bids else Decimal(0)
        result[grain] = (
            len(bids), float(spend), float(average), cell["conversion"], cell["qualified"], cell["unqualified"],
            company_of_job.get(int(grain[0])) if grain[0].is_integer() else None,
        )  # fmt: skip
    return result
