"""Cluster tokens: who may push (and, with private reads, read) what.

A token belongs to one cluster; a request names its cluster (``X-Cluster`` header) and
carries ``Authorization: Bearer <token>``. Browsers get the same check through HTTP Basic
auth, user = cluster, password = token. Tokens are compared in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Iterable, Mapping
from pathlib import Path

from orchestrator.collector.model import valid_name
from orchestrator.errors import UsageError
from orchestrator.push_protocol import CLUSTER_HEADER


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


def check(tokens: Mapping[str, str], cluster: str | None, token: str | None) -> int | None:
    """None if allowed, else the HTTP status: 401 (no credentials), 403 (wrong ones)."""
    if not token or not cluster:
        return 401
    expected = tokens.get(cluster)
    if expected is None or not hmac.compare_digest(expected.encode(), token.encode()):
        return 403
    return None
