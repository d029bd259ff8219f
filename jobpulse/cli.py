"""``jobpulse``: one command, a subcommand per capability of the pipeline."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import NoReturn

from jobpulse.config import OPTIONS, PROJECT_ROOT, TOPOLOGIES, load_settings, setting_text
from jobpulse.errors import EX_UNAVAILABLE


def _setup(args: argparse.Namespace) -> int:
    """Fetch the JVM artifacts and install missing Debian packages; does nothing when all are there."""
    from jobpulse.progress import Progress
    from jobpulse.stack import artifacts, system_packages

    settings = load_settings()
    if not args.jars_only:
        installed = system_packages.install_missing()
        if installed:
            print(f"installed Debian packages: {' '.join(installed)}")
    for number, bundle in enumerate(artifacts.BUNDLES, start=1):
        began = time.monotonic()
        what = f"fetching the {bundle} jars ({number} of {len(artifacts.BUNDLES)} bundles) with Maven"
        with Progress(what, unit="files") as progress:
            fetched = artifacts.fetch(settings, bundle, progress)
        if fetched:
            count = len(artifacts.classpath(settings, bundle))
            print(f"fetched {bundle} jars: {count} files in {time.monotonic() - began:.0f}s")
        else:
            print(f"{bundle} jars: already in {artifacts.bundle_dir(settings, bundle)}")
    built = artifacts.build_spark_extension(settings)
    print(f"{'built' if built else 'already built'}: {artifacts.spark_extension_jar(settings)}")
    return 0


def _stack(args: argparse.Namespace) -> int:
    from jobpulse import stack

    if args.topology:  # as if JOBPULSE_TOPOLOGY were set: the other settings' defaults follow it
        os.environ[OPTIONS["topology"].env] = args.topology
    settings = load_settings()
    if args.action in ("serve", "check", "accounts"):
        if not args.service:
            raise ValueError(f"`stack {args.action}` needs a service name")
        if args.action == "accounts":
            stack.service(settings, args.service).after_start()
            return 0
        if args.action == "serve":
            stack.serve(settings, args.service)
        print(stack.check(settings, args.service))
        return 0
    if args.action == "up":
        began = time.monotonic()
        stack.up(settings)
        print(f"stack up in {time.monotonic() - began:.0f}s")
        return 0
    if args.action == "down":
        stack.down(settings)
        return 0
    rows = stack.status(settings)
    print(f"{'service':<16} {'address':<17} {'pid':>7} {'memory':>9}  {'health':<9} detail")
    for row in rows:
        health = "healthy" if row.healthy else "DOWN"
        memory = f"{row.memory_mib} MiB" if row.memory_mib is not None else "-"
        address = f"{row.host}:{row.port}"
        print(f"{row.name:<16} {address:<17} {row.pid or '-':>7} {memory:>9}  {health:<9} {row.detail}")
    total = sum(row.memory_mib or 0 for row in rows)
    print(f"{'in all':<16} {'':<17} {'':>7} {f'{total} MiB':>9}")
    return 0 if all(row.healthy for row in rows) else 3


def _migrate(args: argparse.Namespace) -> int:
    from jobpulse.migrations import migrate

    changes = migrate(load_settings())
    print(f"schema up to date ({changes} change(s) applied)")
    return 0


def _simulate(args: argparse.Namespace) -> int:
    """Publish simulated platform traffic to Kafka."""
    import itertools
    import random
    from datetime import datetime, timedelta

    from ingest.publisher import publish
    from ingest.simulator import Simulator, encode

    settings = load_settings()
    rate = args.rate or 0.0
    total = args.events if args.events is not None else (int(args.duration * (rate or 200)) if args.duration else None)
    if args.duration and not rate:
        rate = 200.0
    spacing = rate or 1000.0  # simulated events per second of event time
    seed = args.seed if args.seed is not None else random.randrange(1 << 31)
    start = args.start or (datetime.now() - timedelta(seconds=(total or 0) / spacing)).replace(microsecond=0)
    simulator = Simulator(seed=seed, start=start, rate=spacing)
    events = simulator.events() if total is None else itertools.islice(simulator.events(), total)
    messages = ((event["create_time"].encode(), encode(event)) for event in events)
    print(f"simulating from {start:%Y-%m-%d %H:%M:%S} (seed {seed}) to topic {settings.kafka_topic}", file=sys.stderr)
    began = time.monotonic()
    try:
        sent = publish(settings, messages, total=total, rate=rate, progress=not args.quiet)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    elapsed = time.monotonic() - began
    print(f"published {sent} events in {elapsed:.1f}s ({sent / max(elapsed, 1e-9):.0f} events/s)")
    return 0


def _replay(args: argparse.Namespace) -> int:
    """Publish newline-delimited JSON events to Kafka unchanged, or load them straight into Cassandra."""
    from ingest.replay import replay_direct, replay_to_kafka

    settings = load_settings()
    began = time.monotonic()
    if args.direct:
        report = replay_direct(settings, args.files, progress=not args.quiet)
        for line in report.invalid:
            print(f"invalid: {line}", file=sys.stderr)
        print(
            f"stored {report.stored} events from {report.lines} lines ({len(report.invalid)} invalid, "
            f"{report.empty} empty) in {time.monotonic() - began:.1f}s"
        )
        return 1 if report.invalid else 0
    report = replay_to_kafka(settings, args.files, rate=args.rate or 0.0, progress=not args.quiet)
    print(
        f"published {report.published} lines of {report.lines} ({report.empty} empty skipped) to "
        f"{settings.kafka_topic} in {time.monotonic() - began:.1f}s"
    )
    return 0


def _collect(args: argparse.Namespace) -> int:
    """Run the collector: Kafka -> Cassandra, rejects to the dead-letter topic."""
    from ingest.collector import Collector, CollectorConfig, GaveUp, health

    settings = load_settings()
    stats_file = settings.state_dir / "collector" / "stats.json"
    if args.health:
        healthy, detail = health(stats_file, max_age=args.health_max_age)
        print(detail)
        return 0 if healthy else 1
    config = CollectorConfig(
        batch_size=args.batch_size,
        stats_file=stats_file,
        publish_counters=True,
        dead_letter_attempts=args.dead_letter_attempts,
        dead_letter_timeout=args.dead_letter_timeout,
    )
    try:
        counters = Collector(settings, config).run(drain=args.drain)
    except GaveUp as error:
        logging.getLogger("jobpulse.collector").error(
            "collector stopped: %s. Its batch is not committed: the next start consumes it again.", error
        )
        return EX_UNAVAILABLE  # a service the command needs failed past its retries
    print(counters.line())
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from ingest.spark import ingest_job

    return ingest_job.execute(args)


def _status(args: argparse.Namespace) -> int:
    """Where the pipeline stands: the collector's counters and the ingest's capture position."""
    import json
    from datetime import UTC

    from ingest.capture import read_position
    from jobpulse.lakehouse import landing_table, landing_table_path

    settings = load_settings()
    now = datetime.now(UTC)
    stats_file = settings.state_dir / "collector" / "stats.json"
    if stats_file.is_file():
        stats = json.loads(stats_file.read_text())
        age = now.timestamp() - stats["updated_at"]
        print(
            f"collector   consumed {stats['consumed']}, written {stats['written']}, "
            f"dead-lettered {stats['dead_lettered']}, retries {stats['retries']}, lag {stats['lag']} "
            f"(pid {stats['pid']}, updated {age:.0f}s ago)"
        )
    else:
        print("collector   no counters yet (it writes them while running)")
    position = read_position(landing_table_path(settings))
    if position is None:
        print(f"ingest      nothing landed in {landing_table(settings)} yet: the first run backfills the log")
    else:
        behind = (now - position.to).total_seconds()
        print(
            f"ingest      batch {position.batch} landed {position.rows} rows at {position.landed_at}; "
            f"arrivals captured up to {position.to:%Y-%m-%d %H:%M:%S} UTC ({behind:.0f}s ago)"
        )
    return 0


def _run(args: argparse.Namespace) -> int:
    """One end-to-end micro-batch (and a reprocess of event dates, if asked)."""
    from jobpulse.pipeline import run_once
    from jobpulse.reprocessing import DateRange

    reprocess = None
    if args.reprocess:
        if len(args.reprocess) > 2:
            raise SystemExit("jobpulse run: --reprocess takes a first and an optional last date")
        try:
            reprocess = DateRange.parse(*args.reprocess)
        except ValueError as error:
            raise SystemExit(f"jobpulse run: {error}") from None
    report = run_once(load_settings(), reprocess=reprocess)
    for line in report.lines():
        print(line)
    return 0


def _maintain(args: argparse.Namespace) -> int:
    """Compact and vacuum the lakehouse's Delta tables (what the daily maintenance DAG runs)."""
    from jobpulse.maintenance import maintain

    maintain(load_settings(), before=args.before, retain_hours=args.retain_hours)
    return 0


