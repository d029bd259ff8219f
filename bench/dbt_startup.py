"""dbt start-up per invocation: what each Cosmos task pays before its SQL runs, and what `jobpulse run` pays per
dbt call in-process. For each project, a `dbt ls` of one model (no database call: it loads dbt, the adapter,
the project and the partial-parse manifest, selects and exits) run `--repeat` times as a subprocess of its own
dbt, the median kept; and the same call through dbt's programmatic API inside one process (the lakehouse's way
in `jobpulse run`), after a first call that pays the imports.

`--compare-with CHECKOUT` also measures another checkout of this repository with its own .venv (say, the
single dbt-core 1.7 project before the split), side by side in the same run:
    git worktree add /tmp/before <rev> && (cd /tmp/before && make setup)
    python -m bench.dbt_startup --compare-with /tmp/before
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from bench import results
from jobpulse import dbt
from jobpulse.config import environment, load_settings

MODEL = {dbt.LAKEHOUSE: "fct_job_hourly", dbt.WAREHOUSE: "events"}


def timed(call: Callable[[], object], repeat: int) -> dict[str, float]:
    """Median and spread of ``repeat`` wall-clock calls (after one untimed warm-up call)."""
    call()
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        timings.append(time.perf_counter() - started)
    summaries = {"median": statistics.median, "min": min, "max": max}
    return {name: round(summary(timings), 2) for name, summary in summaries.items()}


def subprocess_seconds(command: list[str], env: dict[str, str], repeat: int) -> dict[str, float]:
    return timed(lambda: subprocess.run(command, env=env, check=True, capture_output=True), repeat)


def version(dbt_executable: Path) -> str:
    """`Core: - installed: 1.11.16` -> `1.11.16`"""
    output = subprocess.run([str(dbt_executable), "--version"], capture_output=True, text=True, check=True).stdout
    return next(line.split(":")[-1].strip() for line in output.splitlines() if "installed" in line)


def ls_command(dbt_executable: Path, project_dir: Path, model: str, target: str | None = None) -> list[str]:
    command = [str(dbt_executable), "--quiet", "ls", "--select", model, "--resource-type", "model"]
    command += ["--project-dir", str(project_dir), "--profiles-dir", str(project_dir)]
    return command + (["--target", target, "--target-path", str(project_dir / "target" / target)] if target else [])


def in_process_seconds(repeat: int) -> dict[str, float]:
    """The lakehouse project through dbt's programmatic API, as `jobpulse run` calls it."""
    settings = load_settings()
    return timed(lambda: dbt.dbt(settings, ["ls", "--select", MODEL[dbt.LAKEHOUSE]], dbt.LAKEHOUSE), repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--compare-with", type=Path, help="another checkout (with its .venv) to measure beside")
    results.add_arguments(parser)
    args = parser.parse_args()

    settings = load_settings()
    env = {**os.environ, **environment(settings)}
    for project in dbt.PROJECTS:
        dbt.dbt(settings, ["parse"], project)  # packages installed, partial-parse state written
    measured: dict[str, object] = {"repeat": args.repeat, "subprocess_seconds": {}}
    for project in dbt.PROJECTS:
        executable = dbt.executable(settings, project)
        command = ls_command(executable, dbt.project_dir(project), MODEL[project])
        measured["subprocess_seconds"][project] = {
            "dbt": version(executable),
            **subprocess_seconds(command, env, args.repeat),
        }
    measured["in_process_seconds"] = {dbt.LAKEHOUSE: {"dbt": version(dbt.executable(settings, dbt.LAKEHOUSE))}}
    measured["in_process_seconds"][dbt.LAKEHOUSE].update(in_process_seconds(args.repeat))
    if args.compare_with:
        before = args.compare_with.resolve()
        before_dbt = before / ".venv" / "bin" / "dbt"
        measured["compared_with"] = {
            "checkout": str(before),
            "dbt": version(before_dbt),
            "subprocess_seconds": {
                target: subprocess_seconds(
                    ls_command(before_dbt, before / "dbt_project", MODEL[target], target), env, args.repeat
                )
                for target in dbt.PROJECTS
            },
        }
    results.write("dbt_startup", measured, record=args.write)


if __name__ == "__main__":
    main()
