"""docs/keywords.md is generated from the keyword table and must be up to date."""

from __future__ import annotations

from pathlib import Path

from orchestrator.config.keywords import all_keywords
from orchestrator.config.reference import render_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "keywords.md"


def test_docs_keywords_md_is_up_to_date():
    assert DOC.read_text() == render_markdown(), (
        "docs/keywords.md is stale: run "
        "`python -m orchestrator.config.reference > docs/keywords.md`")


def test_every_keyword_documented_once_per_section():
    text = render_markdown()
    for kw in all_keywords():
        assert f"| `{kw.name}` |" in text
    assert "| `image` | string | required |" in text  # [container#N]
    assert "| `max_parallel` | integer >= 1 | `1` |" in text
