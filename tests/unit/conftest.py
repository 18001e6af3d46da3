"""Collection of the unit tests: test_config_corpus.py reads OpenSVC's own files, which are
fetched onto developer machines and never committed (tests/unit/corpus/README.md); where
they are absent (a clean checkout, CI) the module is not collected at all, rather than
failing or skipping. Our own files (tests/unit/compat) are checked everywhere."""

from __future__ import annotations

from pathlib import Path

_CORPUS = Path(__file__).parent / "corpus"

collect_ignore = [] if any(_CORPUS.rglob("*.conf")) else ["test_config_corpus.py"]
