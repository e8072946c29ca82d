"""Benchmark: the yearly report (issue 17) on a large station.

Seeds ``--residents`` people (each with an identity, a private chat and a subscription),
``--messages`` outbox rows of broadcasts spread over the year (sent, a few failed or blocked),
``--tickets`` tickets with ratings, questions and reminders; then makes the yearly report (figures,
charts, DOCX and XLSX) and prints the time (one run) and the peak memory: the Python heap peak during
a second run (tracemalloc) and the process's peak resident size. Aim: under 10 s and 300 MB.

    .venv/bin/python bench/report.py [--db URL] [--residents 50000] [--messages 500000] \
        [--tickets 5000]

Without --db a fresh SQLite file in a temporary folder is used; a PostgreSQL database given with
--db is wiped.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHUNK = 5000
YEAR = 2026


def at(rng: random.Random) -> datetime:
    return datetime(YEAR, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(365 * 86400 - 86400))


async def seed(url: str, residents: int, messages: int, tickets: int) -> None:
    from sqlalchemy import insert

    from storage.db import open_database
    from storage.models import (
        BroadcastRecord,
        Chat,
        Identity,
        Outbox,
        Person,
        Reminder,
        ReportFact,
        Subscription,
        Ticket,
    )

    rng = random.Random(17)
    db = open_database(url)
    start = datetime(2025, 12, 1, tzinfo=UTC)

    async def bulk(model, rows) -> None:  # noqa: ANN001
        async with db.sessions() as session, session.begin():
            for i in range(0, len(rows), CHUNK):
                await session.execute(insert(model), rows[i:i + CHUNK])

    areas = ["TDP1", "TDP2", "TDP3", None]
    await bulk(Person, [{"id": i, "area_code": areas[i % 4], "created_at": start}
                        for i in range(1, residents + 1)])
    channels = ["telegram", "zalo_oa", "zalo_bot", "web"]
    await bulk(Identity, [{"person_id": i, "channel": channels[i % 4], "external_id": f"u{i}",
                           "created_at": start + timedelta(minutes=i),
                           "last_inbound_at": at(rng)} for i in range(1, residents + 1)])
    await bulk(Chat, [{"channel": channels[i % 4], "external_id": f"u{i}", "kind": "private",
                       "area_code": areas[i % 4], "person_id": i, "created_at": start}
                      for i in range(1, residents + 1)])
    await bulk(Subscription, [{"person_id": i, "topic": "vaccination", "created_at": start}
                              for i in range(1, residents + 1, 2)])
    per_broadcast = max(1, residents // 2)
    broadcasts = max(1, messages // per_broadcast)
    await bulk(BroadcastRecord, [
        {"id": b, "kind": ("campaign", "staff", "urgent")[b % 3], "created_by": f"plan:c{b % 7}",
         "message_id": None, "scheduled_at": datetime(YEAR, 1 + b % 12, 10, 1, tzinfo=UTC),
         "status": "queued", "approved_at": datetime(YEAR, 1 + b % 12, 10, 1, tzinfo=UTC),
         "created_at": start} for b in range(1, broadcasts + 1)])
    rows = []
    for n in range(messages):
        b = 1 + n // per_broadcast
        i = 1 + n % residents
        created = datetime(YEAR, 1 + min(b, broadcasts) % 12, 10, 1, tzinfo=UTC)
        roll = rng.random()
        status, error = ("sent", None) if roll < 0.95 else (
            ("failed", "stop:blocked") if roll < 0.98 else ("failed", "timeout"))
        rows.append({"dedupe_key": f"k{n}", "channel": channels[i % 4], "chat_id": f"u{i}",
                     "chat_kind": "private", "payload": {}, "status": status,
                     "last_error": error, "broadcast_id": min(b, broadcasts),
                     "created_at": created, "not_before": created,
                     "sent_at": created + timedelta(seconds=n % 600) if status == "sent" else None})
        if len(rows) >= 50_000:
            await bulk(Outbox, rows)
            rows = []
    await bulk(Outbox, rows)
    cats = ["waiting", "attitude", "hygiene", "fees", "other"]
    ticket_rows = []
    for n in range(1, tickets + 1):
        filed = at(rng)
        closed = filed + timedelta(days=rng.randrange(1, 12)) if rng.random() < 0.9 else None
        ticket_rows.append({
            "code": f"PA-{YEAR}-{n:06d}", "person_id": 1 + n % residents,
            "channel": channels[n % 4], "chat_id": f"u{n}", "category": cats[n % 5], "text": "…",
            "status": "closed" if closed else "new", "created_at": filed,
            "accepted_at": filed + timedelta(hours=rng.randrange(1, 40)),
            "accept_due": filed + timedelta(days=1), "closed_at": closed,
            "resolve_due": filed + timedelta(days=10),
            "rating": rng.choice([5, 5, 5, 4, 4, 3, 2]) if closed else None,
            "rated_at": closed})
    await bulk(Ticket, ticket_rows)
    topics = ["vaccination", "dengue", "bhyt", "hfmd", None]
    await bulk(ReportFact, [
        {"kind": "question", "channel": channels[n % 4], "topic": topics[n % 5],
         "outcome": "unanswered" if topics[n % 5] is None else "answered", "created_at": at(rng)}
        for n in range(residents)])
    await bulk(Reminder, [
        {"person_id": 1 + n % residents, "kind": ("vaccine", "bhyt")[n % 2], "due_at": at(rng),
         "payload": {}, "dedupe_key": f"r{n}", "sent_at": at(rng)} for n in range(residents // 5)])
    if url.startswith("postgresql"):  # a live database has planner statistics; give them
        from sqlalchemy import text

        async with db.sessions() as session, session.begin():
            await session.execute(text("ANALYZE"))
    await db.close()


async def report(url: str, out: Path, *, trace: bool) -> tuple[float, int, list[Path], object]:
    from bot.config import load_settings
    from bot.report.figures import parse_period
    from bot.report.files import load_plan_quietly, make_report
    from content.library import load_library
    from storage.db import open_database

    settings = load_settings(None, env={})
    library, plan = load_library(), load_plan_quietly(settings)
    db = open_database(url)
    if trace:
        tracemalloc.start()
    began = time.perf_counter()
    async with db.sessions() as session:
        files = await make_report(session, settings, parse_period(str(YEAR)), out,
                                  library=library, plan=plan, issued_on=date(YEAR + 1, 1, 5))
    elapsed = time.perf_counter() - began
    peak = 0
    if trace:
        _now, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    await db.close()
    return elapsed, peak, files.paths, files.figures


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--residents", type=int, default=50_000)
    parser.add_argument("--messages", type=int, default=500_000)
    parser.add_argument("--tickets", type=int, default=5_000)
    args = parser.parse_args()
    from storage.db import upgrade

    tmp = Path(tempfile.mkdtemp(prefix="healthbot-bench-report-"))
    url = args.db or f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    if url.startswith("postgresql"):
        from tests.conftest import reset_postgres

        await reset_postgres(url)
    await upgrade(url)
    began = time.perf_counter()
    await seed(url, args.residents, args.messages, args.tickets)
    print(f"seeded {args.residents:,} residents, {args.messages:,} messages, "
          f"{args.tickets:,} tickets in {time.perf_counter() - began:.1f} s "
          f"({url.split(':')[0]})")
    # Timed without tracemalloc (it slows Python down several times), then measured with it.
    elapsed, _peak, paths, figures = await report(url, tmp / "out", trace=False)
    _elapsed, peak, _paths, _figures = await report(url, tmp / "out", trace=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    c, fb = figures.communication, figures.feedback  # type: ignore[attr-defined]
    print(f"yearly report: {elapsed:.2f} s (aim < 10 s)")
    print(f"peak Python heap during the report: {peak / 2**20:.0f} MB (aim < 300 MB); "
          f"process peak RSS (seeding included): {rss:.0f} MB")
    print(f"figures: delivered {c.delivered:,}, blocked {c.blocked:,}, failed {c.failed:,}, "
          f"residents reached {c.residents_reached:,}, feedback {fb.received:,}, "
          f"satisfaction {fb.satisfaction.rate:.1%}")
    for path in paths:
        print(f"{path.name}: {path.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    asyncio.run(main())
