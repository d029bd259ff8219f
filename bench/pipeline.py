"""End-to-end `jobpulse run`: a backfill of 2 million events, then 50,000 new events on top, with the time of
each step, beside the seed project's algorithm on the same data.

The events are written straight into the raw log of a namespace of the benchmark's own (keyspace, lakehouse
databases, MySQL database), as a backfill finds them; the collector's own throughput is bench/collector.py's.
The seed algorithm, as the original project runs it: read the whole log, four filtered group-bys (clicks,
conversions, qualified, unqualified) at the grain, full outer joins of the four, a join to the jobs for the
company, and a JDBC append to MySQL; then again with its `ts >= watermark` filter for the new events.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
import uuid
from datetime import datetime

from bench import results
from bench.ingest import events_from, store
from jobpulse.config import Settings, load_settings

GRAIN = ["job_id", "dates", "hours", "publisher_id", "campaign_id", "group_id"]


def namespace() -> Settings:
    suffix = "bench"
    return dataclasses.replace(
        load_settings(),
        kafka_topic=f"bench.pipeline.{uuid.uuid4().hex[:6]}",
        kafka_dlq_topic=f"bench.pipeline.{uuid.uuid4().hex[:6]}.dlq",
        collector_group=f"bench-pipeline-{uuid.uuid4().hex[:6]}",
        cassandra_keyspace=f"{suffix}_pipeline",
        lakehouse_database=f"{suffix}_lake",
        dbt_lakehouse_schema=f"{suffix}_models",
        mysql_database=f"{suffix}_dw",
        ingest_safety_lag=1,
    )


def reset(settings: Settings) -> None:
    from pyhive import hive

    from jobpulse.clients import cassandra_cluster
    from jobpulse.migrations import migrate
    from jobpulse.stack import service

    cursor = hive.connect(host=settings.spark_thrift_host, port=settings.spark_thrift_port).cursor()
    for database in (settings.lakehouse_database, settings.dbt_lakehouse_schema):
        cursor.execute(f"DROP DATABASE IF EXISTS {database} CASCADE")
    cluster = cassandra_cluster(settings)
    cluster.connect().execute(f"DROP KEYSPACE IF EXISTS {settings.cassandra_keyspace}", timeout=120)
    cluster.shutdown()
    service(settings, "mariadb").admin_sql(
        f"DROP DATABASE IF EXISTS {settings.mysql_database};"
        f"CREATE DATABASE {settings.mysql_database} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;"
        f"GRANT ALL PRIVILEGES ON {settings.mysql_database}.* TO '{settings.mysql_user}'@'%';"
    )
    migrate(settings, say=lambda message: None)


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
    url = f"jdbc:mariadb://{settings.mysql_host}:{settings.mysql_port}/{settings.mysql_database}"
    jobs = (
        spark.read.format("jdbc")
        .option("url", url)
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
        .option("dbtable", "seed_events")
        .option("user", settings.mysql_user)
        .option("password", settings.mysql_password)
        .mode("append")
        .save()
    )
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--new-events", type=int, default=50_000)
    args = parser.parse_args()

    from ingest.simulator import Simulator
    from jobpulse.pipeline import run_once

    settings = namespace()
    reset(settings)
    events = events_from(Simulator(seed=13, start=datetime(2026, 11, 1), rate=1000).events(), 10**9)

    store(settings, events, args.events)
    backfill = run_once(settings, say=lambda message: None)
    store(settings, events, args.new_events)
    incremental = run_once(settings, say=lambda message: None)

    from jobpulse.clients import mysql_connect

    connection = mysql_connect(settings)
    cursor = connection.cursor()
    cursor.execute("SELECT DATE_FORMAT(MAX(TIMESTAMP(dates) + INTERVAL hours HOUR), '%Y-%m-%d %H:00:00') FROM events")
    (watermark,) = cursor.fetchone()
    connection.close()
    seed_full = seed_algorithm(settings, None)
    seed_incremental = seed_algorithm(settings, watermark)

    def summary(report: object, events: int) -> dict:
        seconds = sum(report.step_seconds.values())  # type: ignore[attr-defined]
        return {
            "events": events,
            "seconds": round(seconds, 2),
            "events_per_s": round(events / seconds),
            "cells_changed": report.cells_changed,  # type: ignore[attr-defined]
            "step_seconds": report.step_seconds,  # type: ignore[attr-defined]
        }

    results.write(
        "pipeline",
        {
            "backfill": summary(backfill, backfill.events_landed),
            "incremental": summary(incremental, incremental.events_landed),
            "seed_algorithm": {
                "full_pass_seconds": round(seed_full, 2),
                "watermark_pass_seconds": round(seed_incremental, 2),
                "note": "four filtered group-bys, full outer joins, JDBC append; the watermark pass filters "
                "ts >= the newest hour in events and so misses late events by design",
            },
        },
    )


if __name__ == "__main__":
    main()
