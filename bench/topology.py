"""The pipeline on the cluster topology beside the single node, on this machine, in one run: the same
`jobpulse run` case on each (a backfill of a day's events loaded straight into the raw log, then one minute of
traffic at 200 events/s through an incremental run, as `bench.pipeline --busy-day` does), each topology's stack
started for it and stopped after, then the ratios. Two cores cannot show a cluster's speed-up: what this
measures is what three replicas of everything, a Kafka and Cassandra quorum and executors in other JVMs cost
on the same machine. The single node stays the benchmark of record.

    python -m bench.topology                        # 500,000 events of the day, 12,000 new ones
"""

from __future__ import annotations

import argparse
import os
import time

from bench import results
from bench.pipeline import late_in_the_day
from jobpulse import stack
from jobpulse.config import OPTIONS, TOPOLOGIES, load_settings


def measure(topology: str, day_events: int, new_events: int) -> dict:
    os.environ[OPTIONS["topology"].env] = topology  # every settings load below follows it
    settings = load_settings()
    began = time.perf_counter()
    stack.up(settings, say=print)
    up_seconds = time.perf_counter() - began
    try:
        idle_memory = sum(row.memory_mib or 0 for row in stack.status(settings))
        case = late_in_the_day(day_events, new_events, say=print)
        busy_memory = sum(row.memory_mib or 0 for row in stack.status(settings))
    finally:
        stack.down(settings, say=print)
    return {
        "stack_up_seconds": round(up_seconds, 1),
        "stack_memory_mib": {"idle": idle_memory, "after_the_runs": busy_memory},
        **case,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--day-events", type=int, default=500_000)
    parser.add_argument("--new-events", type=int, default=12_000)
    results.add_arguments(parser)
    args = parser.parse_args()

    measured = {topology: measure(topology, args.day_events, args.new_events) for topology in TOPOLOGIES}
    single, cluster = measured["single"], measured["cluster"]
    results.write(
        "topology",
        {
            "day_events": args.day_events,
            "new_events": args.new_events,
            "cluster_over_single": {
                "raw_log_load": round(cluster["raw_log_load"]["seconds"] / single["raw_log_load"]["seconds"], 2),
                "backfill_run": round(cluster["backfill"]["seconds"] / single["backfill"]["seconds"], 2),
                "incremental_run": round(cluster["incremental"]["seconds"] / single["incremental"]["seconds"], 2),
                "memory_after_the_runs": round(
                    cluster["stack_memory_mib"]["after_the_runs"] / single["stack_memory_mib"]["after_the_runs"], 2
                ),
            },
            "topologies": measured,
        },
        record=args.write,
    )


if __name__ == "__main__":
    main()
