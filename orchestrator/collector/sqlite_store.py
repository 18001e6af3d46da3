"""SQLite backend of the collector store: the only module holding SQL.

One file on disk, WAL mode (readers never block the writer), schema created on open. The
statements stick to what PostgreSQL also accepts (``ON CONFLICT ... DO UPDATE ... WHERE``,
``excluded.``, ``LIMIT``); only the DDL's ``INTEGER PRIMARY KEY AUTOINCREMENT`` and the
``?`` placeholders would change in a PostgreSQL port. One connection behind a lock: the
collector's traffic is a few pushes per node per minute, far below what this serialises.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from orchestrator.collector.model import Push
from orchestrator.collector.store import CollectorStore, StoreError

SCHEMA_VERSION = 2  # 2: tokens, run_outputs (a version 1 file gains them when opened)

_DDL = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS pushes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    cluster TEXT NOT NULL, node TEXT NOT NULL, kind TEXT NOT NULL, seq BIGINT NOT NULL,
    items INTEGER NOT NULL, received_at TEXT NOT NULL,
    UNIQUE (cluster, node, kind, seq));
CREATE TABLE IF NOT EXISTS nodes (
    cluster TEXT NOT NULL, node TEXT NOT NULL, asset TEXT NOT NULL,
    seq BIGINT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (cluster, node));
CREATE TABLE IF NOT EXISTS instances (
    cluster TEXT NOT NULL, service TEXT NOT NULL, node TEXT NOT NULL,
    avail TEXT NOT NULL, overall TEXT NOT NULL, frozen BOOLEAN NOT NULL, resources TEXT NOT NULL,
    seq BIGINT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (cluster, service, node));
CREATE TABLE IF NOT EXISTS configs (
    cluster TEXT NOT NULL, service TEXT NOT NULL, node TEXT NOT NULL,
    text TEXT NOT NULL, digest TEXT NOT NULL,
    seq BIGINT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (cluster, service, node));
CREATE TABLE IF NOT EXISTS resinfo (
    cluster TEXT NOT NULL, service TEXT NOT NULL, node TEXT NOT NULL, rid TEXT NOT NULL,
    key TEXT NOT NULL, value TEXT,
    seq BIGINT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (cluster, service, node, rid, key));
CREATE TABLE IF NOT EXISTS runs (
    cluster TEXT NOT NULL, run_id TEXT NOT NULL, service TEXT NOT NULL, rid TEXT NOT NULL,
    node TEXT NOT NULL, origin TEXT NOT NULL, status TEXT NOT NULL,
    scheduled_at TEXT, started_at TEXT, ended_at TEXT, exit_code INTEGER, reason TEXT,
    record TEXT NOT NULL, seq BIGINT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (cluster, run_id));
CREATE INDEX IF NOT EXISTS runs_by_service ON runs (cluster, service, run_id);
CREATE INDEX IF NOT EXISTS runs_by_time ON runs (updated_at);
CREATE INDEX IF NOT EXISTS pushes_by_time ON pushes (received_at);
CREATE TABLE IF NOT EXISTS compliance (
    cluster TEXT NOT NULL, node TEXT NOT NULL, service TEXT NOT NULL, module TEXT NOT NULL,
    status TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL, checked_at TEXT,
    seq BIGINT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (cluster, node, service, module));
CREATE TABLE IF NOT EXISTS run_outputs (
    cluster TEXT NOT NULL, run_id TEXT NOT NULL, output TEXT NOT NULL, truncated BOOLEAN NOT NULL,
    seq BIGINT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (cluster, run_id));
CREATE INDEX IF NOT EXISTS run_outputs_by_time ON run_outputs (updated_at);
CREATE TABLE IF NOT EXISTS tokens (
    cluster TEXT NOT NULL, token_id TEXT NOT NULL, digest TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (cluster, token_id));
"""
_SIZED = ("nodes", "instances", "configs", "resinfo", "runs", "run_outputs", "compliance",
          "pushes", "tokens")

# Per kind: table, key columns, value columns. Rows carry the value columns (model.py).
_TABLES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "nodes": ("nodes", ("node",), ("asset",)),
    "status": ("instances", ("service", "node"), ("avail", "overall", "frozen", "resources")),
    "config": ("configs", ("service", "node"), ("text", "digest")),
    "resinfo": ("resinfo", ("service", "node", "rid", "key"), ("value",)),
    "runs": ("runs", ("run_id",), ("service", "rid", "node", "origin", "status",
                                   "scheduled_at", "started_at", "ended_at", "exit_code",
                                   "reason", "record")),
    "compliance": ("compliance", ("node", "service", "module"),
                   ("status", "action", "detail", "checked_at")),
}


