"""The dbt-score rules of the project's conventions (jobpulse/dbt_score_rules.py): they pass on the project
(`make lint` scores it) and catch what they are for, on models changed from the project's own manifest."""

from __future__ import annotations

import dataclasses

import pytest
from dbt_score import Model
from dbt_score.models import ManifestLoader

from jobpulse import dbt, dbt_score_rules
from jobpulse.config import Settings


@pytest.fixture(scope="module")
def models(settings: Settings) -> dict[str, Model]:
    """Both projects' models, from the lakehouse manifest and the warehouse one (`dbt parse`: no database)."""
    manifests = dbt.parse(settings)
    return {model.name: model for path in manifests.values() for model in ManifestLoader(path).models.values()}


def violation(rule: object, model: Model) -> str | None:
    found = rule().evaluate(model)
    return None if found is None else found.message


RULES = (
    dbt_score_rules.model_name_says_its_layer,
    dbt_score_rules.model_has_a_grain_test,
    dbt_score_rules.pipeline_table_names_its_writer,
)


def test_every_model_of_both_projects_keeps_the_conventions(models: dict[str, Model]):
    assert {"stg_datalake__tracking", "fct_job_hourly", "events", "job_hourly_facts"} <= models.keys()
    broken = {(rule.__name__, name) for rule in RULES for name, model in models.items() if violation(rule, model)}
    assert broken == set()


def test_a_model_named_for_another_layer_is_caught(models: dict[str, Model]):
    misnamed = dataclasses.replace(models["stg_datalake__tracking"], name="tracking_cleaned")
    assert "stg_ or base_" in violation(dbt_score_rules.model_name_says_its_layer, misnamed)
    mart = dataclasses.replace(models["fct_job_hourly"], name="job_hourly")
    assert "fct_" in violation(dbt_score_rules.model_name_says_its_layer, mart)
    assert violation(dbt_score_rules.model_name_says_its_layer, models["events"]) is None


def test_a_model_without_a_grain_test_is_caught(models: dict[str, Model]):
    events = models["events"]
    untested = dataclasses.replace(
        events, tests=[], columns=[dataclasses.replace(column, tests=[]) for column in events.columns]
    )
    assert "grain" in violation(dbt_score_rules.model_has_a_grain_test, untested)
    assert violation(dbt_score_rules.model_has_a_grain_test, models["landed_tracking"]) is None


def test_a_pipeline_table_must_name_the_step_that_writes_it(models: dict[str, Model]):
    anonymous = dataclasses.replace(models["job_hourly_facts"], meta={})
    assert "written_by" in violation(dbt_score_rules.pipeline_table_names_its_writer, anonymous)
