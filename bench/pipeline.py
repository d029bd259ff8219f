"""End-to-end `jobpulse run`: a backfill of 2 million events, then 50,000 new events on top, with the time of
each step, beside the seed project's algorithm on the same data. With `--busy-day`, the other case: a run's cost
late in a busy day (below).

The events are written straight into the raw log of a namespace of the benchmark's own (keyspace, lakehouse
databases, MySQL database), as a backfill finds them; the collector's own throughput is bench/collector.py's.
The seed algorithm, as the original project runs it: read the whole log, four filtered group-bys (clicks,
conversions, qualified, unqualified) at the grain, full outer joins of the four, a join to the jobs for the
company, and a JDBC append to MySQL; then again with its `ts >= watermark` filter for the new events.

`--busy-day`: one minute of traffic at 200 events/s (12,000 events) on top of 1 million, then of 5 million
events of the same event date (each in a namespace of its own, bulk-loaded into the raw log and carried into
`events` by a backfill run first). A run's cost must follow its new events, not the day: the two incremental
runs' totals may differ by at most 20 %.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Callable
from datetime import datetime

from bench import results
from bench.ingest import events_from, store, store_history
from jobpulse.config import Settings, load_settings
from jobpulse.namespace import create, drop, named

GRAIN = ["job_id", "dates", "hours", "publisher_id", "campaign_id", "group_id"]
BUSY_DAY_RATE = 200.0  # events/s, the day's traffic
BUSY_DAY_DATE = datetime(2026, 10, 1)


def namespace(name: str = "bench_pipeline") -> Settings:
    return dataclasses.replace(named(load_settings(), name), ingest_safety_lag=1)


def seed_algorithm(settings: Settings, watermark: str | None) -> float:
    """The original project's job, timed: full read (filtered on ts when given a watermark) to a JDBC append."""
    from pyspark.sql import functions as F

    from jobpulse.lakehouse import spark_session

    spark = spark_session(settings, "jobpulse-bench-seed")
    began = time.perf_counter()
    log = spark.read.table(f"cassandra.{settings.cassandra_keyspace}.tracking")
    if watermark is not None:
        log = log.where(F.col("ts") >= watermark)
    base = log.where(F.col("job_id").isNotNull()).select(
        "job_id",
        F.to_date("ts").alias("dates"),
        F.hour("ts").alias("hours"),
        F.coalesce("publisher_id", F.lit(0.0)).alias("publisher_id"),
        F.coalesce("campaign_id", F.lit(0.0)).alias("campaign_id"),
        F.coalesce("group_id", F.lit(0.0)).alias("group_id"),
        F.coalesce("bid", F.lit(0.0)).alias("bid"),
        F.lower(F.trim("custom_track")).alias("track"),
    )
    clicks = (
        base.where("track = 'click'")
        .groupBy(GRAIN)
        .agg(F.count("*").alias("clicks"), F.sum("bid").alias("spend_hour"), F.round(F.avg("bid"), 2).alias("bid_set"))
    )
    parts = [clicks] + [
        base.where(f"track = '{kind}'").groupBy(GRAIN).agg(F.count("*").alias(name))
        for kind, name in [
            ("conversion", "conversion"),
            ("qualified", "qualified_application"),
            ("unqualified", "disqualified_application"),
        ]
    ]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.join(part, GRAIN, "full_outer")
    # the mysql scheme makes Spark use its MySQL dialect (backquoted names); the MariaDB driver accepts it so
    url = f"jdbc:mysql://{settings.mysql_host}:{settings.mysql_port}/{settings.mysql_database}?permitMysqlScheme"
    jobs = (
        spark.read.format("jdbc")
        .option("url", url)
        .option("driver", "org.mariadb.jdbc.Driver")
        .option("dbtable", "job")
        .option("user", settings.mysql_user)
        .option("password", settings.mysql_password)
        .load()
        .select(F.col("id").cast("double").alias("job_id"), "company_id")
    )
    (
        joined.join(jobs, "job_id", "left")
        .withColumn("sources", F.lit("Cassandra"))
        .withColumn("latest_update_time", F.current_timestamp())
        .write.format("jdbc")
        .option("url", url)
        .option("driver", "org.mariadb.jdbc.Driver")
        .option("dbtable", "seed_events")
        .option("user", settings.mysql_user)
        .option("password", settings.mysql_password)
        .mode("append")
        .save()
    )
    return time.perf_counter() - began


def run_summary(report: object, events: int) -> dict:
    seconds = sum(report.step_seconds.values())  # type: ignore[attr-defined]
    return {
        "events": events,
        "seconds": round(seconds, 2),
        "events_per_s": round(events / seconds) if seconds else None,
        "cells_changed": report.cells_changed,  # type: ignore[attr-defined]
        "step_seconds": report.step_seconds,  # type: ignore[attr-defined]
    }


