from __future__ import annotations

import pytest

from jobpulse.config import load_settings
from jobpulse.namespace import named


def test_a_namespace_renames_everything_the_pipeline_owns_and_nothing_else():
    base = load_settings({})
    settings = named(base, "staging_2")
    assert (settings.kafka_topic, settings.kafka_dlq_topic, settings.collector_group) == (
        "staging_2",
        "staging_2.dlq",
        "staging_2",
    )
    assert (
        settings.cassandra_keyspace,
        settings.lakehouse_database,
        settings.dbt_lakehouse_schema,
        settings.mysql_database,
    ) == ("staging_2", "staging_2_lake", "staging_2_models", "staging_2_dw")
    owned = {"kafka_topic", "kafka_dlq_topic", "collector_group", "cassandra_keyspace", "lakehouse_database"}
    owned |= {"dbt_lakehouse_schema", "mysql_database"}
    changed = {name for name in vars(base) if getattr(base, name) != getattr(settings, name)}
    assert changed == owned


@pytest.mark.parametrize("name", ["", "a-b", "x; DROP DATABASE data_warehouse", "dw.events"])
def test_a_name_that_is_not_an_identifier_is_refused(name: str):
    with pytest.raises(ValueError, match="letters, digits and underscores"):
        named(load_settings({}), name)