def _docs(args: argparse.Namespace) -> int:
    """Generate both dbt docs sites and serve them: the lakehouse one on --port, the warehouse one on the next."""
    from contextlib import suppress
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
    from threading import Event, Thread

    from jobpulse import dbt

    settings = load_settings()
    if args.manifest_only:
        for project, manifest in dbt.parse(settings).items():
            print(f"{project} manifest written: {manifest}")
        return 0
    sites = dbt.generate_docs(settings)
    for project, site in sites.items():
        print(f"{project} docs generated in {site}")
    if args.generate_only:
        return 0
    servers = [
        ThreadingHTTPServer(("127.0.0.1", args.port + offset), partial(SimpleHTTPRequestHandler, directory=str(site)))
        for offset, site in enumerate(sites.values())
    ]
    for project, server in zip(sites, servers, strict=True):
        print(f"{project} docs: http://127.0.0.1:{server.server_address[1]}")
        Thread(target=server.serve_forever, daemon=True).start()
    with suppress(KeyboardInterrupt):
        Event().wait()
    return 0


def _demo(args: argparse.Namespace) -> int:
    """The whole system on this machine, or stop it."""
    from jobpulse import demo

    settings = load_settings()
    if args.action == "down":
        demo.down(settings)
        return 0
    demo.up(settings, rate=args.rate)
    demo.wait_for_rows(settings, timeout=args.wait)
    return 0


