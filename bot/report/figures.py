"""The periodic report's figures (issue 17), computed from what the bot records.

Every figure is defined in docs/report.md (and in the report's annex). Periods are local
(Asia/Ho_Chi_Minh) dates, the end exclusive; the same period computed twice gives the same
figures because nothing here reads the wall clock.

Station-aware: `compute(session, period, station_id=None)` counts every station; with a station
id, each query of a table that has a `station_id` column keeps only that station's rows
(`bot.stations.only_stations`, the same scoping the digest uses).

The periods are in `bot.report.periods`, the figures' dataclasses in `bot.report.figure_types`;
both are importable from here.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from bot.broadcast_figures import UNREACHABLE, WAITING
from bot.feedback.reports import (
    SATISFIED_MIN_STARS,
    Satisfaction,
    local_midnight,
    month_starts,
    on_time,
)
from bot.report.figure_types import (  # noqa: F401  (re-exported)
    SATISFACTION_TARGET,
    Communication,
    Feedback,
    Questions,
    Reminders,
    ReportFigures,
    Residents,
)
from bot.report.periods import (  # noqa: F401  (re-exported)
    PERIOD_RE,
    Period,
    current_half,
    parse_period,
    period_between,
)
from bot.stations import only_stations
from storage import outbox, report_facts
from storage.models import (
    BroadcastRecord,
    Chat,
    EndedSubscription,
    Identity,
    Outbox,
    Person,
    Reminder,
    ReportFact,
    Subscription,
    Ticket,
)

PLAN_PREFIX = "plan:"
OPEN_STATUSES = ("new", "accepted", "answered")
NO_AREA = ""


def _bounds(period: Period) -> tuple[datetime, datetime]:
    return local_midnight(period.start).astimezone(UTC), local_midnight(period.end).astimezone(UTC)


def _local_month(at: datetime) -> date:
    from bot.i18n import TIMEZONE

    local = at.astimezone(TIMEZONE)
    return date(local.year, local.month, 1)


def _unreachable(last_error: str | None) -> bool:
    reason = (last_error or "").removeprefix("stop:").strip().lower()
    return reason.startswith(UNREACHABLE)


async def communication(session: AsyncSession, period: Period, station_id: int | None = None,
                        topic_of: dict[str, str] | None = None) -> Communication:
    start, end = _bounds(period)
    out = Communication()
    stmt = only_stations(select(BroadcastRecord.id, BroadcastRecord.kind, BroadcastRecord.created_by,
                               BroadcastRecord.message_id, BroadcastRecord.approved_at)
                        .where(BroadcastRecord.scheduled_at >= start,
                               BroadcastRecord.scheduled_at < end,
                               or_(BroadcastRecord.status == "queued",
                                   select(Outbox.id).where(
                                       Outbox.broadcast_id == BroadcastRecord.id,
                                       Outbox.status == outbox.STATUS_SENT).exists())),
                        BroadcastRecord, station_id)
    records = (await session.execute(stmt)).all()
    out.broadcasts_by_kind = dict(Counter(r.kind for r in records).most_common())
    out.campaigns_by_item = dict(Counter(
        (r.created_by or "").removeprefix(PLAN_PREFIX) for r in records if r.kind == "campaign"
    ).most_common())
    topics = topic_of or {}
    out.item_topics = {(r.created_by or "").removeprefix(PLAN_PREFIX): topics[r.message_id]
                       for r in records if r.kind == "campaign" and topics.get(r.message_id or "")}
    out.broadcasts_by_topic = dict(Counter(
        topics.get(r.message_id or "", "") or "other" for r in records if r.message_id
    ).most_common())
    # Deliveries: the outbox rows of broadcasts and campaigns created in the period.
    month = _month_expr(session)
    rows_stmt = only_stations(
        select(month, Outbox.status, Outbox.last_error, func.count())
        .where(Outbox.created_at >= start, Outbox.created_at < end,
               or_(Outbox.broadcast_id.is_not(None), Outbox.campaign_id.is_not(None)))
        .group_by(month, Outbox.status, Outbox.last_error), Outbox, station_id)
    months: dict[date, list[int]] = {m: [0, 0, 0] for m in month_starts(period.start, period.end)}
    for ym, status, last_error, n in (await session.execute(rows_stmt)).all():
        key = date(int(str(ym)[:4]), int(str(ym)[5:7]), 1)
        slot = months.setdefault(key, [0, 0, 0])
        if status == outbox.STATUS_SENT:
            out.delivered += n
            slot[0] += n
        elif status == outbox.STATUS_FAILED:
            if _unreachable(last_error):
                out.blocked += n
                slot[2] += n
            else:
                out.failed += n
                slot[1] += n
        elif status in WAITING:
            out.waiting += n
    out.by_month = [(m, *v) for m, v in sorted(months.items())]  # type: ignore[misc]
    sent_where = and_(Outbox.created_at >= start, Outbox.created_at < end,
                      Outbox.status == outbox.STATUS_SENT,
                      or_(Outbox.broadcast_id.is_not(None), Outbox.campaign_id.is_not(None)))
    chat_key = Outbox.channel + ":" + Outbox.chat_id
    reached = only_stations(select(Outbox.chat_kind, func.count(func.distinct(chat_key)))
                           .where(sent_where).group_by(Outbox.chat_kind), Outbox, station_id)
    kinds = {kind: int(n) for kind, n in (await session.execute(reached)).all()}
    out.residents_reached, out.groups_reached = kinds.get("private", 0), kinds.get("group", 0)
    area_stmt = only_stations(
        select(Chat.area_code, func.count())
        .select_from(Outbox)
        .join(Chat, and_(Chat.channel == Outbox.channel, Chat.external_id == Outbox.chat_id),
              isouter=True)
        .where(sent_where).group_by(Chat.area_code), Outbox, station_id)
    out.delivered_by_area = dict(sorted(
        ((area or NO_AREA, int(n)) for area, n in (await session.execute(area_stmt)).all()),
        key=lambda kv: (-kv[1], kv[0])))
    urgent_ids = [r for r in records if r.kind == "urgent"]
    if urgent_ids:
        last = dict((await session.execute(
            select(Outbox.broadcast_id, func.max(Outbox.sent_at))
            .where(Outbox.broadcast_id.in_([r.id for r in urgent_ids]),
                   Outbox.status == outbox.STATUS_SENT)
            .group_by(Outbox.broadcast_id))).all())
        for r in sorted(urgent_ids, key=lambda r: r.id):
            done = last.get(r.id)
            minutes = ((done - r.approved_at).total_seconds() / 60
                       if done is not None and r.approved_at is not None else None)
            out.urgent.append((r.id, r.approved_at, done, minutes))
    return out


def _month_expr(session: AsyncSession) -> Any:
    """The local (UTC+7, no daylight saving in Viet Nam) month of an outbox row, 'YYYY-MM'."""
    if session.bind.dialect.name == "sqlite":
        return func.strftime("%Y-%m", Outbox.created_at, "+7 hours")
    return func.to_char(func.timezone("Asia/Ho_Chi_Minh", Outbox.created_at), "YYYY-MM")


async def residents(session: AsyncSession, period: Period,
                    station_id: int | None = None) -> Residents:
    start, end = _bounds(period)
    out = Residents()

    async def subscribers(at: datetime) -> int:
        """People following at least one topic at `at`: current subscriptions begun before it,
        and ended ones that were running then (an erased person counts under an anonymous key)."""
        current = only_stations(select(Subscription.person_id.label("key"))
                               .where(Subscription.created_at < at), Subscription, station_id)
        ended = only_stations(select(EndedSubscription.person_key.label("key"))
                             .where(EndedSubscription.started_at < at,
                                    EndedSubscription.ended_at > at),
                             EndedSubscription, station_id)
        both = union(current, ended).subquery()
        stmt = select(func.count()).select_from(both)
        return int((await session.execute(stmt)).scalar_one())

    async def people(before: datetime) -> int:
        stmt = only_stations(select(func.count(func.distinct(Identity.person_id)))
                            .where(Identity.created_at < before), Identity, station_id)
        return int((await session.execute(stmt)).scalar_one())

    out.subscribers_start, out.subscribers_end = await subscribers(start), await subscribers(end)
    out.residents_start, out.residents_end = await people(start), await people(end)
    active = only_stations(select(func.count(func.distinct(Identity.person_id)))
                          .where(Identity.last_inbound_at >= start,
                                 Identity.last_inbound_at < end), Identity, station_id)
    out.active = int((await session.execute(active)).scalar_one())
    by_channel = only_stations(select(Identity.channel, func.count(func.distinct(Identity.person_id)))
                              .where(Identity.created_at < end).group_by(Identity.channel),
                              Identity, station_id)
    out.by_channel_end = dict(sorted(((c, int(n)) for c, n in
                                      (await session.execute(by_channel)).all()),
                                     key=lambda kv: (-kv[1], kv[0])))
    by_area = only_stations(select(Person.area_code, func.count(func.distinct(Person.id)))
                           .join(Identity, Identity.person_id == Person.id)
                           .where(Identity.created_at < end).group_by(Person.area_code),
                           Person, station_id)
    out.by_area_end = dict(sorted(((a or NO_AREA, int(n)) for a, n in
                                   (await session.execute(by_area)).all()),
                                  key=lambda kv: (-kv[1], kv[0])))
    optouts = only_stations(select(func.count()).select_from(ReportFact)
                           .where(ReportFact.kind == report_facts.OPTOUT,
                                  ReportFact.created_at >= start, ReportFact.created_at < end),
                           ReportFact, station_id)
    out.optouts = int((await session.execute(optouts)).scalar_one())
    return out


async def questions(session: AsyncSession, period: Period,
                    station_id: int | None = None) -> Questions:
    start, end = _bounds(period)
    stmt = only_stations(select(ReportFact.outcome, ReportFact.topic, func.count())
                        .where(ReportFact.kind == report_facts.QUESTION,
                               ReportFact.created_at >= start, ReportFact.created_at < end)
                        .group_by(ReportFact.outcome, ReportFact.topic), ReportFact, station_id)
    out = Questions()
    topics: Counter[str] = Counter()
    themes: Counter[str] = Counter()
    for outcome, topic, n in (await session.execute(stmt)).all():
        out.asked += n
        if outcome == report_facts.UNANSWERED:
            out.unanswered += n
            themes[topic or "other"] += n
            continue
        if outcome == report_facts.RED_FLAG:
            out.red_flags += n
        else:
            out.answered += n
        topics[topic or "other"] += n
    out.by_topic = dict(sorted(topics.items(), key=lambda kv: (-kv[1], kv[0])))
    out.unanswered_themes = sorted(themes.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    return out


async def reminders(session: AsyncSession, period: Period,
                    station_id: int | None = None) -> Reminders:
    start, end = _bounds(period)
    stmt = only_stations(select(Reminder.kind, func.count())
                        .where(Reminder.sent_at >= start, Reminder.sent_at < end)
                        .group_by(Reminder.kind), Reminder, station_id)
    return Reminders(dict(sorted(((k, int(n)) for k, n in (await session.execute(stmt)).all()),
                                 key=lambda kv: (-kv[1], kv[0]))))


async def feedback(session: AsyncSession, period: Period,
                   station_id: int | None = None) -> Feedback:
    start, end = _bounds(period)
    cols = (Ticket.id, Ticket.category, Ticket.channel, Ticket.status, Ticket.created_at,
            Ticket.accepted_at, Ticket.accept_due, Ticket.closed_at, Ticket.resolve_due,
            Ticket.rating, Ticket.rated_at)
    filed = (await session.execute(only_stations(
        select(*cols).where(Ticket.created_at >= start, Ticket.created_at < end),
        Ticket, station_id))).all()
    out = Feedback(received=len(filed))
    out.by_category = dict(sorted(Counter(t.category for t in filed).items(),
                                  key=lambda kv: (-kv[1], kv[0])))
    out.by_channel = dict(sorted(Counter(t.channel for t in filed).items(),
                                 key=lambda kv: (-kv[1], kv[0])))
    accepted = [t for t in filed if t.accepted_at is not None and t.accepted_at < end]
    out.accepted = len(accepted)
    out.accepted_on_time = sum(1 for t in accepted if on_time(t.accepted_at, t.accept_due))
    resolved = [t for t in filed if t.status == "closed" and t.closed_at is not None
                and t.closed_at < end]
    out.resolved = len(resolved)
    out.resolved_on_time = sum(1 for t in resolved if on_time(t.closed_at, t.resolve_due))
    # Open at the end of the period: filed before it ends and not closed by then (duplicates are
    # folded into their original and never count as open).
    still_open = (await session.execute(only_stations(
        select(Ticket.resolve_due).where(
            Ticket.created_at < end, Ticket.status != "duplicate",
            or_(Ticket.closed_at.is_(None), Ticket.closed_at >= end)), Ticket, station_id))).all()
    out.open_at_end = len(still_open)
    out.overdue_at_end = sum(1 for (due,) in still_open if due is not None and due < end)
    rated = (await session.execute(only_stations(
        select(Ticket.rating, Ticket.rated_at).where(
            Ticket.rating.is_not(None), Ticket.rated_at >= start, Ticket.rated_at < end),
        Ticket, station_id))).all()
    per_month: dict[date, list[int]] = {m: [0, 0, 0] for m in month_starts(period.start,
                                                                          period.end)}
    for t in filed:
        per_month.setdefault(_local_month(t.created_at), [0, 0, 0])[0] += 1
    for rating, at in rated:
        slot = per_month.setdefault(_local_month(at), [0, 0, 0])
        slot[1] += 1
        slot[2] += int(rating) >= SATISFIED_MIN_STARS
    out.satisfaction = Satisfaction(len(rated), sum(1 for r, _a in rated
                                                    if int(r) >= SATISFIED_MIN_STARS))
    out.by_month = [(m, v[0], Satisfaction(v[1], v[2])) for m, v in sorted(per_month.items())]
    return out


async def compute(session: AsyncSession, period: Period, station_id: int | None = None,
                  topic_of: dict[str, str] | None = None) -> ReportFigures:
    """All figures of a period (`topic_of`: library message id -> topic id)."""
    return ReportFigures(
        period=period, station_id=station_id,
        communication=await communication(session, period, station_id, topic_of),
        residents=await residents(session, period, station_id),
        questions=await questions(session, period, station_id),
        reminders=await reminders(session, period, station_id),
        feedback=await feedback(session, period, station_id),
        checkups=await checkups_coverage(session, period, station_id),
        survey=await survey_satisfaction(session, period, station_id),
    )


async def checkups_coverage(session: AsyncSession, period: Period,
                            station_id: int | None = None) -> Any:
    from storage.checkups import coverage_of

    return await coverage_of(session, *_bounds(period), station_id=station_id)


async def survey_satisfaction(session: AsyncSession, period: Period,
                              station_id: int | None = None) -> Any:
    from storage.survey import satisfaction

    return await satisfaction(session, *_bounds(period), station_id=station_id)


def library_topics(library: Any) -> dict[str, str]:
    """message id -> topic id, from the content library."""
    return {e.id: e.topic_id for e in library.entries()}


def grouped(values: dict[str, int], limit: int) -> dict[str, int]:
    """The `limit - 1` largest, the rest summed under "other" (for charts)."""
    items = list(values.items())
    if len(items) <= limit:
        return dict(items)
    head = dict(items[: limit - 1])
    head["other"] = head.get("other", 0) + sum(n for _k, n in items[limit - 1:])
    return head


