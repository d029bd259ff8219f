"""The dbt projects' own conventions, as dbt-score rules (`make lint` scores the lakehouse project's manifest,
which holds the warehouse project's models too). See ../shared/style.md and the README's model tables.

dbt-score reads each rule's annotations as classes, so this module has no `from __future__ import annotations`.
"""

from pathlib import PurePosixPath

from dbt_score import Model, RuleViolation, rule

# folder under models/ -> the prefixes a model's name takes there (dbt's structure guide, jaffle-shop)
PREFIXES = {"staging": ("stg_", "base_"), "intermediate": ("int_",)}
LAKEHOUSE_MART_PREFIX = "fct_"
# tables the pipeline's own steps write (the Spark ingest, the publish): documented and tested, never built
PIPELINE_TABLE = "pipeline_table"
GRAIN_TESTS = {"unique", "unique_combination_of_columns"}


def _folder(model: Model) -> str:
    """The first folder under models/ (`staging`, `intermediate`, `marts`, `landing`, `published`)."""
    parts = PurePosixPath(model.original_file_path).parts
    return parts[1] if len(parts) > 2 and parts[0] == "models" else ""


@rule
def model_name_says_its_layer(model: Model) -> RuleViolation | None:
    """A model's name starts with its layer's prefix: stg_ or base_ in staging, int_ in intermediate, fct_ in
    the lakehouse marts (the warehouse marts keep the names the dashboards and the metrics contract use)."""
    folder = _folder(model)
    prefixes = PREFIXES.get(folder, ())
    if folder == "marts" and model.package_name == "jobpulse_lakehouse":
        prefixes = (LAKEHOUSE_MART_PREFIX,)
    if prefixes and not model.name.startswith(prefixes):
        return RuleViolation(message=f"A model in {folder}/ is named {' or '.join(prefixes)}<name>.")
    return None


@rule
def model_has_a_grain_test(model: Model) -> RuleViolation | None:
    """Every model built by dbt tests its grain: a unique column or a unique combination of columns (the
    tables the pipeline's steps write are exempt: the landing table holds every delivery, redeliveries too)."""
    if model.config.get("materialized") == PIPELINE_TABLE:
        return None
    tests = [*model.tests, *(test for column in model.columns for test in column.tests)]
    if not any(test.type in GRAIN_TESTS for test in tests):
        return RuleViolation(message="No test of the model's grain (unique, unique_combination_of_columns).")
    return None


@rule
def pipeline_table_names_its_writer(model: Model) -> RuleViolation | None:
    """A table the pipeline writes says which step writes it (meta.written_by), for its docs and its error."""
    if model.config.get("materialized") == PIPELINE_TABLE and not model.meta.get("written_by"):
        return RuleViolation(message="A pipeline_table model sets meta.written_by.")
    return None