def _upsert_sql(table: str, keys: tuple[str, ...], values: tuple[str, ...]) -> str:
    """Insert or replace the row, unless the stored one came from a later push (higher seq)."""
    cols = ("cluster", *keys, *values, "seq", "updated_at")
    updates = ", ".join(f"{c} = excluded.{c}" for c in (*values, "seq", "updated_at"))
    return (f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
            f"ON CONFLICT (cluster, {', '.join(keys)}) DO UPDATE SET {updates} "
            f"WHERE {table}.seq <= excluded.seq")


_UPSERTS = {kind: (_upsert_sql(*spec), ("cluster", *spec[1], *spec[2]))
            for kind, spec in _TABLES.items()}
_OUTPUT_UPSERT = (_upsert_sql("run_outputs", ("run_id",), ("output", "truncated")),
                  ("cluster", "run_id", "output", "output_truncated"))


def _where(**filters: Any) -> tuple[str, list[Any]]:
    used = [(k, v) for k, v in filters.items() if v is not None]
    if not used:
        return "", []
    return " WHERE " + " AND ".join(f"{k} = ?" for k, _ in used), [v for _, v in used]


class SQLiteStore(CollectorStore):
    def __init__(self, path: str | Path):
        self.path = str(path)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None,
                                       timeout=10)
            self._db.row_factory = sqlite3.Row
            mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise StoreError(f"{self.path}: cannot use WAL journal mode (got {mode})")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_DDL)
            row = self._db.execute("SELECT version FROM schema_version").fetchone()
            if row is None:
                self._db.execute("INSERT INTO schema_version (version) VALUES (?)",
                                 (SCHEMA_VERSION,))
            elif row[0] == 1:  # the DDL above added what version 2 has more
                self._db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
            elif row[0] != SCHEMA_VERSION:
                raise StoreError(f"{self.path}: schema version {row[0]}, this collector "
                                 f"knows {SCHEMA_VERSION}")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open database {self.path}: {exc}") from None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _select(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._db.execute(sql, params).fetchall()]

    # ------------------------------------------------------------------ writes

    def ingest(self, push: Push) -> bool:
        sql, cols = _UPSERTS[push.kind]
        try:
            with self._transaction() as db:
                cur = db.execute(
                    "INSERT INTO pushes (cluster, node, kind, seq, items, received_at) "
                    "VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (cluster, node, kind, seq) DO NOTHING",
                    (push.cluster, push.node, push.kind, push.seq, len(push.rows),
                     push.received_at))
                if cur.rowcount == 0:
                    return False
                for row in push.rows:
                    full = {**row, "cluster": push.cluster}
                    db.execute(sql, [full[c] for c in cols] + [push.seq, push.received_at])
                    if full.get("output") is not None:
                        db.execute(_OUTPUT_UPSERT[0], [full[c] for c in _OUTPUT_UPSERT[1]]
                                   + [push.seq, push.received_at])
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: {exc}") from None
        return True

    def prune(self, before: str) -> dict[str, int]:
        try:
            with self._transaction() as db:
                runs = db.execute("DELETE FROM runs WHERE updated_at < ?", (before,)).rowcount
                db.execute("DELETE FROM run_outputs WHERE updated_at < ?", (before,))
                pushes = db.execute("DELETE FROM pushes WHERE received_at < ?",
                                    (before,)).rowcount
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: {exc}") from None
        return {"runs": runs, "pushes": pushes}

    def add_token(self, cluster: str, token_id: str, digest: str, created_at: str) -> None:
        try:
            with self._transaction() as db:
                db.execute("INSERT INTO tokens (cluster, token_id, digest, created_at) "
                           "VALUES (?, ?, ?, ?)", (cluster, token_id, digest, created_at))
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: {exc}") from None

    def revoke_tokens(self, cluster: str, token_id: str | None = None) -> int:
        where, params = _where(cluster=cluster, token_id=token_id)
        try:
            with self._transaction() as db:
                return db.execute(f"DELETE FROM tokens{where}", params).rowcount
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: {exc}") from None

    # ------------------------------------------------------------------ reads

    def tokens(self, cluster: str | None = None) -> list[dict[str, Any]]:
        where, params = _where(cluster=cluster)
        return self._read("SELECT cluster, token_id, digest, created_at FROM tokens"
                          f"{where} ORDER BY cluster, created_at, token_id", params)

    def sizes(self) -> dict[str, int]:
        union = " UNION ALL ".join(f"SELECT '{t}' AS name, COUNT(*) AS n FROM {t}"
                                   for t in _SIZED)
        return {r["name"]: r["n"] for r in self._read(union, [])}

    def _read(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        try:
            return self._select(sql, params)
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: {exc}") from None

    def clusters(self) -> list[str]:
        # every table, not only the ledger: retention may have pruned an idle cluster's pushes
        union = " UNION ".join(f"SELECT cluster FROM {t}" for t in
                               ("pushes", "nodes", "instances", "configs", "resinfo", "runs",
                                "compliance"))
        return [r["cluster"] for r in self._select(f"{union} ORDER BY cluster", [])]

    def nodes(self, cluster: str | None = None) -> list[dict[str, Any]]:
        where, params = _where(cluster=cluster)
        rows = self._select(f"SELECT cluster, node, asset, updated_at FROM nodes{where} "
                            "ORDER BY cluster, node", params)
        for r in rows:
            r["asset"] = json.loads(r["asset"])
        return rows

    def instances(self, cluster: str | None = None,
                  service: str | None = None) -> list[dict[str, Any]]:
        where, params = _where(cluster=cluster, service=service)
        rows = self._select("SELECT cluster, service, node, avail, overall, frozen, resources, "
                            f"updated_at FROM instances{where} ORDER BY cluster, service, node",
                            params)
        for r in rows:
            r["frozen"] = bool(r["frozen"])
            r["resources"] = json.loads(r["resources"])
        return rows

    def runs(self, cluster: str | None = None, service: str | None = None,
             limit: int = 100) -> list[dict[str, Any]]:
        where, params = _where(cluster=cluster, service=service)
        rows = self._select(f"SELECT cluster, record, updated_at FROM runs{where} "
                            "ORDER BY run_id DESC LIMIT ?", [*params, limit])
        return [{**json.loads(r["record"]), "cluster": r["cluster"],
                 "received_at": r["updated_at"]} for r in rows]

    def run_output(self, cluster: str, run_id: str) -> dict[str, Any] | None:
        rows = self._read("SELECT cluster, run_id, output, truncated, updated_at FROM "
                          "run_outputs WHERE cluster = ? AND run_id = ?", [cluster, run_id])
        for r in rows:
            r["truncated"] = bool(r["truncated"])
        return rows[0] if rows else None

    def seen_nodes(self, cluster: str) -> list[dict[str, Any]]:
        union = " UNION ALL ".join(f"SELECT node, {at} AS at FROM {t} WHERE cluster = ?"
                                   for t, at in (("pushes", "received_at"),
                                                 ("nodes", "updated_at"),
                                                 ("instances", "updated_at"),
                                                 ("runs", "updated_at"),
                                                 ("compliance", "updated_at")))
        return self._read(f"SELECT node, MAX(at) AS last_seen FROM ({union}) GROUP BY node "
                          "ORDER BY node", [cluster] * 5)

    def compliance(self, cluster: str | None = None, node: str | None = None,
                   service: str | None = None) -> list[dict[str, Any]]:
        where, params = _where(cluster=cluster, node=node, service=service)
        rows = self._select("SELECT cluster, node, service, module, status, action, detail, "
                            f"checked_at, updated_at FROM compliance{where} "
                            "ORDER BY cluster, node, service, module", params)
        for r in rows:
            r["service"] = r["service"] or None
        return rows

    def configs(self, cluster: str | None = None,
                service: str | None = None) -> list[dict[str, Any]]:
        where, params = _where(cluster=cluster, service=service)
        return self._select("SELECT cluster, service, node, text, digest, updated_at "
                            f"FROM configs{where} ORDER BY cluster, service, node", params)

    def resinfo(self, cluster: str | None = None,
                service: str | None = None) -> list[dict[str, Any]]:
        where, params = _where(cluster=cluster, service=service)
        return self._select("SELECT cluster, service, node, rid, key, value, updated_at "
                            f"FROM resinfo{where} ORDER BY cluster, service, node, rid, key",
                            params)

    def pushes(self, cluster: str | None = None, node: str | None = None,
               limit: int = 100) -> list[dict[str, Any]]:
        where, params = _where(cluster=cluster, node=node)
        rows = self._select("SELECT cluster, node, kind, seq, items, received_at "
                            f"FROM pushes{where} ORDER BY id DESC LIMIT ?", [*params, limit])
        return rows[::-1]

    def close(self) -> None:
        with self._lock:
            self._db.close()
