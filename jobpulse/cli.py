"""``jobpulse``: one command, a subcommand per capability of the pipeline."""

from __future__ import annotations

import argparse
import sys
import time

from jobpulse.config import OPTIONS, load_settings


def _setup(args: argparse.Namespace) -> int:
    """Fetch the JVM artifacts and install missing Debian packages; does nothing when all are there."""
    from jobpulse.stack import artifacts, system_packages

    settings = load_settings()
    if not args.jars_only:
        installed = system_packages.install_missing()
        if installed:
            print(f"installed Debian packages: {' '.join(installed)}")
    for bundle in artifacts.BUNDLES:
        began = time.monotonic()
        if artifacts.fetch(settings, bundle):
            count = len(artifacts.classpath(settings, bundle))
            print(f"fetched {bundle} jars: {count} files in {time.monotonic() - began:.0f}s")
        else:
            print(f"{bundle} jars: already in {artifacts.bundle_dir(settings, bundle)}")
    return 0


def _stack(args: argparse.Namespace) -> int:
    from jobpulse import stack

    settings = load_settings()
    if args.action in ("serve", "check"):
        if not args.service:
            raise ValueError(f"`stack {args.action}` needs a service name")
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
    print(f"{'service':<13} {'address':<17} {'pid':>7}  {'health':<9} detail")
    for row in rows:
        health = "healthy" if row.healthy else "DOWN"
        print(f"{row.name:<13} {row.host + ':' + str(row.port):<17} {row.pid or '-':>7}  {health:<9} {row.detail}")
    return 0 if all(row.healthy for row in rows) else 3


def _migrate(args: argparse.Namespace) -> int:
    from jobpulse.migrations import migrate

    changes = migrate(load_settings())
    print(f"schema up to date ({changes} change(s) applied)")
    return 0


def _config(args: argparse.Namespace) -> int:
    settings = load_settings()
    for name, option in OPTIONS.items():
        value = getattr(settings, name)
        shown = "********" if "PASSWORD" in option.env else value
        print(f"{option.env:<34} {shown!s:<28} {option.help}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jobpulse", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    setup_parser = commands.add_parser("setup", help="fetch JVM artifacts, install MariaDB; idempotent")
    setup_parser.add_argument("--jars-only", action="store_true", help="skip the Debian packages (container builds)")
    setup_parser.set_defaults(run=_setup)

    stack_parser = commands.add_parser("stack", help="start, stop or inspect the local services")
    stack_parser.add_argument(
        "action",
        choices=["up", "down", "status", "serve", "check"],
        help="serve/check: run one service in the foreground / probe it once (used by the compose deployment)",
    )
    stack_parser.add_argument("service", nargs="?", help="service name, for serve and check")
    stack_parser.set_defaults(run=_stack)

    commands.add_parser("migrate", help="apply pending schema migrations and create the Kafka topics").set_defaults(
        run=_migrate
    )

    commands.add_parser("config", help="show every setting, its variable and its value").set_defaults(run=_config)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # progress lines interleave correctly with errors
    from jobpulse.migrations import MigrationError
    from jobpulse.stack.process import ServiceError

    try:
        return args.run(args)
    except (ServiceError, MigrationError, ValueError) as error:
        print(f"jobpulse {args.command}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
