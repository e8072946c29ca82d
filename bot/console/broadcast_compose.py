"""The console's broadcast composer (issue 18, point 3): the chat's flow, driven from a form.

Nothing about broadcasts is decided here: the draft is the same conversation data `/phat` and
`/khancap` build (`bot.conversations.broadcast`), and the console calls that module's own
functions on it, through a `Context` that stands for the staff member in their private chat
(`bot.console.acting.staff_context`, re-exported here):
`_record` (the row, the stations it reaches), `broadcasts.resolve_audience` (the exact count,
the query the planner and dispatcher use), `broadcasts.broadcast_message` (the text residents
read) and `_confirm` (approval by another approver in their chat when `broadcast.require_approval`
is on, or queueing / scheduling). The approver approves in the chat with the existing card.

Per-channel preview: the rendered message through `bot.rendering.fit` with each channel's
capabilities (length limits, source line, splitting), as the senders do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event

from bot.config import StaffMember
from bot.console.acting import staff_context
from bot.context import Context, Services
from bot.conversations import broadcast as chat_broadcast
from bot.i18n import TIMEZONE, gettext_for
from bot.model import TELEGRAM, WEB, ZALO_BOT, ZALO_OA, Capabilities
from bot.permissions import Action, member_allows
from bot.rendering import fit
from scheduler import broadcasts
from storage.models import BroadcastRecord

CHANNELS: tuple[Capabilities, ...] = (TELEGRAM, ZALO_OA, ZALO_BOT, WEB)
CHANNEL_NAMES = {"telegram": "Telegram", "zalo_oa": "Zalo OA", "zalo_bot": "Zalo Bot",
                 "web": "Web"}
MAX_TEXT_CHARS = chat_broadcast.MAX_TEXT_CHARS
AUDIENCE_KINDS = (broadcasts.AUDIENCE_ALL, broadcasts.AUDIENCE_AREA, broadcasts.AUDIENCE_TOPIC)


@dataclass
class Draft:
    """The composer's form, checked; `data()` is the chat flow's conversation data."""

    kind: str = "staff"  # staff | urgent
    message_id: str | None = None
    text: str | None = None
    audience: dict[str, str] = field(default_factory=lambda: {"kind": "all", "value": ""})
    at: datetime | None = None  # None: now
    force: bool = False  # urgent: go even in quiet hours
    errors: list[str] = field(default_factory=list)

    def data(self) -> dict[str, Any]:
        return {"kind": self.kind, "message_id": self.message_id, "text": self.text,
                "audience": dict(self.audience),
                "at": self.at.astimezone(UTC).isoformat() if self.at else None,
                "force": self.force, "time_given": True}


def read_form(form: dict[str, str], services: Services, member: StaffMember, locale: str,
              now: datetime) -> Draft:
    """The form's fields as a draft; what is wrong is listed in `errors` (translated)."""
    _ = gettext_for(locale)
    library = services.library
    draft = Draft(kind="urgent" if form.get("kind") == "urgent" else "staff")
    if draft.kind == "urgent" and not member_allows(member, Action.BROADCAST_URGENT):
        draft.errors.append(_("Sorry, your role does not allow urgent alerts."))
    message_id = (form.get("message_id") or "").strip()
    text = (form.get("text") or "").strip()
    if message_id:
        if not library.has_entry(message_id) or not library.entry(message_id).approved:
            draft.errors.append(_("Please choose a message from the library."))
        draft.message_id = message_id
    elif text:
        if len(text) > MAX_TEXT_CHARS:
            draft.errors.append(_("Please type the message (at most {limit} characters).")
                                .format(limit=MAX_TEXT_CHARS))
        draft.text = text
    else:
        draft.errors.append(_("Please choose a library message or type your own text."))
    kind = form.get("audience") or broadcasts.AUDIENCE_ALL
    value = (form.get("area") if kind == broadcasts.AUDIENCE_AREA else
             form.get("topic") if kind == broadcasts.AUDIENCE_TOPIC else "") or ""
    settings = staff_context(services, None, member, locale).settings
    if kind not in AUDIENCE_KINDS or (kind == broadcasts.AUDIENCE_AREA and
                                      settings.area(value) is None) or (
            kind == broadcasts.AUDIENCE_TOPIC and value not in library.topics):
        draft.errors.append(_("Please choose who should receive it."))
    draft.audience = {"kind": kind, "value": value}
    draft.force = draft.kind == "urgent" and form.get("force") == "1"
    when = (form.get("at") or "").strip()
    if when and draft.kind != "urgent":
        try:
            draft.at = datetime.fromisoformat(when).replace(tzinfo=TIMEZONE)
        except ValueError:
            draft.errors.append(_("I could not read that. Please type a date and time, for "
                                  "example: {examples}.").format(examples="“1/12 8:00”"))
        else:
            if draft.at <= now:
                draft.errors.append(_("That time has already passed. Please type a time in "
                                      "the future."))
    quiet = broadcasts.quiet_hours(settings)
    if draft.kind == "urgent" and not draft.force and quiet.holds(now):
        draft.at = quiet.release_time(now)  # as the chat's "Send at 07:00"
    return draft


