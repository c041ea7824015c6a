"""``headline-sieve`` command line: one sub-command module per concern.

Every expected failure (bad path, bad format, empty input, tampered model)
ends with one line on stderr and exit status 2; set HEADLINE_SIEVE_DEBUG=1 to
see the traceback of an unexpected one.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from cli import archive_command, filter_command, model_commands, service_commands

# Sub-command modules; each has ``register(subparsers)``.
COMMAND_MODULES = [model_commands, filter_command, service_commands, archive_command]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="headline-sieve",
        description="Score Chinese news headlines: clickbait gossip vs substantive news.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress at INFO")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(encoding="utf-8")  # JSON lines are UTF-8 whatever the locale
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("headline-sieve: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - the one place that turns errors into a line
        if os.environ.get("HEADLINE_SIEVE_DEBUG"):
            raise
        message = str(exc) or exc.__class__.__name__
        print(f"headline-sieve: error: {message.splitlines()[0]}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