def late_in_the_day(day_events: int, new_events: int, say: Callable[[str], None]) -> dict:
    """A backfill of ``day_events`` of one event date, then ``new_events`` more of that date through the change
    feed and an incremental run; the namespace is dropped after."""
    from ingest.simulator import Simulator
    from jobpulse.pipeline import run_once

    settings = namespace("bench_busy_day")
    drop(settings)
    create(settings)
    try:
        began = time.perf_counter()
        end = store_history(settings, start=BUSY_DAY_DATE, rate=BUSY_DAY_RATE, count=day_events, seed=21)
        load_seconds = time.perf_counter() - began
        say(f"{day_events} events in the raw log in {load_seconds:.0f}s; backfill run")
        backfill = run_once(settings, say=say)
        new = events_from(Simulator(seed=99, start=end, rate=BUSY_DAY_RATE).events(), new_events)
        store(settings, new, new_events)
        incremental = run_once(settings, say=say)
        return {
            "raw_log_load": {
                "events": day_events,
                "seconds": round(load_seconds, 1),
                "events_per_s": round(day_events / load_seconds),
            },
            "backfill": run_summary(backfill, backfill.events_landed),
            "incremental": run_summary(incremental, incremental.events_landed),
        }
    finally:
        drop(settings)


def busy_day(small: int, large: int, new_events: int, say: Callable[[str], None], *, record: bool) -> None:
    cases = {}
    for day_events in (small, large):
        say(f"case: {new_events} new events on {day_events} events of {BUSY_DAY_DATE.date()}")
        cases[day_events] = late_in_the_day(day_events, new_events, say)
    totals = [cases[day_events]["incremental"]["seconds"] for day_events in (small, large)]
    results.write(
        "pipeline_busy_day",
        {
            "rate_events_per_second": BUSY_DAY_RATE,
            "new_events": new_events,
            "day_events": [small, large],
            "incremental_run_seconds": totals,
            "ratio_large_to_small": round(totals[1] / totals[0], 3),
            "target_ratio": 1.2,
            "cases": {str(day_events): case for day_events, case in cases.items()},
        },
        record=record,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--new-events", type=int, default=50_000)
    parser.add_argument("--history-days", type=float, default=28.0, help="event time the backfill spans")
    parser.add_argument("--busy-day", action="store_true", help="the late-in-a-busy-day case instead")
    parser.add_argument("--day-events", type=int, nargs=2, default=[1_000_000, 5_000_000], metavar=("SMALL", "LARGE"))
    results.add_arguments(parser)
    args = parser.parse_args()

    def say(message: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)

    if args.busy_day:
        busy_day(*args.day_events, new_events=12_000, say=say, record=args.write)
        return

    settings = namespace()
    drop(settings)  # what an interrupted run left
    create(settings)
    try:
        measured = measure(settings, args, say)
    finally:  # 3 GB of raw log and lakehouse otherwise stay behind
        drop(settings)
    results.write("pipeline", {"history_days": args.history_days, **measured}, record=args.write)


def measure(settings: Settings, args: argparse.Namespace, say: Callable[[str], None]) -> dict:
    """The backfill and the incremental run, then the seed algorithm on the same data."""
    from ingest.simulator import Simulator
    from jobpulse.clients import mysql_connect
    from jobpulse.pipeline import run_once

    # Spread over weeks of event time, as a platform's history is: the new events then touch a day or two
    # of cells, which is what an incremental run recomputes whole (on one day's data, it is the whole table).
    rate = args.events / (args.history_days * 86400)
    events = events_from(Simulator(seed=13, start=datetime(2026, 10, 1), rate=rate).events(), 10**9)

    say(f"storing {args.events} events in the raw log")
    store(settings, events, args.events)
    backfill = run_once(settings, say=say)
    say(f"storing {args.new_events} new events")
    store(settings, events, args.new_events)
    incremental = run_once(settings, say=say)

    connection = mysql_connect(settings)
    cursor = connection.cursor()
    cursor.execute("SELECT DATE_FORMAT(MAX(TIMESTAMP(dates) + INTERVAL hours HOUR), '%Y-%m-%d %H:00:00') FROM events")
    (watermark,) = cursor.fetchone()
    connection.close()
    say("seed algorithm")
    seed_full = seed_algorithm(settings, None)
    seed_incremental = seed_algorithm(settings, watermark)

    return {
        "backfill": run_summary(backfill, backfill.events_landed),
        "incremental": run_summary(incremental, incremental.events_landed),
        "seed_algorithm": {
            "full_pass_seconds": round(seed_full, 2),
            "watermark_pass_seconds": round(seed_incremental, 2),
            "note": "four filtered group-bys, full outer joins, JDBC append; the watermark pass filters "
            "ts >= the newest hour in events and so misses late events by design",
        },
    }


if __name__ == "__main__":
    main()
