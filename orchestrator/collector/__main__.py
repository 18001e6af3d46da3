"""``python -m orchestrator.collector serve ...`` == ``orchestrator-collector serve ...``."""

import sys

from orchestrator.collector.cli import main

sys.exit(main())
