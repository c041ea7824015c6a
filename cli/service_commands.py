"""``serve`` and ``token create|list|revoke``: the HTTP service's commands."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from service.config import settings_help

HOME_HELP = "state directory (default: $HEADLINE_SIEVE_HOME, else ./var)"
CONFIG_HELP = "TOML settings file (default: $HEADLINE_SIEVE_CONFIG)"
DATABASE_HELP = ("sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DB (default: "
                 "$HEADLINE_SIEVE_DATABASE_URL, else HOME/labels.sqlite3)")
REGISTRY_HELP = "model registry directory (default: $HEADLINE_SIEVE_REGISTRY, else HOME/models)"


def register(subparsers) -> None:
    serve = subparsers.add_parser("serve", help="run the HTTP service under gunicorn",
                                  epilog=settings_help(),
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    serve.add_argument("--home", type=Path, help=HOME_HELP)
    serve.add_argument("--config", type=Path, help=CONFIG_HELP)
    serve.add_argument("--database-url", help=DATABASE_HELP)
    serve.add_argument("--registry", type=Path, help=REGISTRY_HELP)
    serve.add_argument("--host", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="TCP port (default 8000)")
    serve.add_argument("--workers", type=int, help="worker processes (default 2)")
    serve.set_defaults(handler=run_serve)

    token = subparsers.add_parser("token", help="manage the bearer tokens of the service")
    actions = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="make a token; prints it once (last line)")
    create.add_argument("name", help="who or what uses it, e.g. editor-desk")
    revoke = actions.add_parser("revoke", help="delete a token; it stops working at once")
    revoke.add_argument("name")
    listing = actions.add_parser("list", help="token names and creation times")
    for parser, handler in ((create, run_token_create), (revoke, run_token_revoke),
                            (listing, run_token_list)):
        parser.add_argument("--home", type=Path, help=HOME_HELP)
        parser.add_argument("--config", type=Path, help=CONFIG_HELP)
        parser.add_argument("--database-url", help=DATABASE_HELP)
        parser.set_defaults(handler=handler)


def _settings(args: argparse.Namespace, **flags):
    from service.config import load_settings

    return load_settings({"home": args.home, "database_url": args.database_url, **flags},
                         config_file=args.config)


def run_serve(args: argparse.Namespace) -> int:
    settings = _settings(args, host=args.host, port=args.port, workers=args.workers,
                         registry=args.registry)
    from service.server import serve  # after settings: no metrics library imported yet

    serve(settings)
    return 0


def _tokens(args: argparse.Namespace):
    from service.stores.tokens import TokenStore

    settings = _settings(args)
    return TokenStore(settings.open_database(), settings.home)


def run_token_create(args: argparse.Namespace) -> int:
    token = _tokens(args).create(args.name)
    print(f"token {args.name!r} created; it is shown only now, store it safely "
          "(send it as 'Authorization: Bearer <token>'):")
    print(token)
    return 0


def run_token_revoke(args: argparse.Namespace) -> int:
    _tokens(args).revoke(args.name)
    print(f"token {args.name!r} revoked")
    return 0


def run_token_list(args: argparse.Namespace) -> int:
    for entry in _tokens(args).list():
        print(json.dumps(entry, ensure_ascii=False))
    return 0
