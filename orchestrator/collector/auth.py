"""Cluster tokens: who may push (and, with private reads, read) what.

A token belongs to one cluster; a request names its cluster (``X-Cluster`` header) and
carries ``Authorization: Bearer <token>``. Browsers get the same check through HTTP Basic
auth, user = cluster, password = token. Tokens are compared in constant time.

Tokens come from two places: the store (``orchestrator-collector token add``: kept as their
SHA-256 digest, never in clear, read at each request so an added or revoked token counts at
once) and the command line (``--tokens-file``, ``--token``: in memory). A token is 32 random
bytes, so a plain digest is as strong as a salted one; the id ``token list`` shows is the
start of the digest.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.collector.model import valid_name
from orchestrator.errors import UsageError
from orchestrator.push_protocol import CLUSTER_HEADER

if TYPE_CHECKING:
    from orchestrator.collector.store import CollectorStore

TOKEN_PREFIX = "oct_"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str, str]:
    """A fresh token: (token, its id, its digest)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    hashed = digest(token)
    return token, hashed[:12], hashed


class Tokens:
    """Every token the collector accepts: the command line's and the store's."""

    def __init__(self, static: Mapping[str, str], store: CollectorStore | None = None):
        self.static = {c: digest(t) for c, t in static.items()}
        self.store = store

    def digests(self, cluster: str | None = None) -> list[tuple[str, str]]:
        """(cluster, digest) of every accepted token (of ``cluster``)."""
        found = [(c, d) for c, d in self.static.items() if cluster in (None, c)]
        if self.store is not None:
            found += [(r["cluster"], r["digest"]) for r in self.store.tokens(cluster)]
        return found

    def check(self, cluster: str | None, token: str | None) -> int | None:
        """None if allowed, else the HTTP status: 401 (no credentials), 403 (wrong ones)."""
        return self.judge(cluster, token)[0]

    def judge(self, cluster: str | None, token: str | None) -> tuple[int | None, int, int]:
        """(``check``'s answer, how many tokens the collector has, how many of them are
        ``cluster``'s), from one read of the store: a push's every question at once."""
        every = self.digests()
        theirs = [d for c, d in every if c == cluster]
        if not token or not cluster:
            return 401, len(every), len(theirs)
        given = digest(token).encode()
        ok = False
        for expected in theirs:  # all compared: no early exit
            ok |= hmac.compare_digest(expected.encode(), given)
        return (None if ok else 403), len(every), len(theirs)


def parse_token_pair(text: str, where: str) -> tuple[str, str]:
    """``CLUSTER=TOKEN`` (or ``CLUSTER = TOKEN``) -> (cluster, token)."""
    cluster, sep, token = text.partition("=")
    cluster, token = cluster.strip(), token.strip()
    if not sep or not valid_name(cluster) or not token:
        raise UsageError(f"{where}: expected CLUSTER=TOKEN, got {text.strip()!r}")
    return cluster, token


def load_tokens(tokens_file: str | None, pairs: Iterable[str]) -> dict[str, str]:
    """Tokens from a file (``cluster = token`` lines, ``#`` comments) and from ``--token``."""
    tokens: dict[str, str] = {}
    if tokens_file:
        try:
            text = Path(tokens_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read tokens file {tokens_file}: "
                             f"{exc.strerror or exc}") from None
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip() and not line.lstrip().startswith("#"):
                cluster, token = parse_token_pair(line, f"{tokens_file}:{n}")
                tokens[cluster] = token
    for pair in pairs:
        cluster, token = parse_token_pair(pair, "--token")
        tokens[cluster] = token
    return tokens


def credentials(headers: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(cluster, token) from Bearer + X-Cluster, or from Basic auth; None where absent."""
    auth = headers.get("Authorization") or ""
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return headers.get(CLUSTER_HEADER), value.strip()
    if scheme.lower() == "basic" and value.strip():
        try:
            user, _, password = base64.b64decode(value.strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return headers.get(CLUSTER_HEADER), None
        return user or headers.get(CLUSTER_HEADER), password or None
    return headers.get(CLUSTER_HEADER), None

