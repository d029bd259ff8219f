"""The contracts in `docs/` name what the code defines: every dead-letter reason in the event contract's table,
every column of the `events` mart in the metrics contract's table, and nothing else there. No services needed."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from ingest.events import Reason
from jobpulse.config import PROJECT_ROOT as ROOT

EVENTS_DOC = ROOT / "docs" / "events.md"
METRICS_DOC = ROOT / "docs" / "metrics.md"
# The mart's columns as dbt declares them; the contract macro holds the model's query to them at every build.
MART_YAML = ROOT / "dbt_project" / "warehouse" / "models" / "marts" / "_warehouse__models.yml"


def first_cells(doc: Path, heading: str) -> list[str]:
    """The first cell of each row of the table under ``heading`` (a `## ` line), backticks removed."""
    text = doc.read_text()
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end != -1 else None]
    rows = [line for line in section.splitlines() if line.startswith("|")][2:]  # after the header and rule
    return [re.fullmatch(r"\|\s*`([^`]+)`\s*", row[: row.index("|", 1)]).group(1) for row in rows]


def mart_columns() -> list[str]:
    models = yaml.safe_load(MART_YAML.read_text())["models"]
    (events,) = (model for model in models if model["name"] == "events")
    return [column["name"] for column in events["columns"]]


def test_every_dead_letter_reason_is_in_the_event_contract():
    reasons = [reason.value for reason in Reason]
    documented = first_cells(EVENTS_DOC, "Dead letters: what is rejected, and why")
    assert [reason for reason in reasons if reason not in documented] == [], "reasons missing from docs/events.md"
    assert [reason for reason in documented if reason not in reasons] == [], "documented, but not a Reason"


def test_every_column_of_the_mart_is_in_the_metrics_contract():
    columns = mart_columns()
    assert len(columns) == 15 and "latest_update_time" in columns  # the YAML was read, not an empty list
    documented = first_cells(METRICS_DOC, "Columns of `events`")
    assert [column for column in columns if column not in documented] == [], "columns missing from docs/metrics.md"
    assert [column for column in documented if column not in columns] == [], "documented, but not in the mart"
    assert documented == columns, "the table lists the columns in the mart's order"


def test_nothing_points_at_the_contracts_outside_the_repository():
    tracked = [ROOT / "README.md", *ROOT.glob("ingest/**/*.py"), *ROOT.glob("tests/**/*.py")]
    tracked += [*ROOT.glob("dbt_project/*/models/**/*.sql"), *ROOT.glob("dbt_project/*/models/**/*.yml")]
    outside = [str(path.relative_to(ROOT)) for path in tracked if "shared/" + "spec/" in path.read_text()]
    assert outside == []
