"""Hold a directory of OpenSVC service files to the rule of docs/config-compat.md:
``python -m orchestrator.devtools.corpus_check DIR [-v] [--cluster n1,n2,n3]``.

* A file whose drivers (and their ``type``) we all run validates unchanged (warnings
  allowed).
* Any other is refused with exactly one error per section of a driver we lack, at that
  section's line, naming the driver (and the type), and no other error.

Which drivers we run is read here from the driver registry (its groups, each DriverSpec's
``types``), not asked of the config code under test, so a config reader that refuses or
accepts too much disagrees with it. A section's type is the one written (an ``{env.x}``
reference read from the file's [env]), else the driver table's default.

One line per file (``ok``, ``refused as expected`` with the drivers, ``MISMATCH`` with the
reason), then a count; exit status 1 on any mismatch or when DIR holds no ``.conf`` file.
tests/unit/test_compat_corpus.py runs it over our own files (tests/unit/compat) and
tests/unit/test_config_corpus.py over OpenSVC's (tests/unit/corpus, where fetched).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from orchestrator.config.context import ServiceContext
from orchestrator.config.errors import ConfigError
from orchestrator.config.ini import parse_ini
from orchestrator.config.keywords import resource_keywords
from orchestrator.config.sections import CONFIG_SYNC, OPENSVC_TYPES
from orchestrator.config.service import parse_service
from orchestrator.paths import NodePaths
from orchestrator.resources.registry import DRIVERS

_RESOURCE = re.compile(r"^(?P<group>[a-z]+)#[A-Za-z0-9_.-]+$")
_ENV_REF = re.compile(r"\{env\.(\w+)\}")


@dataclass(frozen=True)
class Lacking:
    """A section of a driver the registry lacks: where it is, and the driver as named."""

    line: int
    group: str
    type: str | None  # set when the group is ours but not this type

    @property
    def driver(self) -> str:
        return f"{self.group} {self.type}" if self.type else self.group


@dataclass(frozen=True)
class Verdict:
    path: str
    outcome: str  # "ok", "refused" (as expected) or "mismatch"
    detail: str  # ok: the warnings count; refused: the sections; mismatch: why
    refused: tuple[str, ...] = ()  # the sections refused, when refused as expected
    notes: tuple[str, ...] = ()  # the warnings or errors, as validate prints them


def _type_of(options: dict[str, str], env: dict[str, str], group: str) -> str | None:
    raw = options.get("type")
    if raw is None:
        kw = resource_keywords(group).get("type")
        return None if kw is None or kw.default is None else str(kw.default)
    return _ENV_REF.sub(lambda m: env.get(m.group(1), m.group(0)), raw).strip()


def lacking_sections(text: str) -> dict[str, Lacking]:
    """The resource sections of ``text`` whose driver the registry lacks, by name."""
    sections, _ = parse_ini(text)
    env = dict(sections["env"].options) if "env" in sections else {}
    found = {}
    for name, section in sections.items():
        m = _RESOURCE.match(name)
        if not m or name == CONFIG_SYNC or m.group("group") == "subset":
            continue
        group = m.group("group")
        if group not in DRIVERS:
            found[name] = Lacking(section.line, group, None)
            continue
        kind = _type_of(section.options, env, group)
        types, known = DRIVERS[group].types, OPENSVC_TYPES.get(group, ())
        # a type OpenSVC lacks too is a bad value, which the type keyword reports
        if types and kind not in (None, *types) and (known is None or kind in known):
            found[name] = Lacking(section.line, group, kind)
    return dict(sorted(found.items(), key=lambda item: item[1].line))


def _names_driver(reason: str, lack: Lacking) -> bool:
    """Whether an error's reason names the driver as one we lack: OpenSVC's drivers are
    "not supported", a group OpenSVC no longer has (v1's [hb#1]) an unknown driver."""
    if lack.type:
        return reason.startswith(f"driver {lack.group} type {lack.type} ") and \
            "not supported" in reason
    return (reason.startswith(f"driver {lack.group} ") and "not supported" in reason) or \
        reason.startswith(f"unknown resource driver {lack.group!r}")


def check_text(text: str, label: str, cluster: tuple[str, ...] = ()) -> Verdict:
    """The verdict on one file's text (``label`` names it in messages), read by node n1
    standalone, or by the first of ``cluster``'s nodes (node.conf's [cluster] nodes)."""
    expected = lacking_sections(text)
    nodename = cluster[0] if cluster else "n1"
    with tempfile.TemporaryDirectory(prefix="corpus-check-") as root:
        paths = NodePaths(Path(root))
        context = (ServiceContext(paths, cluster_name="corpus", cluster_nodes=cluster)
                   if cluster else ServiceContext.standalone(nodename, paths))
        try:
            cfg = parse_service(text, label, "svc1", nodename, context)
        except ConfigError as exc:
            return _judge_refusal(label, expected, exc)
        except Exception as exc:  # noqa: BLE001 - a crash is a verdict too
            return Verdict(label, "mismatch", f"crashed: {type(exc).__name__}: {exc}")
    notes = tuple(str(w) for w in cfg.warnings)
    if expected:
        return Verdict(label, "mismatch", "accepted, but the registry lacks "
                       + ", ".join(f"{s} ({lack.driver})" for s, lack in expected.items()),
                       notes=notes)
    return Verdict(label, "ok", f"{len(notes)} warning{'s' * (len(notes) != 1)}", notes=notes)


def _judge_refusal(label: str, expected: dict[str, Lacking], exc: ConfigError) -> Verdict:
    problems = exc.problems
    notes = tuple(str(p) for p in problems)
    if not expected:
        return Verdict(label, "mismatch", f"refused: {notes[0]}"
                       + (f" (+{len(notes) - 1} more)" if len(notes) > 1 else ""), notes=notes)
    wrong = []
    got = [str(p.section) for p in problems]
    if sorted(got) != sorted(expected):
        wrong.append(f"errors in {', '.join(got)}; expected one in each of "
                     f"{', '.join(expected)} and none elsewhere")
    for p in problems:
        lack = expected.get(str(p.section))
        if lack is None:
            continue
        if p.line != lack.line:
            wrong.append(f"[{p.section}] error at line {p.line}, its section is at {lack.line}")
        if not _names_driver(p.reason, lack):
            wrong.append(f"[{p.section}] error does not name driver {lack.driver}: {p.reason}")
        if "\n" in str(p):
            wrong.append(f"[{p.section}] error spans several lines")
    if wrong:
        return Verdict(label, "mismatch", "; ".join(wrong), notes=notes)
    return Verdict(label, "refused", ", ".join(f"{s} ({lack.driver})"
                                               for s, lack in expected.items()),
                   tuple(expected), notes)


def config_files(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*.conf"))


def check_file(path: Path, base: Path, cluster: tuple[str, ...] = ()) -> Verdict:
    return check_text(path.read_text(), str(path.relative_to(base)), cluster)


_SHOWN = {"ok": "ok", "refused": "refused as expected", "mismatch": "MISMATCH"}


def render(verdict: Verdict, verbose: bool = False) -> list[str]:
    """The verdict's line (and, verbose, what validate said, indented)."""
    lines = [f"{_SHOWN[verdict.outcome]:<20} {verdict.path}: {verdict.detail}"]
    if verbose:
        lines += [f"    {note}" for note in verdict.notes]
    return lines


def summary(verdicts: list[Verdict]) -> str:
    count = {o: sum(v.outcome == o for v in verdicts) for o in _SHOWN}
    return (f"{len(verdicts)} files: {count['ok']} ok, {count['refused']} refused as "
            f"expected, {count['mismatch']} mismatch{'es' * (count['mismatch'] != 1)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestrator.devtools.corpus_check",
        description="Check OpenSVC service files: those whose drivers we all run validate "
                    "unchanged, every other is refused naming only the drivers we lack.")
    parser.add_argument("directory", type=Path, help="searched for *.conf, recursively")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show the warnings and errors of each file")
    parser.add_argument("--cluster", metavar="NODES", default="",
                        help="read the files on the first of these nodes (comma or space "
                             "separated), as [cluster] nodes of node.conf; default: node n1 "
                             "standalone")
    args = parser.parse_args(argv)
    cluster = tuple(args.cluster.replace(",", " ").split())
    files = config_files(args.directory)
    if not files:
        print(f"no .conf file under {args.directory}", file=sys.stderr)
        return 1
    verdicts = []
    for path in files:
        verdict = check_file(path, args.directory, cluster)
        verdicts.append(verdict)
        print("\n".join(render(verdict, args.verbose)))
    print(summary(verdicts))
    return 1 if any(v.outcome == "mismatch" for v in verdicts) else 0


if __name__ == "__main__":
    sys.exit(main())
