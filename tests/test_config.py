from __future__ import annotations

from pathlib import Path

import pytest

from jobpulse.config import OPTIONS, PROJECT_ROOT, load_settings


def test_defaults_are_the_local_stack():
    settings = load_settings({})
    assert (settings.cassandra_port, settings.kafka_port, settings.mysql_port, settings.spark_thrift_port) == (
        9042,
        9092,
        3306,
        10000,
    )
    assert settings.state_dir == PROJECT_ROOT / ".stack"
    assert settings.kafka_bootstrap == "127.0.0.1:9092"
    assert settings.mysql_database == "data_warehouse"


def test_environment_overrides_and_paths_resolve(tmp_path: Path):
    settings = load_settings({"JOBPULSE_KAFKA_PORT": "19092", "JOBPULSE_STATE_DIR": str(tmp_path / "s")})
    assert settings.kafka_port == 19092
    assert settings.state_dir == tmp_path / "s"
    assert settings.warehouse_dir == tmp_path / "s" / "lakehouse"


def test_a_non_numeric_port_names_its_variable():
    with pytest.raises(ValueError, match="JOBPULSE_MYSQL_PORT"):
        load_settings({"JOBPULSE_MYSQL_PORT": "three-three-oh-six"})


def test_every_setting_is_documented_in_the_readme():
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert [option.env for option in OPTIONS.values() if option.env not in readme] == []
