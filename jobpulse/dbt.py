"""Running the dbt project in-process (dbt's programmatic API), on either of its two targets.

Each target keeps its own target folder, so switching between the Spark and the MySQL target does not throw
away dbt's partial parse of the other.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path

from jobpulse.config import OPTIONS, PROJECT_ROOT, Settings

DBT_PROJECT = PROJECT_ROOT / "dbt_project"
LAKEHOUSE, WAREHOUSE = "lakehouse", "warehouse"


class DbtFailure(RuntimeError):
    pass


@contextmanager
def settings_in_environment(settings: Settings) -> Iterator[None]:
    """Every setting in the environment (where profiles.yml's env_var() reads them) for the duration."""
    saved = dict(os.environ)
    for field in fields(settings):
        option = OPTIONS.get(field.name)
        if option is not None:
            os.environ[option.env] = str(getattr(settings, field.name))
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def target_path(target: str) -> Path:
    return DBT_PROJECT / "target" / target


def dbt(settings: Settings, command: list[str], target: str) -> object:
    """Run one dbt command against ``target``; raise DbtFailure (with dbt's own messages logged) if it fails."""
    from dbt.cli.main import dbtRunner

    arguments = [
        "--quiet",  # errors only: `jobpulse run` reports the outcome itself
        *command,
        "--project-dir", str(DBT_PROJECT),
        "--profiles-dir", str(DBT_PROJECT),
        "--target", target,
        "--target-path", str(target_path(target)),
    ]  # fmt: skip
    with settings_in_environment(settings):
        result = dbtRunner().invoke(arguments)
    if not result.success:
        raise DbtFailure(f"`dbt {' '.join(command)} --target {target}` failed: {result.exception or 'see its log'}")
    return result.result


def build(settings: Settings, target: str, variables: dict[str, str] | None = None) -> object:
    """Models and tests of one target (its folders carry the target's tag)."""
    extra = ["--vars", json.dumps(variables)] if variables else []
    return dbt(settings, ["build", "--select", f"tag:{target}", *extra], target)


def parse(settings: Settings) -> Path:
    """Write the manifest the Airflow DAGs render from (Cosmos' LoadMode.DBT_MANIFEST); no database is needed."""
    dbt(settings, ["parse"], LAKEHOUSE)
    return target_path(LAKEHOUSE) / "manifest.json"
