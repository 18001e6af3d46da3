"""Next-run computation for 10,000 mixed expressions: windows, and cron next to croniter.

Run: .venv/bin/python bench/bench_schedule.py [--count 10000] [--seed 1]
Each expression is parsed once (as the daemon does, parse() is cached) and timed on one
next_run call with a random now/last; cron is timed against croniter(expr, base).get_next()
on the same inputs in the same run.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from croniter import croniter  # noqa: E402

from orchestrator.schedule import parse  # noqa: E402

WINDOWS = [
    "@10", "*@30", "09:00-10:00@10 mon-fri", "~00:00-06:00", "04:00-06:00@121", "*",
    "22:00-02:00 fri", "* fri:last", "* * * %2", "10:00-12:00@30,14:00-15:00@60",
    '["09:00-18:00@15 mon-fri", "!12:00-13:00"]', "23:00 sat,sun * nov-feb", "* :-2",
    "01:15@11h * * march-october", "18:00@180 * * *%6", "* * 1-26",
]  # fmt: skip
CRONS = [
    "*/5 * * * *", "0 9 * * mon-fri", "30 2 * * *", "15 1 1 * *", "0 0 * * 0",
    "7,37 */3 1-20 * *", "0 0 1 1 *", "*/10 8-18 * * 1-5 30",
]  # fmt: skip


def _inputs(rng: random.Random, count: int):
    base = datetime(2024, 1, 1)
    out = []
    for _ in range(count):
        now = base + timedelta(seconds=rng.randrange(365 * 86400))
        last = None if rng.random() < 0.3 else now - timedelta(seconds=rng.randrange(2 * 86400))
        out.append((now, last))
    return out


def _time(fn, items) -> list[float]:
    samples = []
    for item in items:
        t0 = time.perf_counter_ns()
        fn(*item)
        samples.append((time.perf_counter_ns() - t0) / 1000)
    return samples


def _summary(name: str, samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=100)
    return (
        f"{name:<28} n={len(samples):>5}  median {statistics.median(samples):7.1f} us  "
        f"p90 {q[89]:7.1f} us  p99 {q[98]:8.1f} us  total {sum(samples) / 1e6:6.3f} s"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    inputs = _inputs(rng, args.count)
    exprs = [rng.choice(WINDOWS if rng.random() < 0.7 else CRONS) for _ in range(args.count)]
    wins = [
        (parse(e, tz="UTC"), n, lst)
        for e, (n, lst) in zip(exprs, inputs, strict=True)
        if e in WINDOWS
    ]
    crons = [(e, n, lst) for e, (n, lst) in zip(exprs, inputs, strict=True) if e in CRONS]
    for e in CRONS:
        parse(e, tz="UTC")

    win_us = _time(lambda s, n, lst: s.next_run(n, lst), wins)
    ours = _time(lambda e, n, lst: parse(e, tz="UTC").next_run(n, lst), crons)
    theirs = _time(
        lambda e, n, lst: croniter(e, max(n, lst) if lst else n).get_next(datetime), crons
    )
    paris = [(parse(s.text, tz="Europe/Paris"), n, lst) for s, n, lst in wins]
    paris_us = _time(lambda s, n, lst: s.next_run(n, lst), paris)
    print(f"{args.count} expressions, seed {args.seed}, Python {sys.version.split()[0]}")
    print(_summary("window next_run (UTC)", win_us))
    print(_summary("window next_run (Paris)", paris_us))
    print(_summary("cron next_run (ours)", ours))
    print(_summary("cron croniter get_next", theirs))
    ratio = statistics.median(ours) / statistics.median(theirs)
    print(f"cron ours / croniter (median): {ratio:.2f}x")


if __name__ == "__main__":
    main()
