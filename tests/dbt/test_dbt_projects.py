"""The dbt projects' own checks on the real Spark Thrift server and MySQL, in a namespace of their own: the
lakehouse's unit tests of the metrics contract's rules, and the model contracts (a model whose query no longer
gives its declared columns fails the build). A broken contract is made in a copy of the projects, so the
repository's files are never touched."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobpulse import dbt
from jobpulse.config import Settings, environment
from tests.pipeline.namespace import isolated_pipeline

RULES = {f"rule_{number}" for number in range(1, 6)} | {"metrics"}


@pytest.fixture(scope="module")
def models(running_stack: Settings) -> Iterator[Settings]:
    """A namespace whose lakehouse models exist, empty: unit tests type their rows from their inputs' tables."""
    with isolated_pipeline(running_stack, "dbt") as settings:
        dbt.dbt(settings, ["run", "--select", "tag:lakehouse", "--empty"], dbt.LAKEHOUSE)
        yield settings


def test_every_rule_of_the_metrics_contract_has_unit_tests_and_they_pass(models: Settings):
    result = dbt.dbt(models, ["test", "--select", "test_type:unit"], dbt.LAKEHOUSE)
    names = [outcome.node.name for outcome in result.results]
    assert all(outcome.status == "pass" for outcome in result.results)
    assert {re.match(r"(rule_\d|metrics)_", name).group(1) for name in names} == RULES, names


def project_copy(root: Path, model_file: str, edit: tuple[str, str] | None) -> Path:
    """The dbt projects copied under ``root``, with ``edit`` (old, new) applied once to ``model_file``."""
    copy = root / "dbt_project"
    shutil.copytree(dbt.DBT_PROJECTS, copy, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    if edit is not None:
        path = copy / model_file
        text = path.read_text()
        assert text.count(edit[0]) == 1, f"{edit[0]!r} not once in {model_file}"
        path.write_text(text.replace(edit[0], edit[1]))
    return copy


def dbt_in_copy(settings: Settings, copy: Path, project: str, *command: str) -> subprocess.CompletedProcess:
    """``dbt <command>`` on a copied project, by the dbt that runs the project in the pipeline."""
    directory = copy / project
    env = {**os.environ, **environment(settings)}
    run = [str(dbt.executable(settings, project)), "--quiet"]
    where = ["--project-dir", str(directory), "--profiles-dir", str(directory)]
    subprocess.run([*run, "deps", *where], env=env, check=True, capture_output=True)
    return subprocess.run([*run, *command, *where], env=env, capture_output=True, text=True)


EVENTS = "warehouse/models/marts/events.sql"


@pytest.mark.parametrize(
    ("edit", "broken"),
    [
        (None, None),
        (
            ("cast(hours as signed) as hours", "cast(hours as char(2)) as hours"),
            "hours: declared int, the query gives varchar(2)",
        ),
        (("        company_id,\n        cast(", "        cast("), "company_id: declared int, missing"),
    ],
    ids=["as declared", "a column of another type", "a missing column"],
)
def test_the_events_contract_fails_the_build_of_a_query_that_breaks_it(
    models: Settings, tmp_path: Path, edit: tuple[str, str] | None, broken: str | None
):
    copy = project_copy(tmp_path, EVENTS, edit)
    built = dbt_in_copy(models, copy, dbt.WAREHOUSE, "build", "--select", "tag:warehouse")
    if broken is None:
        assert built.returncode == 0, built.stdout + built.stderr
    else:
        assert built.returncode != 0 and "The contract of" in built.stdout and broken in built.stdout, built.stdout


def test_the_lakehouse_contract_fails_the_build_of_a_query_that_breaks_it(models: Settings, tmp_path: Path):
    clicks = "count_if(track_kind = 'click')"
    edit = (f"{clicks} as clicks", f"cast({clicks} as int) as clicks")
    copy = project_copy(tmp_path, "lakehouse/models/marts/fct_job_hourly.sql", edit)
    built = dbt_in_copy(models, copy, dbt.LAKEHOUSE, "run", "--select", "fct_job_hourly", "--full-refresh", "--empty")
    assert built.returncode != 0 and "clicks" in built.stdout and "contract" in built.stdout.lower(), built.stdout