def _report(args: argparse.Namespace) -> int:
    """Draw the dashboards' main panels to PNG files, from the dashboards' own SQL."""
    from jobpulse import report

    for path in report.write(load_settings(), args.out, start=args.start, end=args.end):
        print(path)
    return 0


def _config(args: argparse.Namespace) -> int:
    settings = load_settings()
    for name, option in OPTIONS.items():
        value = getattr(settings, name)
        shown = "********" if option.secret else setting_text(value)
        print(f"{option.env:<34} {shown!s:<28} {option.help}")
    return 0


def _with_connections(args: argparse.Namespace) -> NoReturn:
    """Run a command with the settings' Airflow connections (`AIRFLOW_CONN_*`) in its environment: the compose
    deployment's Airflow entrypoint, so its connections are declared once, by connection_uris, from the
    JOBPULSE_* settings the containers get (compose cannot URL-encode a password into a URI itself). A
    connection the environment already defines stands."""
    from jobpulse.scheduling import connection_uris

    if not args.command_line:
        raise ValueError("name the command to run, e.g. `jobpulse with-connections airflow scheduler`")
    environment = {**connection_uris(load_settings()), **os.environ}
    try:
        os.execvpe(args.command_line[0], args.command_line, environment)
    except OSError as error:
        raise ValueError(f"cannot run {args.command_line[0]!r}: {error.strerror}") from None


