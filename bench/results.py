"""Where benchmark results go: printed, and recorded in one JSON file per benchmark (with the machine it ran on)
only when asked (``--write``; `make bench` asks), so a trial run leaves the tracked results as they were."""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def cpu_model() -> str:
    """The processor's name as Linux reports it (machines of one kind differ by up to 1.5x)."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor() or "unknown"
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "unknown")


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model(),
        "load_average_1_5_15_min": [round(load, 2) for load in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--write", action="store_true", help="record the result in bench/results/ (else it is only printed)"
    )


def write(name: str, result: dict[str, Any], *, record: bool) -> Path | None:
    """Print the result; with ``record``, also write it to ``bench/results/<name>.json`` (returned)."""
    document = {
        "benchmark": name,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        **result,
    }
    print(json.dumps(document, indent=2))
    if not record:
        print(f"not recorded in {RESULTS / f'{name}.json'} (pass --write to record it)")
        return None
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path
