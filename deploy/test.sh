#!/usr/bin/env bash
# The test command: install what is missing, lint, then run the whole quick suite
# (unit, cluster tests on a real ZooKeeper, end-to-end tests of the CLI and daemons).
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/bootstrap.sh
.venv/bin/ruff check .
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
