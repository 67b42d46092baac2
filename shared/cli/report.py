"""`caprural report --year Y --out DIR`: the activity report, from the services' report
views (docs/report.md).

The services are reached on this machine, each on the port its settings give it
(`HEALTH_PORT`, else registration 8081, programme 8082, scheduling 8083, notifications
8084: the ports of `caprural dev`); `--url SERVICE=URL` (repeatable) points one
elsewhere.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from shared.calendar import PARIS
from shared.settings import Settings


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The `report` subcommand and its options."""
    report = commands.add_parser(
        "report", help="write the year's activity report (HTML page and CSV files)"
    )
    report.add_argument(
        "--year", type=int, default=datetime.now(PARIS).year, help="default: this year"
    )
    report.add_argument("--out", type=Path, required=True, help="folder for the files")
    report.add_argument(
        "--url",
        action="append",
        default=[],
        metavar="SERVICE=URL",
        help="where a service answers, e.g. registration=http://10.0.0.5:8081 (repeatable); "
        "default http://127.0.0.1:<its port>",
    )
    report.add_argument("--timeout", type=float, default=30.0, help="per service (s)")
    report.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Fetch the figures, write the files; 1 when a service cannot be reached."""
    from shared.endpoints import local_urls, parse_urls
    from shared.report.render import write_report
    from shared.report.sources import REPORTED, Unreachable, fetch
    from shared.report.tables import build
    from shared.report.views import FIRST_YEAR, LAST_YEAR

    if not FIRST_YEAR <= args.year <= LAST_YEAR:
        print(f"refused: --year must be from {FIRST_YEAR} to {LAST_YEAR}", file=sys.stderr)
        return 2
    try:
        urls = {**local_urls(Settings(), REPORTED), **parse_urls(args.url, REPORTED)}
    except ValueError as error:
        print(f"refused: --url {error}", file=sys.stderr)
        return 2
    try:
        sources = fetch(urls, args.year, timeout=args.timeout)
    except Unreachable as error:
        print(
            f"cannot reach the {error.service} service at {error.url}: {error.reason}\n"
            f"is it running? (--url {error.service}=http://host:port points elsewhere)",
            file=sys.stderr,
        )
        return 1
    report = build(sources, now=datetime.now(UTC))
    paths = write_report(report, args.out)
    print(f"activity report {args.year}: {len(paths)} files written")
    for path in paths:
        print(f"  {path}")
    return 0