@dataclass
class ChannelPreview:
    channel: str
    name: str
    parts: list[str]  # the messages the resident receives on it, in order


@dataclass
class Preview:
    total: int
    groups: int
    people: int
    by_channel: dict[str, int]
    goes_at: datetime  # local time it really goes (after quiet hours, unless urgent)
    quiet: bool  # held by quiet hours (or, urgent, sent in them)
    channels: list[ChannelPreview]
    approval: bool  # an approver must approve first


async def preview(ctx: Context, member: StaffMember) -> Preview:
    """The chat preview's facts: the exact recipients now, when it goes, the text per channel."""
    record: BroadcastRecord = chat_broadcast._record(ctx, member)
    recipients = await broadcasts.resolve_audience(
        ctx.session, broadcasts.staff_audience(record.audience), ctx.settings,
        broadcasts.audience_stations(record.audience))
    groups = sum(1 for r in recipients if r.chat_kind == "group")
    by_channel: dict[str, int] = {}
    for r in recipients:
        by_channel[r.channel] = by_channel.get(r.channel, 0) + 1
    urgent = record.kind == "urgent"
    quiet = broadcasts.quiet_hours(ctx.settings)
    due = max(ctx.now, record.scheduled_at)
    held = quiet.holds(due)
    goes_at = due if urgent else quiet.release_time(due)
    render = broadcasts.broadcast_message(record, ctx.settings, ctx.services.library,
                                          ctx.now.date())
    message = render(ctx.locale)
    channels = []
    for caps in CHANNELS:
        fitted, _menu = fit([message], caps, gettext_for(ctx.locale))
        channels.append(ChannelPreview(caps.name, CHANNEL_NAMES[caps.name],
                                       [m.text for m in fitted]))
    return Preview(len(recipients), groups, len(recipients) - groups, by_channel,
                   goes_at.astimezone(TIMEZONE), held, channels,
                   ctx.settings.broadcast.require_approval)


@dataclass
class Submitted:
    broadcast_id: int | None
    status: str | None
    message: str  # the chat's own words: "Sent for approval to …", "Queued for N chats …"


async def submit(ctx: Context) -> Submitted:
    """Confirm the draft exactly as the chat's Confirm button does."""
    added: list[BroadcastRecord] = []

    def note(_session: Any, instance: Any) -> None:
        if isinstance(instance, BroadcastRecord):
            added.append(instance)

    sync = ctx.session.sync_session
    event.listen(sync, "transient_to_pending", note)
    try:
        await chat_broadcast._confirm(ctx)
    finally:
        event.remove(sync, "transient_to_pending", note)
    record = added[-1] if added else None
    text = ctx.replies[-1].text if ctx.replies else ""
    return Submitted(record.id if record else None, record.status if record else None, text)
