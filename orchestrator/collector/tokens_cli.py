"""``orchestrator-collector token add|list|revoke CLUSTER --db PATH``: the push tokens kept in
a collector's store.

``add`` prints the new token once, on stdout, and keeps only its digest; ``list`` shows ids
and dates, never a token; ``revoke CLUSTER`` deletes the cluster's stored tokens (``--id``:
one of them). A running collector on the same database sees each change at its next request:
no restart. Tokens given to ``serve`` with ``--token`` or ``--tokens-file`` are not in the
store and are not listed here.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from orchestrator.collector import auth
from orchestrator.collector.sqlite_store import SQLiteStore
from orchestrator.collector.store import StoreError
from orchestrator.errors import UsageError


def add_parser(sub: Any) -> None:
    token = sub.add_parser("token", help="manage the push tokens kept in the store")
    actions = token.add_subparsers(dest="token_action", required=True, parser_class=type(token))
    add = actions.add_parser("add", help="create a token for CLUSTER and print it")
    add.add_argument("cluster", metavar="CLUSTER")
    lst = actions.add_parser("list", help="the stored tokens (ids and dates, never a token)")
    lst.add_argument("cluster", metavar="CLUSTER", nargs="?")
    lst.add_argument("--format", choices=["text", "json"], default="text")
    revoke = actions.add_parser("revoke", help="delete CLUSTER's stored tokens")
    revoke.add_argument("cluster", metavar="CLUSTER")
    revoke.add_argument("--id", dest="token_id", metavar="ID", help="only this token")
    for p in (add, lst, revoke):
        p.add_argument("--db", required=True, metavar="PATH", help="the collector's SQLite file")


def run(args: argparse.Namespace) -> int:
    if args.cluster is not None and not auth.valid_name(args.cluster):
        raise UsageError(f"invalid cluster name {args.cluster!r}: letters, digits, _.@:#+-")
    try:
        store = SQLiteStore(args.db)
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    try:
        return _ACTIONS[args.token_action](store, args)
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    finally:
        store.close()


def _add(store: SQLiteStore, args: argparse.Namespace) -> int:
    token, token_id, digest = auth.new_token()
    store.add_token(args.cluster, token_id, digest,
                    datetime.now(UTC).isoformat(timespec="seconds"))
    sys.stdout.write(token + "\n")
    sys.stderr.write(f"token {token_id} added for cluster {args.cluster}: put it in each "
                     "node's node.conf as [collector] token (it is not shown again)\n")
    return 0


def _list(store: SQLiteStore, args: argparse.Namespace) -> int:
    rows = [{k: r[k] for k in ("cluster", "token_id", "created_at")}
            for r in store.tokens(args.cluster)]
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    width = max([len("CLUSTER"), *(len(r["cluster"]) for r in rows)])
    lines = [f"{'CLUSTER':<{width}}  {'ID':<12}  CREATED"]
    lines += [f"{r['cluster']:<{width}}  {r['token_id']:<12}  {r['created_at']}" for r in rows]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _revoke(store: SQLiteStore, args: argparse.Namespace) -> int:
    gone = store.revoke_tokens(args.cluster, args.token_id)
    if not gone:
        which = f" {args.token_id}" if args.token_id else ""
        raise UsageError(f"cluster {args.cluster!r} has no stored token{which}")
    sys.stdout.write(f"revoked {gone} token(s) of cluster {args.cluster}\n")
    return 0


_ACTIONS = {"add": _add, "list": _list, "revoke": _revoke}
