"""OpenSVC's own service files (tests/unit/corpus, origins in its README): those whose
drivers we all have validate unchanged; every other is refused with one error per section
of a driver we lack, naming it, at that section's line, and nothing else.

Which drivers we have is read from the driver registry here, independently of the config
code under test: a section's group must be a registry group, and its ``type`` (as written,
an ``{env.x}`` reference read from the file's [env]; else the driver table's default) one
of the DriverSpec's types when it lists any.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from orchestrator.config.context import ServiceContext
from orchestrator.config.errors import ConfigError
from orchestrator.config.ini import parse_ini
from orchestrator.config.keywords import resource_keywords
from orchestrator.config.sections import OPENSVC_TYPES
from orchestrator.config.service import parse_service
from orchestrator.paths import NodePaths
from orchestrator.resources.registry import DRIVERS

CORPUS = Path(__file__).parent / "corpus"
FILES = sorted(p for p in CORPUS.rglob("*.conf"))
_RESOURCE = re.compile(r"^(?P<group>[a-z]+)#[A-Za-z0-9_.-]+$")


def test_the_corpus_is_there():
    """The files are OpenSVC's, not this project's: a checkout without them says so."""
    assert len(FILES) >= 80, (f"{CORPUS} holds {len(FILES)} configs: fetch the files its "
                              "README lists (repository, path, commit)")


def _type_of(section, env: dict[str, str], group: str) -> str | None:
    raw = section.options.get("type")
    if raw is None:
        kw = resource_keywords(group).get("type") if group in DRIVERS else None
        return None if kw is None or kw.default is None else str(kw.default)
    return re.sub(r"\{env\.(\w+)\}", lambda m: env.get(m.group(1), m.group(0)), raw).strip()


def unsupported_sections(text: str) -> dict[str, int]:
    """The resource sections of drivers the registry lacks: name -> line."""
    sections, _ = parse_ini(text)
    env = dict(sections["env"].options) if "env" in sections else {}
    found = {}
    for name, section in sections.items():
        m = _RESOURCE.match(name)
        if not m or name == "sync#i0":
            continue
        group = m.group("group")
        if group not in DRIVERS:
            found[name] = section.line
            continue
        kind = _type_of(section, env, group)
        types, known = DRIVERS[group].types, OPENSVC_TYPES.get(group, ())
        if types and kind not in (None, *types) and (known is None or kind in known):
            found[name] = section.line
    return found


def _parse(path: Path, root: Path):
    context = ServiceContext.standalone("n1", NodePaths(root))
    return parse_service(path.read_text(), str(path.relative_to(CORPUS)), "svc1", "n1",
                         context)


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(CORPUS)) for p in FILES])
def test_a_corpus_file_validates_or_names_only_its_missing_drivers(path, tmp_path):
    expected = unsupported_sections(path.read_text())
    if not expected:
        cfg = _parse(path, tmp_path)  # a ConfigError here is the failure
        assert cfg.resources or cfg.defaults
        return
    with pytest.raises(ConfigError) as info:
        _parse(path, tmp_path)
    problems = info.value.problems
    assert {p.section: p.line for p in problems} == expected, [str(p) for p in problems]
    for p in problems:
        group = str(p.section).split("#")[0]
        # an OpenSVC driver we lack is "not supported"; a group OpenSVC services no longer
        # have (v1's [hb#1]) is an unknown driver: either way the line names it
        assert (p.reason.startswith(f"driver {group} ") and "not supported" in p.reason) or \
            p.reason.startswith(f"unknown resource driver {group!r}"), str(p)
        assert "\n" not in str(p)


def test_the_corpus_has_both_kinds():
    """Some files run here today and some need drivers we lack: both rules are exercised."""
    kinds = {bool(unsupported_sections(p.read_text())) for p in FILES}
    assert kinds == {True, False}