def _timestamp(text: str) -> datetime:

    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a timestamp: {text!r} (use YYYY-MM-DD[THH:MM:SS])") from None


def version() -> str:
    """The installed package's version; from a source tree that is not installed, its pyproject.toml's."""
    from importlib import metadata

    try:
        return metadata.version("jobpulse")
    except metadata.PackageNotFoundError:
        import tomllib

        try:
            return tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["version"]
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jobpulse", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of a failure instead of what to do about it"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    setup_parser = commands.add_parser("setup", help="fetch JVM artifacts, install MariaDB; idempotent")
    setup_parser.add_argument("--jars-only", action="store_true", help="skip the Debian packages (container builds)")
    setup_parser.set_defaults(run=_setup)

    stack_parser = commands.add_parser("stack", help="start, stop or inspect the local services")
    stack_parser.add_argument(
        "action",
        choices=["up", "down", "status", "serve", "check", "accounts"],
        help="serve/check/accounts: run one service in the foreground / probe it once / make its accounts "
        "(used by the compose deployment)",
    )
    stack_parser.add_argument("service", nargs="?", help="service name, for serve, check and accounts")
    stack_parser.add_argument(
        "--topology", choices=TOPOLOGIES, help="single or cluster (default: JOBPULSE_TOPOLOGY, else single)"
    )
    stack_parser.set_defaults(run=_stack)

    commands.add_parser("migrate", help="apply pending schema migrations and create the Kafka topics").set_defaults(
        run=_migrate
    )

    simulate = commands.add_parser("simulate", help="publish simulated platform traffic to Kafka")
    amount = simulate.add_mutually_exclusive_group()
    amount.add_argument("--events", type=int, help="number of events (default: run until interrupted)")
    amount.add_argument("--duration", type=float, help="seconds of traffic at --rate (default rate 200/s)")
    simulate.add_argument("--rate", type=float, help="events per second (default: as fast as possible for --events)")
    simulate.add_argument("--start", type=_timestamp, help="time of the first event, YYYY-MM-DD[THH:MM:SS]")
    simulate.add_argument("--seed", type=int, help="random seed: same seed and start, same events")
    simulate.add_argument("--quiet", action="store_true", help="no progress bar")
    simulate.set_defaults(run=_simulate)

    replay = commands.add_parser("replay", help="publish newline-delimited JSON events from files or stdin")
    replay.add_argument("files", nargs="+", metavar="FILE", help="files to replay, - for stdin")
    replay.add_argument("--direct", action="store_true", help="validate and load straight into Cassandra")
    replay.add_argument("--rate", type=float, help="lines per second (default: as fast as possible)")
    replay.add_argument("--quiet", action="store_true", help="no progress bar")
    replay.set_defaults(run=_replay)

    collect = commands.add_parser("collect", help="consume the tracking topic into Cassandra")
    collect.add_argument("--drain", action="store_true", help="stop once the topic is fully consumed")
    collect.add_argument("--batch-size", type=int, default=5000, help="messages per batch (default 5000)")
    collect.add_argument(
        "--dead-letter-attempts", type=int, default=5, help="attempts to dead-letter rejects before exiting 69"
    )
    collect.add_argument("--dead-letter-timeout", type=float, default=30.0, help="seconds one attempt may take")
    collect.add_argument(
        "--health", action="store_true", help="exit 0 if a running collector wrote its counters recently, else 1"
    )
    collect.add_argument("--health-max-age", type=float, default=60.0, help="seconds that counts as recently")
    collect.set_defaults(run=_collect)

    from ingest.spark import ingest_job  # no Spark import: that happens when a batch is landed

    ingest = commands.add_parser("ingest", help="land new arrivals from Cassandra into the lakehouse")
    ingest_job.add_arguments(ingest)
    ingest.set_defaults(run=_ingest)

    run = commands.add_parser("run", help="one end-to-end micro-batch: collect, ingest, dbt, publish, dbt")
    run.add_argument(
        "--reprocess",
        nargs="+",
        metavar="DATE",
        help="also rebuild the event dates FIRST [LAST] (YYYY-MM-DD, inclusive) from the raw log",
    )
    run.set_defaults(run=_run)

    maintain = commands.add_parser("maintain", help="compact and vacuum the lakehouse tables (daily)")
    maintain.add_argument("--before", type=date.fromisoformat, help="compact partitions before this date (today)")
    maintain.add_argument("--retain-hours", type=int, default=168, help="VACUUM retention (at least 168)")
    maintain.set_defaults(run=_maintain)

    docs = commands.add_parser("docs", help="generate and serve the dbt docs sites (lakehouse, warehouse)")
    docs.add_argument("--port", type=int, default=8081, help="the lakehouse site's; the warehouse site's is next")
    docs.add_argument("--generate-only", action="store_true", help="write the site, do not serve it")
    docs.add_argument(
        "--manifest-only", action="store_true", help="only the manifests the DAGs render from (needs no database)"
    )
    docs.set_defaults(run=_docs)

    demo_parser = commands.add_parser("demo", help="the whole system: stack, collector, simulator, Airflow")
    demo_parser.add_argument("action", choices=["up", "down"])
    demo_parser.add_argument("--rate", type=float, default=20.0, help="simulated events per second")
    demo_parser.add_argument("--wait", type=float, default=420.0, help="seconds to wait for the first rows")
    demo_parser.set_defaults(run=_demo)

    report = commands.add_parser("report", help="draw the Grafana dashboards' main panels to PNG files")
    report.add_argument("--out", type=Path, default=Path("report"), help="output folder (default: report/)")
    report.add_argument(
        "--from", dest="start", type=_timestamp, help="range start, UTC (default: the oldest data, padded)"
    )
    report.add_argument(
        "--to", dest="end", type=_timestamp, help="range end, UTC (default: the newest data, padded; now for runs)"
    )
    report.set_defaults(run=_report)

    commands.add_parser("status", help="the collector's counters and the ingest's position").set_defaults(run=_status)

    commands.add_parser("config", help="show every setting, its variable and its value").set_defaults(run=_config)

    with_connections = commands.add_parser(
        "with-connections", help="run a command with the settings' Airflow connections (compose's Airflow entrypoint)"
    )
    with_connections.add_argument("command_line", nargs=argparse.REMAINDER, metavar="COMMAND", help="and its arguments")
    with_connections.set_defaults(run=_with_connections)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # progress lines interleave correctly with errors
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("jobpulse").setLevel(logging.INFO)
    for driver in ("cassandra", "thrift"):  # their failures reach us as exceptions; their own logs with --debug
        logging.getLogger(driver).setLevel(logging.ERROR if args.debug else logging.CRITICAL)
    from ingest.spark.ingest_job import ResyncNeeded
    from jobpulse.dbt import DbtFailure
    from jobpulse.errors import OperatorError, translate
    from jobpulse.migrations import MigrationError
    from jobpulse.stack.process import ServiceError

    try:
        return args.run(args)
    except (OperatorError, ServiceError, MigrationError, DbtFailure, ResyncNeeded, ValueError) as error:
        if args.debug:
            raise
        print(f"jobpulse {args.command}: {error}", file=sys.stderr)
        return error.exit_code if isinstance(error, OperatorError) else 1
    except Exception as error:
        # a stopped stack or a wrong password, as the driver raised it: say what to do, not where it happened
        known = None if args.debug else translate(error, load_settings())
        if known is None:
            raise
        print(f"jobpulse {args.command}: {known}", file=sys.stderr)
        return known.exit_code


if __name__ == "__main__":
    sys.exit(main())
