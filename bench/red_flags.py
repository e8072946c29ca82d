"""Benchmark the red-flag layer: per-message latency of `detect()` (p50/p99), alone and followed
by the matcher at 500 entries, as the engine runs them for every text message.

Questions: tests/data/red_flags.tsv, near_misses.tsv and questions.tsv. Single-threaded.

    .venv/bin/python bench/red_flags.py [--entries 500] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.faq import SEED, grow_library, load_questions  # noqa: E402
from content.library import load_library  # noqa: E402
from content.matching import Matcher  # noqa: E402
from content.normalize import match_form, normalize  # noqa: E402
from content.red_flags import detect, load_rules  # noqa: E402

# CPU time of this thread: on a shared machine (2 cores, many jobs) wall time measures the
# scheduler's time slices, not this code. Pass --wall for wall-clock figures on an idle machine.
CLOCK = time.thread_time
DATA = Path(__file__).resolve().parents[1] / "tests" / "data"


def tsv_questions(name: str) -> list[str]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [line.split("\t")[0] for line in lines if line.strip() and not line.startswith("#")]


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--wall", action="store_true", help="wall-clock instead of CPU time")
    args = parser.parse_args()
    global CLOCK
    if args.wall:
        CLOCK = time.perf_counter
    questions = (
        tsv_questions("red_flags.tsv")
        + tsv_questions("near_misses.tsv")
        + [q for q, _ in load_questions()]
    )
    load_rules()
    matcher = Matcher(grow_library(load_library(), args.entries, random.Random(SEED)))
    alone, together = [], []
    for _ in range(args.repeat):
        for caches in (normalize, match_form):
            caches.cache_clear()  # every message is new to the process, as in production
        for question in questions:
            start = CLOCK()
            flag = detect(question)
            middle = CLOCK()
            if flag is None:
                matcher.match(question)
            end = CLOCK()
            alone.append((middle - start) * 1000)
            together.append((end - start) * 1000)
            normalize.cache_clear()
            match_form.cache_clear()
    p50, p99 = percentiles(alone)
    print(f"{len(questions)} questions x {args.repeat}, {'wall' if args.wall else 'CPU'} time")
    print(f"red-flag detect():            p50 {p50:.3f} ms  p99 {p99:.3f} ms")
    p50, p99 = percentiles(together)
    print(f"detect() + match() @ {args.entries} entries: p50 {p50:.3f} ms  p99 {p99:.3f} ms")


if __name__ == "__main__":
    main()
