"""Benchmark the FAQ matcher: accuracy and per-query latency (p50/p99).

Runs on the labelled questions (tests/data/questions.tsv) against the shipped library, then
against the same library grown to 500 entries with synthetic distractor entries built in
memory. Single-threaded; pinned to one CPU where the OS allows it. Accuracy is top-1 on the
questions the library answers; "outside wrong" is the share of the outside-the-library questions
that still got a topic (issue 12: at most 1 %). Latency is wall-clock time and, in the "cpu"
columns, the thread's own CPU time, which other jobs on a shared machine inflate far less. When
the red-flag layer (`content.red_flags`) is present, each timed question runs through it and then
the matcher, as the bot does.

    /work/venv/bin/python bench/faq.py [--entries 500] [--repeat 3]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from content.library import Library, Source, Topic, load_library  # noqa: E402
from content.matching import Matcher  # noqa: E402
from content.normalize import match_form, normalize  # noqa: E402

try:  # the safety layer that sees every message before matching (issue 12)
    from content.red_flags import detect as detect_red_flag  # noqa: E402
except ImportError:  # pragma: no cover - a checkout without it
    detect_red_flag = None

QUESTIONS_TSV = Path(__file__).resolve().parents[1] / "tests" / "data" / "questions.tsv"
SEED = 20261122
# Everyday Vietnamese words outside health topics, so synthetic entries look like text
# (realistic posting-list sizes) without being copies of real answers.
FILLER_WORDS = """
nhà cửa đường phố chợ búa công việc gia đình bạn bè hàng xóm mùa màng ruộng vườn cây trái
xe cộ điện nước internet điện thoại giấy tờ hồ sơ thủ tục văn phòng phường xã tổ dân phố
họp mặt sinh hoạt văn hóa thể thao lễ hội du lịch trường lớp sách vở bài tập thầy cô
nấu ăn món ngon gạo thịt cá rau củ quả bánh kẹo nước uống quần áo giày dép mua bán giá cả
tiền bạc ngân hàng tiết kiệm bảo dưỡng sửa chữa xây dựng môi trường rác thải cây xanh
thời tiết mưa nắng gió bão lũ lụt hạn hán nông nghiệp chăn nuôi gà vịt lợn bò trâu
""".split()


def load_questions() -> list[tuple[str, str | None]]:
    with QUESTIONS_TSV.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [(r["question"], r["expected_topic"] or None) for r in rows]


def grow_library(library: Library, total_entries: int, rng: random.Random) -> Library:
    """The library plus synthetic topics until it holds `total_entries` entries."""
    topics = dict(library.topics)
    entries = {e.id: e for e in library.entries()}
    template = next(iter(entries.values()))
    n = 0
    while len(entries) < total_entries:
        topic_id = f"synthetic-{n // 12:02d}"
        words = lambda k: " ".join(rng.choices(FILLER_WORDS, k=k))  # noqa: E731
        entry = replace(
            template, id=f"{topic_id}.e{n}", topic_id=topic_id,
            titles={"vi": words(4), "en": f"synthetic {n}"},
            texts={"vi": words(90), "en": " ".join(rng.choices(
                ["the", "station", "market", "street", "family", "work", "school", "rain"],
                k=60))},
            questions={"vi": tuple(words(8) for _ in range(6)), "en": (f"synthetic {n}",)},
            sources=(Source(issuer="bench", title="synthetic", document="none"),),
            related=(), status="approved",
        )
        entries[entry.id] = entry
        old = topics.get(topic_id)
        topics[topic_id] = Topic(id=topic_id, titles={"vi": topic_id, "en": topic_id},
                                 entries=(*(old.entries if old else ()), entry))
        n += 1
    return Library(topics=topics, _entries=entries)


def run(matcher: Matcher, questions: list[tuple[str, str | None]], repeat: int) -> dict[str, float]:
    latencies: list[float] = []
    cpu: list[float] = []  # the thread's own CPU time: what the code costs when others share the VM
    correct = in_total = off_total = off_wrong = 0
    for round_no in range(repeat):
        for question, expected in questions:
            normalize.cache_clear()  # each resident question is new text
            match_form.cache_clear()
            start, start_cpu = time.perf_counter(), time.thread_time()
            if detect_red_flag is not None:
                detect_red_flag(question)
            result = matcher.match(question)
            cpu.append((time.thread_time() - start_cpu) * 1000)
            latencies.append((time.perf_counter() - start) * 1000)
            if round_no == 0:
                if expected is None:
                    off_total += 1
                    off_wrong += result.topic is not None
                else:
                    in_total += 1
                    correct += result.topic == expected
    latencies.sort()
    cpu.sort()
    return {
        "cpu_p50": statistics.median(cpu), "cpu_p99": cpu[min(len(cpu) - 1, int(len(cpu) * 0.99))],
        "accuracy": correct / max(in_total, 1), "outside_wrong": off_wrong / max(off_total, 1),
        "p50": statistics.median(latencies),
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "max": latencies[-1],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    questions = load_questions()
    library = load_library()
    outside = sum(1 for _, t in questions if t is None)
    print(f"healthbot FAQ benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, "
          f"Python {sys.version.split()[0]}, {len(questions)} labelled questions "
          f"({len(questions) - outside} on topics, {outside} outside the library), "
          f"{args.repeat} rounds, red-flag layer {'included' if detect_red_flag else 'absent'}")
    print(f"{'library':<26}{'entries':>8}{'build ms':>10}{'top-1':>8}{'out.wrong':>10}"
          f"{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'cpu p50':>9}{'cpu p99':>9}")
    grown = grow_library(library, args.entries, random.Random(SEED))
    for name, lib in (("shipped", library), (f"grown to {args.entries}", grown)):
        start = time.perf_counter()
        matcher = Matcher(lib)
        build_ms = (time.perf_counter() - start) * 1000
        figures = run(matcher, questions, args.repeat)
        count = sum(1 for _ in lib.entries())
        print(f"{name:<26}{count:>8}{build_ms:>10.0f}{figures['accuracy']:>8.3f}"
              f"{figures['outside_wrong']:>10.3f}{figures['p50']:>8.3f}{figures['p99']:>8.3f}"
              f"{figures['max']:>8.2f}{figures['cpu_p50']:>9.3f}{figures['cpu_p99']:>9.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
