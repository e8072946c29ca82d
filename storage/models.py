"""SQLAlchemy 2 typed models: every table healthbot keeps.

All timestamps are stored in UTC (timezone-aware on the way in and out, see `UTCDateTime`).
Personal data (phone numbers, children's birth dates, complaint texts) lives only in the columns
marked as such, so `storage.privacy` can show and erase it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC; SQLite hands back naive values, so re-attach UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use aware UTC times")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


def station_column() -> Any:
    """The station a row belongs to (issue 21): id 1 is the default (single) station."""
    return mapped_column(Integer, default=1, server_default="1", nullable=False, index=True)


class Person(Base):
    """A resident or staff member, across all the channels they use."""

    __tablename__ = "people"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[int] = station_column()  # stations (issue 21)
    locale: Mapped[str | None] = mapped_column(String(8))
    area_code: Mapped[str | None] = mapped_column(String(32))
    consent_at: Mapped[datetime | None]
    phone: Mapped[str | None] = mapped_column(String(32))  # personal data, only with consent
    feedback_blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Identity(Base):
    """One person's account on one channel (a Telegram user id, a Zalo user id, a web cookie)."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str | None] = mapped_column(String(128))
    last_inbound_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Chat(Base):
    """A conversation place: a private chat or a resident/staff group."""

    __tablename__ = "chats"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[int] = station_column()  # stations (issue 21)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))  # private | group
    title: Mapped[str | None] = mapped_column(String(255))
    area_code: Mapped[str | None] = mapped_column(String(32))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set when the platform says we may not write (blocked, kicked, outside a window).
    unreachable_reason: Mapped[str | None] = mapped_column(String(64))
    last_inbound_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConversationState(Base):
    """Where one user is in a conversation in one chat; survives restarts."""

    __tablename__ = "conversation_states"
    __table_args__ = (UniqueConstraint("channel", "chat_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(64), default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Subscription(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("person_id", "topic"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[int] = station_column()  # stations (issue 21)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    topic: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EndedSubscription(Base):
    """A subscription that ended (topic removed, /huy, erasure), kept so that the report counts
    the subscribers of a past date right (issue 17). `person_key` is the person's id while they
    exist; erasure replaces it by a negative number that links to nothing."""

    __tablename__ = "ended_subscriptions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[int] = station_column()
    person_key: Mapped[int] = mapped_column(Integer, index=True)
    topic: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime] = mapped_column(index=True)


class MessageLog(Base):
    """Inbound/outbound log for reports and support; purged after the retention period."""

    __tablename__ = "message_log"
    __table_args__ = (Index("ix_message_log_chat", "channel", "chat_id", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[int] = station_column()  # stations (issue 21)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    text: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    topic: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # reliability (issue 13): who wrote an inbound row, so erasure finds their group messages too
    user_id: Mapped[str | None] = mapped_column(String(64))


class ProcessedUpdate(Base):
    """Inbound update ids already handled, so a platform's redelivery is not answered twice.

    Also the INBOX (`storage/inbox.py`): an update is recorded here ('received', with its payload)
    before the platform is told it arrived, then 'handled' in the handling's own transaction (with
    the replies to send), then 'done' once they went out (payload and replies cleared).
    """

    __tablename__ = "processed_updates"
    __table_args__ = (UniqueConstraint("channel", "update_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    update_key: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # -- the inbox (migration 0003) --
    status: Mapped[str] = mapped_column(String(12), default="done", server_default="done",
                                        index=True)  # received | handled | done | failed
    chat_id: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # personal data until 'done'
    replies: Mapped[list[Any] | None] = mapped_column(JSON)  # personal data until 'done'
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]


class Outbox(Base):
    """A message waiting to go out; the dispatcher claims, sends and records it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "priority", "not_before"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[int] = station_column()  # stations (issue 21)
    dedupe_key: Mapped[str] = mapped_column(String(191), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    chat_kind: Mapped[str] = mapped_column(String(8), default="private")
    priority: Mapped[int] = mapped_column(Integer, default=5)  # 0 replies/staff ... 9 bulk
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(255))
    broadcast_id: Mapped[int | None] = mapped_column(Integer, index=True)
    campaign_id: Mapped[str | None] = mapped_column(String(64))
    ticket_id: Mapped[int | None] = mapped_column(Integer)
    sent_message_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BroadcastRecord(Base):
    """A staff announcement, an urgent alert or a plan campaign occurrence."""

    __tablename__ = "broadcasts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[int] = station_column()  # stations (issue 21)
    kind: Mapped[str] = mapped_column(String(12))  # campaign | staff | urgent
    created_by: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str | None] = mapped_column(Text)
    audience: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    scheduled_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="draft")
    approved_by: Mapped[str | None] = mapped_column(String(64))
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # report (issue 17, migration 0007): when it was released (approved, or queued without approval)
    approved_at: Mapped[datetime | None]


class Ticket(Base):
    """A resident's feedback or complaint (phản ánh, kiến nghị)."""

    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[int] = station_column()  # stations (issue 21)
    code: Mapped[str | None] = mapped_column(String(32), unique=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32))
    urgency: Mapped[str] = mapped_column(String(8), default="normal")
    text: Mapped[str] = mapped_column(Text)  # personal data
    photo: Mapped[str | None] = mapped_column(String(512))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    phone: Mapped[str | None] = mapped_column(String(32))  # personal data, only with consent
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    area_code: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(12), default="new")
    staff_chat: Mapped[str | None] = mapped_column(String(96))
    staff_message_id: Mapped[str | None] = mapped_column(String(64))
    assignee: Mapped[str | None] = mapped_column(String(64))
    accept_due: Mapped[datetime | None]
    resolve_due: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class TicketEvent(Base):
    """Audit trail: who did what to a ticket, and when."""

    __tablename__ = "ticket_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OAuthToken(Base):
    """Rotating OAuth tokens (Zalo OA): refreshed and stored atomically."""

    __tablename__ = "oauth_tokens"
    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Child(Base):
    """A resident's child, for vaccine-dose reminders (personal data, only with consent)."""

    __tablename__ = "children"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[int] = station_column()  # stations (issue 21)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    nickname: Mapped[str] = mapped_column(String(64))
    birth_date: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Reminder(Base):
    """A personal reminder due at a time; one periodic sweep sends the due ones."""

    __tablename__ = "reminders"
    __table_args__ = (Index("ix_reminders_due", "sent_at", "due_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[int] = station_column()  # stations (issue 21)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dedupe_key: Mapped[str] = mapped_column(String(191), unique=True)
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SchedulerMark(Base):
    """Last plan occurrence the scheduler has enqueued, for missed-firing catch-up."""

    __tablename__ = "scheduler_marks"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[datetime]


# --- reliability: ticket code allocation (issue 13) -----------------------------------------


class TicketCounter(Base):
    """The last ticket number given out per code series (e.g. "PA-2026"); see storage.tickets."""

    __tablename__ = "ticket_counters"
    series: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


# -- web chat (issue 14): messages waiting for the page, push subscriptions, the VAPID key --


class WebMessage(Base):
    """A message the outbox delivered to a web visitor: the page reads them in id order, once."""

    __tablename__ = "web_messages"
    __table_args__ = (Index("ix_web_messages_chat", "chat_id", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(64))  # the visitor's cookie id
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class WebPushSubscription(Base):
    """A browser's Web Push subscription, given with the resident's consent."""

    __tablename__ = "web_push_subscriptions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(64), index=True)
    endpoint: Mapped[str] = mapped_column(String(1024), unique=True)
    p256dh: Mapped[str] = mapped_column(String(256))
    auth: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebPushKey(Base):
    """The station's VAPID key pair (one row), generated on first use and shared by workers."""

    __tablename__ = "web_push_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    private_pem: Mapped[str] = mapped_column(Text)
    public_key: Mapped[str] = mapped_column(String(128))  # base64url, uncompressed P-256 point
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- scale (issue 21): the reminder sweep finds each person's chats by index, not by a scan ---
Index("ix_chats_person", Chat.person_id)


# --- stations (issue 21): one installation serves many health stations ----------------------


class StationRecord(Base):
    """A health station served by this installation; id 1 is the single station of old configs.

    The configuration is the source of truth (`bot.stations.sync_stations` writes it here at
    start-up); the table lets reports and the console name a station and join on `station_id`.
    """

    __tablename__ = "stations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    address: Mapped[str | None] = mapped_column(String(512))
    phone: Mapped[str | None] = mapped_column(String(64))
    hours: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    areas: Mapped[list[Any] | None] = mapped_column(JSON)
    region: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# --- report (issue 17): facts the periodic report counts, without personal data (migration 0007)


class ReportFact(Base):
    """A question asked (kind "question": outcome answered / unanswered / red_flag, the topic but
    never the text) or an opt-out (kind "optout"); kept for the 6-month and yearly reports."""

    __tablename__ = "report_facts"
    __table_args__ = (Index("ix_report_facts_kind_at", "kind", "created_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(16))
    area_code: Mapped[str | None] = mapped_column(String(32))
    station_id: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- check-ups (issue 20): sessions, their time slots, residents' bookings ---------------------
# station_id: every row belongs to a station (station 1 is the default; see the stations work).


class CheckupSession(Base):
    """A free yearly check-up session the station holds for some areas on one day."""

    __tablename__ = "checkup_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[int] = mapped_column(Integer, server_default="1", default=1, index=True)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    place: Mapped[str] = mapped_column(String(255))
    areas: Mapped[list[str]] = mapped_column(JSON, default=list)  # area codes; [] = every area
    priority_groups: Mapped[str] = mapped_column(String(255), default="")
    bring: Mapped[str] = mapped_column(String(255), default="")
    fasting: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | cancelled
    created_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CheckupSlot(Base):
    """A time slot of a session; `booked` never exceeds `capacity` (a conditional UPDATE)."""

    __tablename__ = "checkup_slots"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[int] = mapped_column(Integer, server_default="1", default=1, index=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("checkup_sessions.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime]
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)


class CheckupBooking(Base):
    """A resident's place in a slot (personal data: name, birth year, phone, given with consent)."""

    __tablename__ = "checkup_bookings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[int] = mapped_column(Integer, server_default="1", default=1, index=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("checkup_sessions.id", ondelete="CASCADE"), index=True
    )
    slot_id: Mapped[int] = mapped_column(ForeignKey("checkup_slots.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    full_name: Mapped[str | None] = mapped_column(String(128))
    birth_year: Mapped[int | None] = mapped_column(Integer)
    phone: Mapped[str | None] = mapped_column(String(32))
    area_code: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="booked")  # booked|cancelled|attended
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attended_at: Mapped[datetime | None]


# --- satisfaction survey (issue 20): anonymous answers; who was asked, kept apart -------------


class SurveyResponse(Base):
    """One resident's answers (question id -> 1..5), with no link to who gave them."""

    __tablename__ = "survey_responses"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[int] = mapped_column(Integer, server_default="1", default=1, index=True)
    trigger: Mapped[str] = mapped_column(String(16))  # checkup | request
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    completed_at: Mapped[datetime | None]


class SurveyInvitation(Base):
    """A resident was asked (for the once-per-interval rule); `response_id` only until finished."""

    __tablename__ = "survey_invitations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[int] = mapped_column(Integer, server_default="1", default=1, index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    response_id: Mapped[int | None] = mapped_column(Integer)
    finished: Mapped[bool] = mapped_column(Boolean, default=False)
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)


class UnansweredQuestion(Base):
    """A question no library topic answered (issue 18, the console's "unanswered questions"):
    the words, for grouping and for the library's maintainers, and the chat to answer in. Purged
    with the message log; erased with the resident."""

    __tablename__ = "unanswered_questions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[int] = station_column()
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    chat_kind: Mapped[str] = mapped_column(String(8), default="private")
    user_id: Mapped[str | None] = mapped_column(String(64))  # the author (erasure in groups)
    locale: Mapped[str] = mapped_column(String(8), default="vi")
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | library | answered
    handled_by: Mapped[str | None] = mapped_column(String(64))
    handled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


# --- the web console (issue 18): sign-in codes, sessions, audit log; no resident data ----------


class ConsoleCode(Base):
    """A one-time sign-in code sent to a staff member's chat: only its keyed hash is stored."""

    __tablename__ = "console_codes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[int] = station_column()
    flow_hash: Mapped[str] = mapped_column(String(64), index=True)  # the browser that asked
    member: Mapped[str] = mapped_column(String(128))  # the staff member's configured name
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


class ConsoleSession(Base):
    """A signed-in console browser: the cookie's token is stored only as a hash."""

    __tablename__ = "console_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[int] = station_column()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    member: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]


class ConsoleAttempt(Base):
    """One counted sign-in event (a wrong code, a code request) for the limits every worker
    shares when Redis is not configured; `key_hash` is a keyed hash of a staff name or a network
    address, never the value. Rows older than the longest window are deleted."""

    __tablename__ = "console_attempts"
    __table_args__ = (Index("ix_console_attempts_kind_key_at", "kind", "key_hash", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[int] = station_column()
    kind: Mapped[str] = mapped_column(String(16))  # fail_member | fail_address | code_member ...
    key_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ConsoleAudit(Base):
    """Who did what in the console, to which record id, when, and whether it was allowed."""

    __tablename__ = "console_audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[int] = station_column()
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(128))  # a staff member's name, "" when unknown
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(64))  # a record id, never a value
    outcome: Mapped[str] = mapped_column(String(16))  # ok | refused | failed
