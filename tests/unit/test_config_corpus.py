"""OpenSVC's own service files (tests/unit/corpus, origins in its README) held to the rule
of orchestrator/devtools/corpus_check.py: those whose drivers we all have validate
unchanged; every other is refused with one error per section of a driver we lack, naming
it, at that section's line, and nothing else.

The files are OpenSVC's, fetched onto a developer's machine and never committed (the
README says how). tests/unit/conftest.py collects this module only where the directory
holds them, so a clean checkout (CI) skips nothing here: it has no such test. Our own
files, committed, go through the same check always: test_compat_corpus.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from orchestrator.devtools.corpus_check import check_file, config_files

CORPUS = Path(__file__).parent / "corpus"
FILES = config_files(CORPUS)
_LISTED = re.compile(r"^\| `(?P<file>[^`]+\.conf)` \|", re.M)


def test_every_file_the_readme_lists_is_there():
    """A partial fetch says which files are missing (and an unlisted file, its origin)."""
    listed = set(_LISTED.findall((CORPUS / "README.md").read_text()))
    present = {str(p.relative_to(CORPUS)) for p in FILES}
    assert sorted(listed - present) == [] and sorted(present - listed) == []


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(CORPUS)) for p in FILES])
def test_a_corpus_file_validates_or_names_only_its_missing_drivers(path):
    verdict = check_file(path, CORPUS)
    assert verdict.outcome != "mismatch", "\n".join((verdict.detail, *verdict.notes))


def test_the_corpus_has_both_kinds():
    """Some files run here today and some need drivers we lack: both rules are exercised."""
    assert {check_file(p, CORPUS).outcome for p in FILES} == {"ok", "refused"}
