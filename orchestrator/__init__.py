"""orchestrator: a cluster-aware failover orchestrator whose scheduled tasks follow the service."""

__version__ = "0.1.0"
