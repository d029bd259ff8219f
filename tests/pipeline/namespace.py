"""A pipeline of a test's own on the shared stack (jobpulse.namespace), created on entry and dropped on exit."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from jobpulse import namespace
from jobpulse.config import Settings


@contextmanager
def isolated_pipeline(base: Settings, name: str) -> Iterator[Settings]:
    settings = dataclasses.replace(namespace.named(base, f"test_{name}_{uuid.uuid4().hex[:8]}"), ingest_safety_lag=1)
    namespace.create(settings)
    try:
        yield settings
    finally:
        namespace.drop(settings)
