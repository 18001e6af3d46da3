"""CLI start-up: ``svcmgr -s bench run --rid task#0`` (``command = /bin/true``) as a whole
process on cached bytecode, as a ratio to ``python -c pass`` measured in the same run
(interleaved, so the machine's load hits both alike), beside OpenSVC v2's
``python3 -m opensvc svc -s testmd run --rid task#0`` from a checkout when one is given.

    .venv/bin/python bench/bench_cli_startup.py [--runs 30] [--opensvc DIR]

``--opensvc DIR``: a checkout of opensvc/opensvc (v2; ``git archive`` of it is enough); the
script writes ``DIR/etc/testmd.conf`` and runs OpenSVC with the system ``python3``, whose
own ``-c pass`` is measured too. Then ``-X importtime`` of one svcmgr run: what it imports,
the heaviest modules, and that structlog, prometheus_client, kazoo and argcomplete are not
among them. Target: ratio <= 3 (issue 15).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_run import SVCMGR, bench_node, timed  # the same node and clock as bench_run.py

TARGET_RATIO = 3.0
NOT_IMPORTED = ("structlog", "prometheus_client", "kazoo", "argcomplete", "asyncio")


def imports(argv: list[str], env: dict[str, str]) -> list[tuple[int, str]]:
    """(cumulative µs, module) of the top-level imports of one run, by ``-X importtime``."""
    proc = subprocess.run([sys.executable, "-X", "importtime", *argv], env=env,
                          capture_output=True, text=True)
    found = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line[len("import time:"):].split("|")
        found.append((int(cumulative), name.rstrip()))
    return found


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--opensvc", type=Path, help="a checkout of opensvc/opensvc (v2)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as root:
        env = bench_node(root)
        env["PYTHONPYCACHEPREFIX"] = str(Path(root, "pycache"))  # cached, checkout clean
        cases = {"python -c pass": ([sys.executable, "-c", "pass"], None),
                 "svcmgr run": ([str(SVCMGR), "-s", "bench", "run", "--rid", "task#0"], None)}
        if args.opensvc:
            system = shutil.which("python3") or "python3"
            (args.opensvc / "etc").mkdir(exist_ok=True)
            (args.opensvc / "etc" / "testmd.conf").write_text(
                "[DEFAULT]\nid = 5a0cb5e6-1f4e-4e67-9f14-3f8a1b7d1f01\n\n"
                "[task#0]\ncommand = /bin/true\n")
            cases["system python3 -c pass"] = ([system, "-c", "pass"], None)
            cases["OpenSVC v2 run"] = ([system, "-m", "opensvc", "svc", "-s", "testmd", "run",
                                        "--rid", "task#0"], str(args.opensvc))
        for argv, cwd in cases.values():  # warm the page cache and the bytecode caches
            timed(argv, env, cwd)
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.runs):
            for name, (argv, cwd) in cases.items():
                times[name].append(timed(argv, env, cwd))
        med = {name: statistics.median(v) for name, v in times.items()}
        for name, value in med.items():
            spread = sorted(times[name])
            print(f"{name:<24} median {value:7.1f} ms  (min {spread[0]:.1f}, "
                  f"max {spread[-1]:.1f}, {args.runs} runs)")
        ratio = med["svcmgr run"] / med["python -c pass"]
        print(f"svcmgr run / python -c pass: {ratio:.2f}x (target <= {TARGET_RATIO:g}x)")
        if args.opensvc:
            osvc = med["OpenSVC v2 run"] / med["system python3 -c pass"]
            print(f"OpenSVC v2 run / its python3 -c pass: {osvc:.2f}x; OpenSVC v2 run / "
                  f"svcmgr run: {med['OpenSVC v2 run'] / med['svcmgr run']:.1f}x")
        found = imports([str(SVCMGR), "-s", "bench", "run", "--rid", "task#0"], env)
        base = {name.strip() for _, name in imports(["-c", "pass"], env)}
        names = {name.strip() for _, name in found}
        top = sorted(((us, n) for us, n in found if not n[1:].startswith(" ")
                      and n.strip() not in base), reverse=True)[:8]
        print(f"-X importtime: {len(names)} modules imported ({len(names - base)} beyond "
              "python -c pass); heaviest top-level (cumulative):")
        for us, name in top:
            print(f"  {us / 1000:6.1f} ms  {name.strip()}")
        present = [m for m in NOT_IMPORTED if m in names]
        print("not imported: " + ", ".join(m for m in NOT_IMPORTED if m not in present)
              + (f"; IMPORTED: {', '.join(present)}" if present else ""))
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
