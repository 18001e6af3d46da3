"""Run records: one per run, manual or scheduled, kept behind a small store interface."""

from orchestrator.runs.record import RunRecord, RunStatus, new_run_id
from orchestrator.runs.store import FileRunStore, RunStore

__all__ = ["FileRunStore", "RunRecord", "RunStatus", "RunStore", "new_run_id"]
