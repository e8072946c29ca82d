"""Delivery figures of a broadcast, counted from the outbox rows the dispatcher recorded:
sent, failed because the chat blocked the bot or is gone ("bị chặn"), failed otherwise ("lỗi"),
still waiting, cancelled. The same figures feed the author's notice, `healthbot broadcasts` and
the periodic report, so they always agree.

`notify_finished(services)` runs periodically: once every row of a staff broadcast has an outcome,
its author gets "đã gửi N/M, lỗi K, bị chặn B" in their private chat, exactly once (the notice's
outbox dedupe key is the "already told" mark, so a restart never tells twice).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Services
from bot.feedback.routing import private_chat_of
from bot.i18n import gettext_for
from bot.model import Outbound
from storage import outbox
from storage.models import BroadcastRecord, Outbox

# Failure reasons that mean the recipient cannot be written to (blocked, left, deleted), as the
# senders classify them; any other failure counts as an error.
UNREACHABLE = ("blocked", "deactivated", "removed", "not_found", "forbidden", "no_rights",
               "unfollowed", "user_blocked")
WAITING = (outbox.STATUS_PENDING, outbox.STATUS_SENDING, outbox.STATUS_HELD)
NOTIFY_WINDOW = timedelta(days=7)  # finished broadcasts older than this are not reported late


@dataclass(frozen=True)
class Figures:
    total: int = 0
    sent: int = 0
    blocked: int = 0
    errors: int = 0
    waiting: int = 0
    cancelled: int = 0

    @property
    def finished(self) -> bool:
        return self.total > 0 and self.waiting == 0


def _is_unreachable(last_error: str | None) -> bool:
    reason = (last_error or "").removeprefix("stop:").strip().lower()
    return reason.startswith(UNREACHABLE)


async def figures_for(session: AsyncSession, broadcast_ids: list[int]) -> dict[int, Figures]:
    """Figures per broadcast id (an id with no rows gets zeros)."""
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    if broadcast_ids:
        stmt = (select(Outbox.broadcast_id, Outbox.status, Outbox.last_error, func.count())
                .where(Outbox.broadcast_id.in_(broadcast_ids))
                .group_by(Outbox.broadcast_id, Outbox.status, Outbox.last_error))
        for bid, status, last_error, n in (await session.execute(stmt)).all():
            key = status
            if status == outbox.STATUS_FAILED:
                key = "blocked" if _is_unreachable(last_error) else "errors"
            elif status in WAITING:
                key = "waiting"
            counts[int(bid)][key] += int(n)
    result = {}
    for bid in broadcast_ids:
        c = counts.get(bid, {})
        result[bid] = Figures(total=sum(c.values()), sent=c.get(outbox.STATUS_SENT, 0),
                              blocked=c.get("blocked", 0), errors=c.get("errors", 0),
                              waiting=c.get("waiting", 0),
                              cancelled=c.get(outbox.STATUS_CANCELLED, 0))
    return result


def figures_text(figures: Figures, locale: str) -> str:
    _ = gettext_for(locale)
    return _("sent {sent}/{total}, errors {errors}, blocked {blocked}").format(
        sent=figures.sent, total=figures.total, errors=figures.errors, blocked=figures.blocked)


async def notify_finished(services: Services) -> int:
    """Tell each author whose broadcast has just finished; returns how many were told."""
    now: datetime = services.clock()
    settings = services.settings
    locale = settings.station.default_language
    _ = gettext_for(locale)
    told = 0
    async with services.db.sessions() as session, session.begin():
        stmt = (select(BroadcastRecord)
                .where(BroadcastRecord.kind.in_(("staff", "urgent")),
                       BroadcastRecord.status == "queued",
                       BroadcastRecord.scheduled_at >= now - NOTIFY_WINDOW)
                .order_by(BroadcastRecord.id))
        records = list((await session.execute(stmt)).scalars().all())
        keys = {f"broadcast:{r.id}:figures": r for r in records}
        told_before = set((await session.execute(
            select(Outbox.dedupe_key).where(Outbox.dedupe_key.in_(list(keys))))).scalars().all())
        records = [r for key, r in keys.items() if key not in told_before]
        figures = await figures_for(session, [r.id for r in records])
        for record in records:
            done = figures[record.id]
            author = next((m for m in settings.staff if m.name[:64] == record.created_by), None)
            chat = private_chat_of(author, settings) if author else None
            if not done.finished or chat is None or services.deliverer is None:
                continue
            label = (record.text or record.message_id or "")[:40]
            text = _("Your broadcast “{label}” has finished: {figures}.").format(
                label=label, figures=figures_text(done, locale))
            await services.deliverer.enqueue(
                session, channel=chat.channel, chat_id=chat.chat_id, message=Outbound(text=text),
                dedupe_key=f"broadcast:{record.id}:figures", priority=outbox.PRIORITY_STAFF)
            told += 1
    return told
