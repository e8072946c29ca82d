"""`healthbot broadcasts [--days N] [--json] [--config C]`: staff broadcasts and urgent alerts
with their delivery figures (sent / total, errors, blocked, waiting), newest first."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

DEFAULT_DAYS = 30


def register(
    sub: argparse._SubParsersAction, with_config: Callable[..., argparse.ArgumentParser]
) -> None:
    cmd = with_config(sub.add_parser("broadcasts", help="broadcasts and their delivery figures"))
    cmd.add_argument("--days", type=int, default=DEFAULT_DAYS, help="how far back (default 30)")
    cmd.add_argument("--json", action="store_true", help="print a JSON array")
    cmd.set_defaults(func=_list)


async def rows(settings: object, days: int, now: object = None) -> list[dict[str, object]]:
    from bot.broadcast_figures import figures_for
    from bot.i18n import local_datetime
    from core.clock import utc_clock
    from storage.db import open_database
    from storage.models import BroadcastRecord

    current = now or utc_clock()
    db = open_database(settings.database.url)  # type: ignore[attr-defined]
    try:
        async with db.sessions() as session:
            stmt = (select(BroadcastRecord)
                    .where(BroadcastRecord.scheduled_at >= current - timedelta(days=days))  # type: ignore[operator]
                    .order_by(BroadcastRecord.scheduled_at.desc(), BroadcastRecord.id.desc()))
            records = list((await session.execute(stmt)).scalars().all())
            figures = await figures_for(session, [r.id for r in records])
    finally:
        await db.close()
    found = []
    for r in records:
        f = figures[r.id]
        found.append({
            "id": r.id, "kind": r.kind, "status": r.status, "author": r.created_by,
            "approved_by": r.approved_by, "time": local_datetime(r.scheduled_at, "vi"),
            "what": (r.text or r.message_id or "")[:60], "total": f.total, "sent": f.sent,
            "errors": f.errors, "blocked": f.blocked, "waiting": f.waiting,
            "cancelled": f.cancelled,
        })
    return found


def _list(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from bot.cli import settings_from

    try:
        found = asyncio.run(rows(settings_from(args), args.days))
    except SQLAlchemyError as exc:
        print(f"healthbot: cannot read the broadcasts ({type(exc).__name__}); check database.url "
              "and run `healthbot db upgrade`", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(found, ensure_ascii=False, indent=2))
        return 0
    if not found:
        print(f"no broadcast in the last {args.days} days")
        return 0
    print(f"{'id':>4}  {'time':16}  {'kind':8} {'status':16} {'sent':>9} {'errors':>6} "
          f"{'blocked':>7} {'waiting':>7}  what")
    for r in found:
        sent = f"{r['sent']}/{r['total']}"
        print(f"{r['id']:>4}  {r['time']:16}  {r['kind']:8} {r['status']:16} {sent:>9} "
              f"{r['errors']:>6} {r['blocked']:>7} {r['waiting']:>7}  {r['what']}")
    return 0
