"""Command line of the central server: ``serve``, ``add-unit``, ``set-config`` and ``migrate``.

The management token is read from ``--admin-token`` or, better (argv is visible to other users of
the machine), from the environment variable ``DESKUNIT_CENTRAL_ADMIN_TOKEN``. A unit's token is
never taken on the command line: ``add-unit`` makes one, prints it once and keeps only its hash.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import secrets
import signal
import sys
from collections.abc import Sequence

from central.server import CentralServer, default_max_connections
from central.store import UnitExists, open_store

ADMIN_TOKEN_ENV = "DESKUNIT_CENTRAL_ADMIN_TOKEN"
DB_ENV = "DESKUNIT_CENTRAL_DB"
DEFAULT_DB = "central.db"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deskunit-central", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    db_help = f"SQLite path, sqlite:///path or postgresql://... (default: ${DB_ENV} or {DEFAULT_DB})"

    serve = sub.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--db", default=os.environ.get(DB_ENV, DEFAULT_DB), help=db_help)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--admin-token", default=os.environ.get(ADMIN_TOKEN_ENV), help=f"or ${ADMIN_TOKEN_ENV}")
    serve.add_argument("--tz", default="Europe/Kyiv", help="time zone of the time endpoint and deadlines")
    serve.add_argument("--cert", help="TLS certificate (PEM); with --key serves HTTPS")
    serve.add_argument("--key", help="TLS private key (PEM)")
    serve.add_argument("--log-level", default="INFO")
    serve.add_argument(
        "--secure-cookies", action="store_true", help="mark the management session cookie Secure (TLS at a proxy)"
    )
    serve.add_argument(
        "--max-connections",
        type=int,
        default=default_max_connections(),
        help="open connections before the oldest idle one is closed (default: descriptor limit - 356)",
    )
    serve.add_argument("--request-timeout", type=float, default=30.0, help="seconds to send a whole request")
    serve.add_argument("--keep-alive", type=int, default=5, help="seconds an idle keep-alive connection stays")
    serve.add_argument(
        "--limit-concurrency", type=int, help="requests in flight before 503 (default: max-connections + 1)"
    )

    add = sub.add_parser("add-unit", help="enrol a unit: make its token, print it once, keep only its hash")
    add.add_argument("unit")
    add.add_argument("--rotate", action="store_true", help="give an enrolled unit a new token (the old one stops)")
    add.add_argument("--name")
    add.add_argument("--db", default=os.environ.get(DB_ENV, DEFAULT_DB), help=db_help)

    config = sub.add_parser("set-config", help="replace the fleet (or one unit's) config document")
    config.add_argument("file", help="JSON file, or - for stdin")
    config.add_argument("--unit", help="store it for this unit only")
    config.add_argument("--db", default=os.environ.get(DB_ENV, DEFAULT_DB), help=db_help)

    migrate = sub.add_parser("migrate", help="bring the database schema up to date and print its version")
    migrate.add_argument("--db", default=os.environ.get(DB_ENV, DEFAULT_DB), help=db_help)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
        if not args.admin_token:
            print(f"error: --admin-token or ${ADMIN_TOKEN_ENV} is required", file=sys.stderr)
            return 2
        if bool(args.cert) != bool(args.key):
            print("error: --cert and --key go together", file=sys.stderr)
            return 2
        if not args.cert and args.host not in ("127.0.0.1", "::1", "localhost"):
            logging.getLogger("central").warning("serving plain HTTP on %s: units expect HTTPS", args.host)
        server = CentralServer(
            args.db,
            host=args.host,
            port=args.port,
            admin_token=args.admin_token,
            tz=args.tz,
            certfile=args.cert,
            keyfile=args.key,
            check_responses=False,
            max_connections=args.max_connections,
            request_timeout_s=args.request_timeout,
            keep_alive_s=args.keep_alive,
            limit_concurrency=args.limit_concurrency,
            secure_cookies=True if args.secure_cookies or args.cert else None,
        )
        # systemd stops services with SIGTERM: stop listening and close the store cleanly.
        signal.signal(signal.SIGTERM, lambda *_: server.request_stop())
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
        return 0
    store = open_store(args.db)
    try:
        if args.command == "add-unit":
            token = secrets.token_urlsafe(32)
            try:
                store.add_unit(args.unit, token, args.name, replace=args.rotate)
            except UnitExists:
                print(f"error: unit {args.unit} is already enrolled; --rotate gives it a new token", file=sys.stderr)
                return 1
            print(
                f"unit {args.unit} {'has a new token' if args.rotate else 'enrolled'}; its token (shown once):",
                file=sys.stderr,
            )
            print(token)
        elif args.command == "migrate":
            print(f"schema version {store.schema_version()} ({store.kind})")
        else:
            if args.file == "-":
                text = sys.stdin.read()
            else:
                with open(args.file, encoding="utf-8") as fh:
                    text = fh.read()
            try:
                doc = json.loads(text)
            except ValueError as exc:
                print(f"error: {args.file} is not valid JSON: {exc}", file=sys.stderr)
                return 2
            if not isinstance(doc, dict):
                print("error: the config document must be a JSON object", file=sys.stderr)
                return 2
            print(store.put_config(doc, args.unit))
    finally:
        store.close()
    return 0
