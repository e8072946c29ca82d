"""Erasure (Decree 13/2023, the right to deletion): what "delete my data" does to every table.

The promise: after `erase_person`, no table holds the resident's platform ids, name, phone,
children, complaint texts, additions, the staff's answers to them, or their messages. Tickets stay
for the station's statistics (category, area, dates, rating), stripped of everything personal;
outbox rows stay for delivery counts, emptied and detached from the resident's chat.

`RULES` names every table of `storage.models` with what personal data it can hold and what erasure
does to it; a table without a rule fails `tests/faults/test_erasure.py` (and docs/privacy.md is
checked against the same list), so a new table cannot be forgotten.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, false, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import inbox, web
from storage.models import (
    Chat,
    CheckupBooking,
    Child,
    ConversationState,
    EndedSubscription,
    Identity,
    MessageLog,
    Outbox,
    Person,
    ProcessedUpdate,
    Reminder,
    Subscription,
    SurveyInvitation,
    Ticket,
    TicketEvent,
    UnansweredQuestion,
)

ERASED_TEXT = "[đã xoá theo yêu cầu]"
ERASED_PAYLOAD = {"erased": True}
ERASED_CHAT = "erased"  # outbox rows detached from the resident's chat (not "": that means "no chat")
MIN_QUOTE_CHARS = 8  # a staff note this short ("ok") is not looked for in the message log


@dataclass(frozen=True)
class Rule:
    """One table: the personal data it may hold, how long it is kept, what erasure does."""

    holds: str
    retention: str
    erasure: str


RULES: dict[str, Rule] = {
    "people": Rule("language, area, phone (with consent), consent time",
                   "until erased", "row deleted"),
    "identities": Rule("platform user id, display name, last seen", "until erased",
                       "rows deleted"),
    "chats": Rule("platform chat id of a private chat, last seen", "until erased",
                  "the resident's private chats deleted (groups are not personal)"),
    "conversation_states": Rule("platform ids, the draft being written (complaint, phone)",
                                "until erased", "rows of the resident's ids and chats deleted"),
    "subscriptions": Rule("news topics chosen", "until erased",
                          "rows deleted (kept as ended, without the person, for the counts)"),
    "ended_subscriptions": Rule("a person id with the topics they followed and when",
                                "kept for the periodic report",
                                "the person id replaced by a negative number that links to "
                                "nothing"),
    "children": Rule("child's nickname and birth date", "until erased", "rows deleted"),
    "reminders": Rule("reminder payload (child's nickname, due dates)", "until erased",
                      "rows deleted"),
    "message_log": Rule("the texts exchanged, the author's platform id in groups",
                        "database.message_log_retention_days (90)",
                        "rows of the resident's private chats and of their group messages deleted"),
    "processed_updates": Rule("the inbox: an update's payload and the replies to it, until sent",
                              "payload and replies cleared once sent; ids: "
                              "database.message_log_retention_days (90)",
                              "payload and replies of the resident's finished updates cleared "
                              "(an update still in flight is cleared when its replies went out)"),
    "outbox": Rule("messages to the resident; staff cards with name, phone, complaint; answers",
                   "sent/failed/cancelled rows: database.outbox_retention_days (30)",
                   "payload emptied, chat id and dedupe key cleared, unsent rows cancelled"),
    "broadcasts": Rule("none (staff-written announcements, staff ids)", "kept",
                       "nothing to erase"),
    "tickets": Rule("complaint text, rating comment, phone, photo, location, chat id",
                    "kept for statistics",
                    "stripped to category, area, dates, status and rating; author detached"),
    "ticket_events": Rule("the staff's answers and notes about the ticket (detail)",
                          "kept with the ticket", "details of the resident's tickets cleared"),
    "oauth_tokens": Rule("none (the station's Zalo OA credentials)", "kept",
                         "nothing to erase"),
    "scheduler_marks": Rule("none", "kept", "nothing to erase"),
    "ticket_counters": Rule("none (last ticket number per year)", "kept", "nothing to erase"),
    "web_messages": Rule("messages delivered to a web visitor's page", "with the message log",
                         "the resident's web chats' rows deleted"),
    "web_push_subscriptions": Rule("a browser's push endpoint and keys (given with consent)",
                                   "until the browser or the resident drops it",
                                   "the resident's web chats' rows deleted"),
    "web_push_keys": Rule("none (the station's VAPID key pair)", "kept", "nothing to erase"),
    "stations": Rule("none (a health station's public facts: name, address, phone, hours, areas)",
                     "kept", "nothing to erase"),
    # report (issue 17): counts for the periodic report; no person, chat or words are stored
    "report_facts": Rule("none (a question's outcome and topic, an opt-out's topic and area)",
                         "kept for the 6-month and yearly reports", "nothing to erase"),
    "checkup_sessions": Rule("none (date, place, areas; the staff member who created it)",
                             "kept", "nothing to erase"),
    "checkup_slots": Rule("none (times, capacity, places taken)", "kept", "nothing to erase"),
    "checkup_bookings": Rule("full name, birth year, phone (given with consent), area, came or not",
                             "kept for coverage figures",
                             "name, birth year and phone cleared; author detached; area, slot "
                             "and attendance kept as counts"),
    "survey_responses": Rule("none (answers 1-5 with no link to who gave them)", "kept",
                             "nothing to erase"),
    "survey_invitations": Rule("that the resident was asked, when (and, until they finish, "
                               "which answers are theirs)", "until erased", "rows deleted"),
    # console (issue 18): what no topic answered, for the library's maintainers and a staff reply
    "unanswered_questions": Rule("the question's words, the chat (and author) it came from",
                                 "database.message_log_retention_days (90)",
                                 "rows of the resident's chats and of their group messages "
                                 "deleted"),
    # the web console (issue 18): staff's sign-ins and actions; no resident's data
    "console_codes": Rule("none (a staff member's name, a keyed hash of a one-time code)",
                          "until the next code request after expiry", "nothing to erase"),
    "console_sessions": Rule("none (a staff member's name, a hash of the session token)",
                             "until it expires (console.session_hours)", "nothing to erase"),
    "console_attempts": Rule("none (keyed hashes of a staff name or a network address, time)",
                             "1 hour, deleted at the next code request (the limits' windows "
                             "are 15 minutes)",
                             "nothing to erase"),
    "console_audit": Rule("none (staff name, action, a record id such as a ticket id, time)",
                          "kept", "nothing to erase (record ids only, never values)"),
}  # fmt: skip


async def erase_person(session: AsyncSession, person_id: int) -> None:
    """Erase one person everywhere (see `RULES`); the caller commits."""
    idents = [
        (channel, external_id)
        for channel, external_id in (
            await session.execute(
                select(Identity.channel, Identity.external_id).where(
                    Identity.person_id == person_id
                )
            )
        ).all()
    ]
    chats = [
        (channel, external_id)
        for channel, external_id in (
            await session.execute(
                select(Chat.channel, Chat.external_id).where(
                    Chat.person_id == person_id, Chat.kind == "private"
                )
            )
        ).all()
    ]
    ticket_ids = list(
        (await session.execute(select(Ticket.id).where(Ticket.person_id == person_id)))
        .scalars()
        .all()
    )
    mine = _pairs(MessageLog.channel, MessageLog.chat_id, chats)
    written = _pairs(MessageLog.channel, MessageLog.user_id, idents)
    # The staff's answers and notes about the resident's tickets, as logged in the staff chat.
    details = [
        d
        for d in (
            await session.execute(
                select(TicketEvent.detail).where(
                    TicketEvent.ticket_id.in_(ticket_ids), TicketEvent.detail.is_not(None)
                )
            )
        ).scalars()
        if len(d) >= MIN_QUOTE_CHARS
    ] if ticket_ids else []  # fmt: skip
    quoted = [MessageLog.text.contains(d, autoescape=True) for d in details]
    await session.execute(delete(MessageLog).where(or_(mine, written, *quoted)))
    await session.execute(delete(UnansweredQuestion).where(or_(
        _pairs(UnansweredQuestion.channel, UnansweredQuestion.chat_id, chats),
        _pairs(UnansweredQuestion.channel, UnansweredQuestion.user_id, idents))))
    await session.execute(
        delete(ConversationState).where(
            or_(
                _pairs(ConversationState.channel, ConversationState.user_id, idents),
                _pairs(ConversationState.channel, ConversationState.chat_id, chats),
            )
        )
    )
    await _erase_outbox(session, chats, ticket_ids)
    for channel, chat_id in chats:
        if channel == "web":  # messages waiting for the page and the browser's push subscription
            await web.erase_visitor(session, chat_id)
    await session.execute(
        update(ProcessedUpdate)
        .where(
            _pairs(ProcessedUpdate.channel, ProcessedUpdate.chat_id, chats),
            ProcessedUpdate.status.not_in(inbox.UNFINISHED),
        )
        .values(payload=None, replies=None)
    )
    if ticket_ids:
        await session.execute(
            update(TicketEvent).where(TicketEvent.ticket_id.in_(ticket_ids)).values(detail=None)
        )
    await session.execute(
        update(Ticket)
        .where(Ticket.person_id == person_id)
        .values(
            text=ERASED_TEXT,
            rating_comment=None,
            chat_id="",  # the resident's chat on the platform: no answer can reach them now
            phone=None,
            photo=None,
            latitude=None,
            longitude=None,
            person_id=None,
        )
    )
    await session.execute(
        update(CheckupBooking)
        .where(CheckupBooking.person_id == person_id)
        .values(full_name=None, birth_year=None, phone=None, person_id=None)
    )
    await _end_subscriptions_anonymously(session, person_id)
    for model in (Reminder, Child, Subscription, SurveyInvitation, Identity):
        await session.execute(delete(model).where(model.person_id == person_id))
    await session.execute(delete(Chat).where(Chat.person_id == person_id, Chat.kind == "private"))
    await session.execute(update(Chat).where(Chat.person_id == person_id).values(person_id=None))
    await session.execute(delete(Person).where(Person.id == person_id))


async def _end_subscriptions_anonymously(session: AsyncSession, person_id: int) -> None:
    """The person stays counted as a subscriber until now, under a key that names no one: minus
    the id of one of their ended rows (unique, unlike a person id SQLite may hand out again)."""
    from storage.people import end_subscriptions

    await end_subscriptions(session, Subscription.person_id == person_id)
    await session.flush()
    first = (await session.execute(select(func.min(EndedSubscription.id)).where(
        EndedSubscription.person_key == person_id))).scalar_one_or_none()
    if first is not None:
        await session.execute(update(EndedSubscription).where(
            EndedSubscription.person_key == person_id).values(person_key=-first))


async def _erase_outbox(
    session: AsyncSession, chats: list[tuple[str, str]], ticket_ids: list[int]
) -> None:
    """Rows to the resident's chats or about their tickets: emptied, kept for delivery counts."""
    to_them = _pairs(Outbox.channel, Outbox.chat_id, chats)
    about_them = Outbox.ticket_id.in_(ticket_ids) if ticket_ids else None
    unsent = ("pending", "held", "sending")
    for where, detach in ((to_them, True), (about_them, False)):
        if where is None:
            continue
        await session.execute(
            update(Outbox).where(where, Outbox.status.in_(unsent)).values(status="cancelled")
        )
        values: dict[str, object] = {
            "payload": ERASED_PAYLOAD,
            "dedupe_key": "erased:" + Outbox.id.cast(Outbox.dedupe_key.type),
            "last_error": None,
        }
        if detach:
            values.update(chat_id=ERASED_CHAT, sent_message_id=None)
        await session.execute(update(Outbox).where(where).values(**values))


def _pairs(channel_col, id_col, pairs: list[tuple[str, str]]):  # noqa: ANN001, ANN202
    """`(channel, id)` is one of `pairs` (a person has a handful of identities and chats)."""
    if not pairs:
        return false()
    return or_(*[(channel_col == c) & (id_col == i) for c, i in pairs])


