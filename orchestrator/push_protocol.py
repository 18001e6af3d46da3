"""The wire contract between the node-side push client (``orchestrator.push``) and the
collector (``orchestrator.collector``): push kinds, the push path, the cluster header.

Both sides import it; neither imports the other.
"""

from __future__ import annotations

KINDS = ("nodes", "status", "config", "resinfo", "runs", "compliance")
PUSH_PATH = "/api/v1/push/"  # + kind
CLUSTER_HEADER = "X-Cluster"
