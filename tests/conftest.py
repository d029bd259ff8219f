"""Shared fixtures. Integration tests run against the real local stack (`make test` starts it; the
``running_stack`` fixture starts it too when pytest is run by hand)."""

from __future__ import annotations

import os

import pytest

from jobpulse.config import Settings, load_settings

os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")  # asked for by pyspark.pandas, which pyspark.testing loads


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that stop and restart the stack go last, so they never pull services from under the others."""
    items.sort(key=lambda item: item.get_closest_marker("stack_lifecycle") is not None)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings()


@pytest.fixture(scope="session")
def running_stack(settings: Settings) -> Settings:
    from jobpulse import stack

    stack.up(settings, say=lambda message: None)
    return settings


@pytest.fixture(scope="session")
def spark(settings: Settings):
    """One Spark session for the whole run, on the shared lakehouse catalog (a JVM takes its classpath and
    configuration once, so unit tests of transforms use this session too; they touch no catalog)."""
    from jobpulse.lakehouse import spark_session

    session = spark_session(settings, "jobpulse-tests")
    yield session
    session.stop()
