"""What the report says, independent of the file format: titled tables of labelled values.

`build(figures, settings, locale, ...)` turns the figures into `Group`s of `Table`s with names a
ward official reads (category, topic, area and channel names from the configuration and the
library, never internal codes), the "shortcomings" paragraphs the data supports, the next period's
plan items and the annex of definitions. The DOCX and the XLSX both render this one model, so the
two files always agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.config import Settings
from bot.feedback.categories import category, category_name
from bot.i18n import TIMEZONE, gettext_for
from bot.report.figures import SATISFACTION_TARGET, Period, ReportFigures

# Cell kinds: how a value is formatted in both files.
INT, PCT, TEXT, DATETIME, MINUTES, MONTH = "int", "pct", "text", "datetime", "minutes", "month"


@dataclass
class Table:
    title: str
    headers: list[str]
    kinds: list[str]
    rows: list[list[Any]]
    chart: str | None = None  # "bar" | "line": the XLSX draws a native chart of this table


@dataclass
class Group:
    key: str  # the sheet's short name
    title: str
    tables: list[Table] = field(default_factory=list)


@dataclass
class ReportContent:
    locale: str
    period: Period
    period_name: str
    title: str
    groups: list[Group]
    shortcomings: list[str]
    next_items: list[str]
    definitions: list[tuple[str, str]]
    summary: list[tuple[str, Any, str]]  # label, value, kind
    figures: ReportFigures


def _(text: str) -> str:
    """Mark a string for the catalog (report.po); it is translated where it is used."""
    return text


CHANNELS = {"telegram": "Telegram", "zalo_oa": "Zalo OA", "zalo_bot": "Zalo Bot",
            "web": _("Web chat")}
KINDS = {"campaign": _("Plan campaigns"), "staff": _("Staff announcements"),
         "urgent": _("Urgent alerts")}
REMINDERS = {"vaccine": _("Vaccine dose reminders"),
             "bhyt": _("Health insurance (BHYT) renewal reminders")}
OUTCOMES_OTHER = _("Other")
NO_AREA = _("No area given")

# The annex: each figure and its definition (docs/report.md says the same).
DEFINITIONS: list[tuple[str, str]] = [
    (_("Broadcasts sent"),
     _("Plan campaign occurrences, staff announcements and urgent alerts scheduled in the period"
       " that were queued (or delivered to at least one chat before being stopped).")),
    (_("Messages delivered"),
     _("Outbox messages of those broadcasts created in the period that the platform accepted.")),
    (_("Messages blocked"),
     _("Messages that failed because the chat blocked the bot, left or no longer exists.")),
    (_("Messages failed"),
     _("Messages that failed for any other reason after all retries.")),
    (_("Residents reached"),
     _("Distinct private chats with at least one message delivered in the period.")),
    (_("Groups reached"),
     _("Distinct group chats with at least one message delivered in the period.")),
    (_("Urgent alert delivery time"),
     _("Minutes from the alert's release (approval, or sending when no approval is needed) to "
       "its last delivered message.")),
    (_("Residents"),
     _("Distinct people with an account on at least one channel created before the date.")),
    (_("Subscribers"),
     _("Distinct people subscribed to at least one news topic before the date (a subscription "
       "later cancelled is no longer counted).")),
    (_("Active residents"),
     _("Distinct people whose most recent message falls in the period.")),
    (_("Opt-outs"),
     _("Times a resident stopped all news (/huy) or one topic in the period.")),
    (_("Questions asked"),
     _("Questions residents typed in the period (answered, unanswered or answered with emergency"
       " advice); menu taps are not counted.")),
    (_("Answered"),
     _("Questions answered from the station's reviewed library, emergency answers included.")),
    (_("Unanswered themes"),
     _("For unanswered questions, the topic the matcher found closest; the words themselves are "
       "never stored.")),
    (_("Red-flag answers"),
     _("Questions in which danger signs were recognised and the emergency advice (call 115) was "
       "given.")),
    (_("Reminders sent"),
     _("Personal vaccine and health insurance reminders sent in the period.")),
    (_("Feedback received"),
     _("Feedback filed in the period (duplicates included), by category and channel.")),
    (_("Accepted on time"),
     _("Feedback filed in the period and accepted by the end of it, before the acceptance "
       "deadline.")),
    (_("Resolved on time"),
     _("Feedback filed in the period and closed by the end of it, before the resolution "
       "deadline.")),
    (_("Open at the end"),
     _("Feedback filed before the end of the period and not closed by then (duplicates "
       "excluded).")),
    (_("Overdue at the end"),
     _("Open feedback whose resolution deadline had passed at the end of the period.")),
    (_("Satisfaction rate"),
     _("Ratings of 4 or 5 stars among all ratings given in the period; the target is at least 90"
       " %.")),
]


def period_name(period: Period, locale: str) -> str:
    t = gettext_for(locale)
    if period.kind == "H1":
        return t("the first 6 months of {year}").format(year=period.start.year)
    if period.kind == "H2":
        return t("the last 6 months of {year}").format(year=period.start.year)
    if period.kind == "year":
        return t("the year {year}").format(year=period.start.year)
    return t("from {start} to {end}").format(start=f"{period.start:%d/%m/%Y}",
                                             end=f"{period.last_day:%d/%m/%Y}")


def month_label(day: date) -> str:
    return f"{day:%m/%Y}"


def local_time(at: datetime | None) -> str:
    return "" if at is None else f"{at.astimezone(TIMEZONE):%d/%m/%Y %H:%M}"


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def build(figures: ReportFigures, settings: Settings, locale: str, *, library: Any = None,
          plan: Any = None) -> ReportContent:
    t = gettext_for(locale)
    period = figures.period

    def topic(code: str) -> str:
        if library is not None and code in getattr(library, "topics", {}):
            return library.topics[code].title(locale)
        return t(OUTCOMES_OTHER) if code in ("", "other") else code

    def area(code: str) -> str:
        if not code:
            return t(NO_AREA)
        found = settings.area(code)
        return found.name if found else code

    def cat(code: str) -> str:
        return category_name(category(settings, code), locale, code)

    def item(campaign_id: str) -> str:
        return plan_item_name(campaign_id, plan=plan, library=library, locale=locale,
                              topic=figures.communication.item_topics.get(campaign_id))

    c, r, q, rm, fb = (figures.communication, figures.residents, figures.questions,
                       figures.reminders, figures.feedback)
    sat = fb.satisfaction
    pname = period_name(period, locale)
    title = t("Results of health communication and the handling of residents' feedback in {period}"
              ).format(period=pname)
    label, value = t("Figure"), t("Value")

    comm = Group("comm", t("Communication"), [
        Table(t("Broadcasts and deliveries"), [label, value], [TEXT, INT], [
            *[[t(KINDS.get(k, k)), n] for k, n in c.broadcasts_by_kind.items()],
            [t("Messages delivered"), c.delivered], [t("Messages failed"), c.failed],
            [t("Messages blocked"), c.blocked], [t("Residents reached"), c.residents_reached],
            [t("Groups reached"), c.groups_reached]]),
        Table(t("Campaigns per plan item"), [t("Plan item"), t("Times sent")], [TEXT, INT],
              [[k, n] for k, n in by_name(item, c.campaigns_by_item).items()]),
        Table(t("Broadcasts per topic"), [t("Topic"), t("Broadcasts")], [TEXT, INT],
              [[topic(k), n] for k, n in c.broadcasts_by_topic.items()]),
        Table(t("Messages delivered per area"), [t("Area"), t("Messages delivered")],
              [TEXT, INT], [[area(k), n] for k, n in c.delivered_by_area.items()]),
        Table(t("Messages per month"), [t("Month"), t("Delivered"), t("Failed"), t("Blocked")],
              [MONTH, INT, INT, INT], [[m, d, f, b] for m, d, f, b in c.by_month], chart="bar"),
        Table(t("Urgent alerts"), [t("Alert no."), t("Released"), t("Last delivery"),
                                   t("Minutes")], [INT, TEXT, TEXT, MINUTES],
              [[i, local_time(a), local_time(d), m] for i, a, d, m in c.urgent]),
    ])
    res = Group("residents", t("Residents using the bot"), [
        Table(t("Residents and subscribers"), [label, t("Start of period"), t("End of period")],
              [TEXT, INT, INT], [[t("Residents"), r.residents_start, r.residents_end],
                                 [t("Subscribers"), r.subscribers_start, r.subscribers_end]]),
        Table(t("Activity"), [label, value], [TEXT, INT],
              [[t("Active residents"), r.active], [t("Opt-outs"), r.optouts]]),
        Table(t("Residents per channel (end of period)"), [t("Channel"), t("Residents")],
              [TEXT, INT], [[t(CHANNELS.get(k, k)), n] for k, n in r.by_channel_end.items()]),
        Table(t("Residents per area (end of period)"), [t("Area"), t("Residents")], [TEXT, INT],
              [[area(k), n] for k, n in r.by_area_end.items()]),
    ])
    ques = Group("questions", t("Residents' questions"), [
        Table(t("Questions answered"), [label, value, t("Share")], [TEXT, INT, PCT], [
            [t("Questions asked"), q.asked, None],
            [t("Answered"), q.answered + q.red_flags, q.answered_share],
            [t("Unanswered"), q.unanswered, q.unanswered_share],
            [t("Red-flag answers"), q.red_flags, share(q.red_flags, q.asked)]]),
        Table(t("Questions per topic"), [t("Topic"), t("Questions")], [TEXT, INT],
              [[topic(k), n] for k, n in q.by_topic.items()], chart="bar"),
        Table(t("Most frequent unanswered themes"), [t("Closest topic"), t("Questions")],
              [TEXT, INT], [[topic(k), n] for k, n in q.unanswered_themes]),
    ])
    rem = Group("reminders", t("Reminders"), [
        Table(t("Reminders sent"), [t("Reminder"), t("Sent")], [TEXT, INT],
              [[t(REMINDERS.get(k, k)), n] for k, n in rm.by_kind.items()]
              + [[t("Total"), rm.total]]),
    ])
    feed = Group("feedback", t("Residents' feedback"), [
        Table(t("Feedback handling"), [label, value, t("Share")], [TEXT, INT, PCT], [
            [t("Feedback received"), fb.received, None],
            [t("Accepted on time"), fb.accepted_on_time, share(fb.accepted_on_time, fb.accepted)],
            [t("Resolved on time"), fb.resolved_on_time, share(fb.resolved_on_time, fb.resolved)],
            [t("Open at the end"), fb.open_at_end, None],
            [t("Overdue at the end"), fb.overdue_at_end, None],
            [t("Ratings given"), sat.ratings, None],
            [t("Satisfaction rate"), sat.satisfied, sat.rate],
            [t("Target"), None, SATISFACTION_TARGET]]),
        Table(t("Feedback per category"), [t("Category"), t("Feedback")], [TEXT, INT],
              [[cat(k), n] for k, n in fb.by_category.items()], chart="bar"),
        Table(t("Feedback per channel"), [t("Channel"), t("Feedback")], [TEXT, INT],
              [[t(CHANNELS.get(k, k)), n] for k, n in fb.by_channel.items()]),
        Table(t("Feedback and satisfaction per month"),
              [t("Month"), t("Received"), t("Ratings"), t("Satisfaction rate"), t("Target")],
              [MONTH, INT, INT, PCT, PCT],
              [[m, n, s.ratings, s.rate, SATISFACTION_TARGET] for m, n, s in fb.by_month],
              chart="line"),
    ])
    shortcomings = []
    if sat.rate is not None and sat.rate < SATISFACTION_TARGET:
        shortcomings.append(t("The satisfaction rate was {rate}, below the target of {target}."
                              ).format(rate=percent(sat.rate, locale),
                                       target=percent(SATISFACTION_TARGET, locale)))
    if sat.rate is None:
        shortcomings.append(t("No resident rated the handling of their feedback in the period."))
    if fb.overdue_at_end:
        shortcomings.append(t("{count} feedback items were still open past their deadline at the "
                              "end of the period.").format(count=fb.overdue_at_end))
    idle = unserved_items(figures, plan)
    if idle:
        shortcomings.append(t("Plan items with nothing sent in the period: {items}.").format(
            items="; ".join(dict.fromkeys(item(i) for i in idle))))
    if q.unanswered:
        shortcomings.append(t("{count} residents' questions had no answer in the library; the "
                              "most frequent themes are listed in the table.").format(
                                  count=q.unanswered))
    from bot.report.checkups_group import checkups_part

    visits, visit_problems, visit_definitions = checkups_part(figures, locale, area, settings)
    shortcomings += visit_problems
    summary = [
        (t("Messages delivered"), c.delivered, INT),
        (t("Residents reached"), c.residents_reached, INT),
        (t("Subscribers"), r.subscribers_end, INT),
        (t("Questions asked"), q.asked, INT),
        (t("Reminders sent"), rm.total, INT),
        (t("Feedback received"), fb.received, INT),
        (t("Satisfaction rate"), sat.rate, PCT),
        (t("Target"), SATISFACTION_TARGET, PCT),
    ]
    return ReportContent(
        locale=locale, period=period, period_name=pname, title=title,
        groups=[comm, res, ques, rem, feed] + ([visits] if visits else []),
        shortcomings=shortcomings, next_items=next_items(plan, period, locale, item),
        definitions=[(t(a), t(b)) for a, b in DEFINITIONS] + visit_definitions,
        summary=summary, figures=figures)


def plan_item_name(campaign_id: str, *, plan: Any, library: Any, locale: str,
                   topic: str | None = None) -> str:
    """A plan item's human name: what it serves, else its topic's title; never its id (the
    report and the console's calendar). `topic`: the one recorded for an item no longer in the
    plan."""
    t = gettext_for(locale)
    c = plan.campaign(campaign_id) if plan is not None and _has(plan, campaign_id) else None
    if c is not None and c.serves:
        return str(c.serves)
    code = c.topic if c is not None else topic
    if library is not None and code in getattr(library, "topics", {}):
        return str(library.topics[code].title(locale))
    return t("Other plan item") if c is not None else t("Campaign no longer in the plan")


def _has(plan: Any, campaign_id: str) -> bool:
    return any(c.id == campaign_id for c in plan.campaigns)


def by_name(name: Any, counts: dict[str, int]) -> dict[str, int]:
    """Counts keyed by a human name (two ids with the same name add up)."""
    out: dict[str, int] = {}
    for key, count in counts.items():
        out[name(key)] = out.get(name(key), 0) + count
    return out


def _resident_campaigns(plan: Any) -> list[Any]:
    return [c for c in plan.campaigns if c.topic != "staff"]


def unserved_items(figures: ReportFigures, plan: Any) -> list[str]:
    """Resident campaigns whose window falls in the period with no occurrence recorded."""
    if plan is None:
        return []
    from scheduler.occurrences import campaign_windows

    period = figures.period
    sent = figures.communication.campaigns_by_item
    return [c.id for c in _resident_campaigns(plan)
            if campaign_windows(c, period.start, period.last_day) and not sent.get(c.id)]


def next_items(plan: Any, period: Period, locale: str, item: Any) -> list[str]:
    """The next period's plan items, from the calendar, with their first window."""
    if plan is None:
        return []
    from scheduler.occurrences import campaign_windows

    nxt = period.next()
    out = []
    for c in _resident_campaigns(plan):
        windows = campaign_windows(c, nxt.start, nxt.last_day)
        if windows:
            first, last = windows[0]
            out.append(f"{item(c.id)} ({first:%d/%m} – {last:%d/%m/%Y})")
    return out


def percent(value: float | None, locale: str) -> str:
    if value is None:
        return "–"
    text = f"{value * 100:.1f}"
    return (text.replace(".", ",") if locale == "vi" else text) + " %"


def number(value: int | float | None, locale: str) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        text = f"{value:,.1f}"
    else:
        text = f"{value:,}"
    if locale == "vi":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def cell_text(value: Any, kind: str, locale: str) -> str:
    if isinstance(value, str):  # words where a figure is not known ("chưa có số dân")
        return value
    if value is None:
        return "" if kind != PCT else "–"
    if kind == PCT:
        return percent(value, locale)
    if kind in (INT, MINUTES):
        return number(value, locale)
    if kind == MONTH:
        return month_label(value)
    return str(value)
