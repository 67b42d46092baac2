"""`caprural`: run the embedded stack, publish events as another system would."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

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
    )
    return run_stack(options)


def _publish(args: argparse.Namespace) -> int:
    try:
        event = build_event(args.type, parse_payload(args.payload), subject=args.subject)
    except (ValueError, KeyError, OSError) as error:
        print(f"rejected: {error}", file=sys.stderr)
        return 2
    asyncio.run(publish_events(Settings(), [event]))
    print(f"published {event.type} {event.id}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(prog="caprural", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    dev = commands.add_parser("dev", help="run Kafka, MongoDB, SMTP and the four services")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--kafka-port", type=int, default=9092)
    dev.add_argument("--mongodb-port", type=int, default=27017)
    dev.add_argument("--smtp-port", type=int, default=1025)
    dev.add_argument("--var", type=Path, default=Path("var"), help="data and logs folder")
    dev.add_argument("--mail-folder", type=Path, default=None, help="default: <var>/mail")
    dev.add_argument(
        "--health-port-base", type=int, default=8081, help="registration's; the others follow"
    )
    dev.set_defaults(func=_dev)

    publish = commands.add_parser(
        "publish", help="validate and publish a CloudEvent (uses KAFKA_BOOTSTRAP_SERVERS)"
    )
    publish.add_argument("type", help="event type, e.g. registration_requested")
    publish.add_argument("payload", help="JSON (the data, or a whole CloudEvent) or @file")
    publish.add_argument("--subject", default=None, help="CloudEvent subject / Kafka key")
    publish.set_defaults(func=_publish)
    return parser


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `caprural` console script."""
    args = build_parser().parse_args(argv)
    sys.exit(args.func(args))


if __name__ == "__main__":
    main()
