"""Shared fixtures. Integration tests run against the real local stack (`make test` starts it; the
``running_stack`` fixture starts it too when pytest is run by hand)."""

from __future__ import annotations

import pytest

from jobpulse.config import Settings, load_settings


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
