"""``orchestrator-collector serve``: the collector as a foreground process (systemd, containers);
``orchestrator-collector token add|list|revoke``: the push tokens kept in its store.

Bad usage (listen address, database, tokens, retention) is one line on stderr and exit 2. Once
serving, it prints ``listening on http://HOST:PORT`` on stdout (the real port when given
``:0``) and runs until SIGTERM or SIGINT, which stop it cleanly (exit 0). It may start with no
token at all: reads are served, pushes refused (401, saying how to add a token) until
``token add`` puts one in the store, which the running collector sees at once.
"""

from __future__ import annotations

import argparse
import errno
import signal
import sys
import threading
from types import FrameType

from orchestrator import log
from orchestrator.cliutil import ArgParser, guarded
from orchestrator.collector import tokens_cli
from orchestrator.collector.auth import load_tokens
from orchestrator.collector.retention import DEFAULT_DAYS, Pruner
from orchestrator.collector.server import Collector, CollectorServer
from orchestrator.collector.sqlite_store import SQLiteStore
from orchestrator.collector.store import StoreError
from orchestrator.errors import UsageError


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``:PORT`` (every interface) or ``[V6]:PORT`` -> (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise UsageError(f"--listen: expected HOST:PORT with a port 0-65535, got {text!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise UsageError(f"--listen: write an IPv6 address in brackets, [::1]:PORT, got {text!r}")
    return host or "0.0.0.0", int(port)


def _parser() -> ArgParser:
    parser = ArgParser(prog="orchestrator-collector",
                       description="Receive pushes from orchestrator nodes; serve the API and "
                                   "the web page.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=ArgParser)
    serve = sub.add_parser("serve", help="run the collector in the foreground")
    serve.add_argument("--listen", required=True, metavar="HOST:PORT")
    serve.add_argument("--db", required=True, metavar="PATH", help="SQLite file (created)")
    serve.add_argument("--tokens-file", metavar="F",
                       help="lines 'CLUSTER = TOKEN' ('#' comments); preferred over --token, "
                            "which shows in ps")
    serve.add_argument("--token", action="append", default=[], metavar="CLUSTER=TOKEN")
    serve.add_argument("--private-reads", action="store_true",
                       help="reads (API and web page) need a cluster token too and see only "
                            "that cluster")
    serve.add_argument("--retention", type=_days, default=DEFAULT_DAYS, metavar="DAYS",
                       help="delete run records and push-ledger rows received more than DAYS "
                            f"ago, at start and hourly (default {DEFAULT_DAYS:g}; 0 = keep "
                            "everything); latest states (nodes, status, configs, compliance) "
                            "are always kept")
    tokens_cli.add_parser(sub)
    return parser


def _days(text: str) -> float:
    try:
        days = float(text)
    except ValueError:
        days = -1.0
    if not days >= 0 or days == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of days >= 0, got {text!r}")
    return days


def serve(args: argparse.Namespace) -> int:
    tokens = load_tokens(args.tokens_file, args.token)
    address = parse_listen(args.listen)
    try:
        store = SQLiteStore(args.db)
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    try:
        server = CollectorServer(address, Collector(store, tokens, args.private_reads,
                                                    db=args.db))
    except OSError as exc:
        store.close()
        why = "address in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        raise UsageError(f"--listen {args.listen}: cannot listen: {why}") from None

    def stop(signum: int, _frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    pruner = Pruner(store, args.retention)
    pruner.prune()  # before serving: once it listens, nothing older than DAYS is shown
    pruner.start()
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in str(host) else host
    url = f"http://{shown}:{port}"
    logger = log.get_logger("collector")
    logger.info("collector listening", url=url, db=args.db,
                clusters=sorted({c for c, _ in server.collector.tokens.digests()}),
                retention_days=args.retention or "forever")
    if not server.collector.tokens.digests():
        logger.warning("no push token yet: pushes are refused until one is added with "
                       f"`orchestrator-collector token add CLUSTER --db {args.db}`")
    sys.stdout.write(f"listening on {url}\n")
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        pruner.stop()
        server.server_close()
        store.close()
    return 0


def _main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    log.configure(through_structlog=args.command == "serve")  # long-running: structlog
    if args.command == "serve":
        return serve(args)
    if args.command == "token":
        return tokens_cli.run(args)
    raise UsageError(f"unknown command {args.command!r}")


main = guarded(_main)

if __name__ == "__main__":
    sys.exit(main())
