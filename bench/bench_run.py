"""Overhead of ``svcmgr -s SVC run --rid task#0`` on ``command = /bin/true``, as a whole
process, against ``/bin/true`` started the same way (fresh subprocess each time).

    .venv/bin/python bench/bench_run.py [--runs 30] [--cold-bytecode]

Prints median and p90 of both, and the median overhead (target: < 150 ms).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SVCMGR = Path(sys.executable).parent / "svcmgr"
TARGET_MS = 150.0


def timed(argv: list[str], env: dict[str, str], cwd: str | None = None) -> float:
    """Wall clock of one whole process, in ms (a failing one ends the benchmark)."""
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{argv} exited {proc.returncode}")
    return elapsed * 1000


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]


def bench_node(root: str) -> dict[str, str]:
    """Make ``root`` a node with service ``bench`` (``task#0``: /bin/true); the environment
    that runs svcmgr on it (none of the caller's ORCHESTRATOR_* settings)."""
    services = Path(root, "etc", "orchestrator", "services")
    services.mkdir(parents=True)
    (services / "bench.conf").write_text("[task#0]\ncommand = /bin/true\n")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("ORCHESTRATOR_") and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(ORCHESTRATOR_ROOT=root, ORCHESTRATOR_NODE="bench")
    return env


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--cold-bytecode", action="store_true",
                    help="compile every module from source each run (PYTHONDONTWRITEBYTECODE=1)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as root:
        env = bench_node(root)
        if args.cold_bytecode:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        else:
            # as installed: bytecode cached (in a private prefix, the checkout stays clean)
            env["PYTHONPYCACHEPREFIX"] = str(Path(root, "pycache"))
        run = [str(SVCMGR), "-s", "bench", "run", "--rid", "task#0"]
        timed(run, env)  # warm the page cache and the bytecode cache
        base, svc = [], []
        for _ in range(args.runs):  # interleaved, so load drifts hit both alike
            base.append(timed(["/bin/true"], env))
            svc.append(timed(run, env))
    overhead = statistics.median(svc) - statistics.median(base)
    mode = "no bytecode cache" if args.cold_bytecode else "bytecode cached"
    print(f"runs: {args.runs}, {mode}, Python {sys.version.split()[0]}")
    print(f"/bin/true                : median {statistics.median(base):7.1f} ms  "
          f"p90 {p90(base):7.1f} ms")
    print(f"svcmgr run --rid task#0  : median {statistics.median(svc):7.1f} ms  "
          f"p90 {p90(svc):7.1f} ms")
    verdict = "OK" if overhead < TARGET_MS else "OVER TARGET"
    print(f"overhead (median)        : {overhead:7.1f} ms  (target < {TARGET_MS:g} ms: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
