"""The chaos soak's short version: every kind of kill once while traffic flows, then the checker."""

from __future__ import annotations

from collections import Counter

import pytest

from bench import soak
from jobpulse.config import Settings

pytestmark = [pytest.mark.stack_lifecycle, pytest.mark.soak]  # it kills every service of the stack


def test_every_kind_of_kill_under_traffic_loses_nothing_and_counts_everything_once(running_stack: Settings):
    result = soak.main(
        ["--short", "--rate", "100", "--minutes", "3", "--warmup", "1", "--gap", "20", "--catch-up", "10",
         "--name", "soak_short"]
    )  # fmt: skip
    assert Counter(kill["kind"] for kill in result["kills"]) == {kind: 1 for kind in soak.KINDS}
    assert result["checker"]["passed"], result["checker"]
    assert result["malformed"] > 0 and result["redeliveries"] > 0 and result["late_events"] > 0
