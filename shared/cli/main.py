"""`caprural`: run the embedded stack, publish events, and operate the platform."""

from __future__ import annotations

import argparse
import asyncio
import sys
import urllib.request
from pathlib import Path

from pydantic import ValidationError

from shared.cli import report
from shared.contract import EVENTS
from shared.deadletters import REPLAY_GROUP, read_dead_letters, replay
from shared.errors import readable
from shared.kafka import ensure_topics
from shared.publishing import build_event, parse_payload, publish_events
from shared.settings import Settings


def _dev(args: argparse.Namespace) -> int:
    from shared.devstack.stack import StackOptions, run_stack

    options = StackOptions(
        host=args.host,
        kafka_port=args.kafka_port,
        mongodb_port=args.mongodb_port,
        smtp_port=args.smtp_port,
        var=args.var,
        mail_folder=args.mail_folder,
        health_port_base=args.health_port_base,
        gateway_port=args.gateway_port,
    )
    return run_stack(options)


def _publish(args: argparse.Namespace) -> int:
    try:
        event = build_event(args.type, parse_payload(args.payload), subject=args.subject)
    except ValidationError as error:
        print("refused, the fields at fault:", file=sys.stderr)
        for line in readable(error).splitlines():
            print(f"  {line}", file=sys.stderr)
        return 2
    except (ValueError, KeyError, OSError) as error:
        print(f"refused: {error}", file=sys.stderr)
        return 2
    asyncio.run(publish_events(Settings(), [event]))
    print(f"published {event.type} {event.id}")
    return 0


def _topics(args: argparse.Namespace) -> int:
    created = asyncio.run(ensure_topics(Settings(), EVENTS, timeout=args.timeout))
    print(f"{len(created)} topic(s) created; {len(EVENTS) * 2} expected in all")
    return 0


def _health(args: argparse.Namespace) -> int:
    url = f"http://127.0.0.1:{args.port}/ready"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            print(response.read().decode())
            return 0 if response.status == 200 else 1
    except OSError as error:
        print(f"not ready: {error}", file=sys.stderr)
        return 1


def _seed(args: argparse.Namespace) -> int:
    from services.programme.seed import seed

    count = asyncio.run(seed(Settings()))
    print(f"published {count} interview topic proposals (publishing again changes nothing)")
    return 0


def _preview(args: argparse.Namespace) -> int:
    from services.notifications.emails.preview import write_previews

    paths = write_previews(args.folder)
    print(f"wrote {len(paths)} files under {args.folder}")
    return 0


def _dlq(args: argparse.Namespace) -> int:
    settings = Settings()
    types = args.type or None
    group = REPLAY_GROUP if args.action == "replay" or args.pending else None
    letters = asyncio.run(read_dead_letters(settings, types, group=group))
    for letter in letters:
        attempts = letter.headers.get("x-dlq-attempts", "1")
        print(
            f"{letter.dlq_topic} [{letter.partition}] @{letter.offset} "
            f"(from {letter.source_topic}, {attempts} attempt(s))"
        )
        for line in letter.error.splitlines() or ["(no reason recorded)"]:
            print(f"    {line}")
    if args.action == "replay":
        count = asyncio.run(replay(settings, letters))
        print(f"replayed {count} message(s) to their source topics")
    else:
        print(f"{len(letters)} dead letter(s)")
    return 0


def _status(args: argparse.Namespace) -> int:
    from shared.cli.status import gather, render
    from shared.endpoints import local_urls, parse_urls

    settings = Settings()
    try:
        urls = {**local_urls(settings), **parse_urls(args.url or [])}
    except ValueError as error:
        print(f"refused: {error}", file=sys.stderr)
        return 2
    status = asyncio.run(gather(settings, urls))
    print(render(status))
    return 0 if status.healthy else 1


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(prog="caprural", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    dev = commands.add_parser(
        "dev", help="run Kafka, MongoDB, SMTP, the four services and the gateway"
    )
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--kafka-port", type=int, default=9092)
    dev.add_argument("--mongodb-port", type=int, default=27017)
    dev.add_argument("--smtp-port", type=int, default=1025)
    dev.add_argument("--var", type=Path, default=Path("var"), help="data and logs folder")
    dev.add_argument("--mail-folder", type=Path, default=None, help="default: <var>/mail")
    dev.add_argument(
        "--health-port-base", type=int, default=8081, help="registration's; the others follow"
    )
    dev.add_argument("--gateway-port", type=int, default=8080, help="the public pages")
    dev.set_defaults(func=_dev)

    publish = commands.add_parser(
        "publish", help="validate and publish a CloudEvent (uses KAFKA_BOOTSTRAP_SERVERS)"
    )
    publish.add_argument("type", help="event type, e.g. registration_requested")
    publish.add_argument("payload", help="JSON (the data, or a whole CloudEvent) or @file")
    publish.add_argument("--subject", default=None, help="CloudEvent subject / Kafka key")
    publish.set_defaults(func=_publish)

    topics = commands.add_parser("topics", help="create every topic and DLQ (idempotent)")
    topics.add_argument("--timeout", type=float, default=120.0, help="wait for Kafka (s)")
    topics.set_defaults(func=_topics)

    health = commands.add_parser("health", help="exit 0 when the local service is ready")
    health.add_argument("--port", type=int, default=8080)
    health.set_defaults(func=_health)

    seed = commands.add_parser("seed", help="propose the nine interview topics (idempotent)")
    seed.set_defaults(func=_seed)

    preview = commands.add_parser("preview", help="render one email of every kind")
    preview.add_argument("folder", type=Path, nargs="?", default=Path("var/preview"))
    preview.set_defaults(func=_preview)

    dlq = commands.add_parser("dlq", help="list or replay dead-lettered messages")
    dlq.add_argument("action", choices=["list", "replay"])
    dlq.add_argument("--type", action="append", help="event type (repeatable); default all")
    dlq.add_argument("--pending", action="store_true", help="list only what was not replayed yet")
    dlq.set_defaults(func=_dlq)

    report.add_command(commands)

    status = commands.add_parser(
        "status", help="services, consumer lag, dead letters, deliveries, upcoming sessions"
    )
    status.add_argument(
        "--url",
        action="append",
        metavar="SERVICE=URL",
        help="where a service answers (repeatable); default this machine's ports",
    )
    status.set_defaults(func=_status)
    return parser


def command_names() -> set[str]:
    """The subcommands of `caprural`."""
    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `caprural` console script."""
    args = build_parser().parse_args(argv)
    sys.exit(args.func(args))


if __name__ == "__main__":
    main()
