"""People, their channel identities, chats and conversation state: intent-named queries.

The message log and processed-update marks are in `storage.message_log` (importable from here).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage import erasure
from storage.message_log import (  # noqa: F401  (re-exported)
    _MARK,
    log_entry,
    log_messages,
    mark_processed,
    purge_message_log,
    recent_messages,
)
from storage.models import (
    Chat,
    Child,
    ConversationState,
    EndedSubscription,
    Identity,
    Person,
    Subscription,
    Ticket,
    utcnow,
)

LAST_SEEN_PRECISION = timedelta(minutes=1)


@dataclass
class SavedState:
    """Where one user is in a conversation: a plain value, written back only when it changed.

    Not an ORM object: nearly every message changes it (the numbered menu), and one UPDATE by
    id costs far less than the session's unit of work.
    """

    id: int
    state: str
    data: dict[str, Any]

    def __post_init__(self) -> None:
        self.data = dict(self.data or {})
        self._stored = (self.state, dict(self.data))

    @property
    def changed(self) -> bool:
        return (self.state, self.data) != self._stored

    def restore(self) -> None:
        """Back to what is stored (a handler failed half-way)."""
        self.state, self.data = self._stored[0], dict(self._stored[1])


@dataclass
class Contact:
    """Who wrote, where: the rows a conversation works with."""

    person: Person
    identity: Identity
    chat: Chat
    state: SavedState


async def _get_or_create(
    session: AsyncSession, model: Any, lookup: dict[str, Any], **extra: Any
) -> Any:
    row = (await session.execute(select(model).filter_by(**lookup))).scalar_one_or_none()
    if row is not None:
        return row
    try:
        async with session.begin_nested():
            row = model(**lookup, **extra)
            session.add(row)
            await session.flush()
        return row
    except IntegrityError:  # another worker created it first
        return (await session.execute(select(model).filter_by(**lookup))).scalar_one()


async def find_identity(session: AsyncSession, channel: str, user_id: str) -> Identity | None:
    stmt = select(Identity).filter_by(channel=channel, external_id=user_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def ensure_identity(
    session: AsyncSession, channel: str, user_id: str, display_name: str = ""
) -> tuple[Person, Identity]:
    """The person behind a channel account, created on first contact."""
    identity = await find_identity(session, channel, user_id)
    if identity is None:
        person = Person()
        session.add(person)
        await session.flush()
        identity = await _get_or_create(
            session,
            Identity,
            {"channel": channel, "external_id": user_id},
            person_id=person.id,
            display_name=display_name[:128] or None,
        )
    person = await session.get(Person, identity.person_id)
    assert person is not None
    return person, identity


async def ensure_chat(
    session: AsyncSession, channel: str, chat_id: str, kind: str, person_id: int | None
) -> Chat:
    chat = await _get_or_create(
        session,
        Chat,
        {"channel": channel, "external_id": chat_id},
        kind=kind,
        person_id=person_id if kind == "private" else None,
    )
    return chat


async def find_chat(session: AsyncSession, channel: str, chat_id: str) -> Chat | None:
    stmt = select(Chat).filter_by(channel=channel, external_id=chat_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def load_state(session: AsyncSession, channel: str, chat_id: str, user_id: str) -> SavedState:
    row = await _get_or_create(
        session,
        ConversationState,
        {"channel": channel, "chat_id": chat_id, "user_id": user_id},
        state="",
        data={},
    )
    return SavedState(row.id, row.state, row.data)


_SAVE_STATE = (
    update(ConversationState.__table__)
    .where(ConversationState.__table__.c.id == bindparam("state_id"))
    .values(state=bindparam("state"), data=bindparam("data"), updated_at=bindparam("now"))
)


async def save_state(session: AsyncSession, saved: SavedState, now: datetime) -> None:
    """Write the conversation state back if a handler changed it."""
    if saved.changed:
        params = {"state_id": saved.id, "state": saved.state, "data": saved.data, "now": now}
        await (await session.connection()).execute(_SAVE_STATE, params)


# Built once: constructing a statement costs more than running its cached compiled form.
_KNOWN_CONTACT = (
    select(
        Identity,
        Person,
        Chat,
        ConversationState.id,
        ConversationState.state,
        ConversationState.data,
    )
    .join(Person, Person.id == Identity.person_id)
    .outerjoin(
        Chat, and_(Chat.channel == bindparam("channel"), Chat.external_id == bindparam("chat_id"))
    )
    .outerjoin(
        ConversationState,
        and_(
            ConversationState.channel == bindparam("channel"),
            ConversationState.chat_id == bindparam("chat_id"),
            ConversationState.user_id == bindparam("user_id"),
        ),
    )
    .where(Identity.channel == bindparam("channel"), Identity.external_id == bindparam("user_id"))
)


async def open_contact(
    session: AsyncSession,
    channel: str,
    chat_id: str,
    user_id: str,
    kind: str,
    display_name: str = "",
    now: datetime | None = None,
    locale: str | None = None,
) -> Contact:
    """Everything a conversation needs about whoever just wrote; marks them reachable again.

    Someone who wrote before costs one joined SELECT; a first contact in a private chat one
    INSERT per row (person, identity, chat, state). `locale` is a new person's language.
    """
    now = now or utcnow()
    params = {"channel": channel, "chat_id": chat_id, "user_id": user_id}
    known = (await session.execute(_KNOWN_CONTACT, params)).first()
    state: SavedState | None = None
    if known is not None:
        identity, person, chat, state_id, state_name, state_data = known
        if state_id is not None:
            state = SavedState(state_id, state_name, state_data)
    else:
        created = await _first_contact(
            session, channel, chat_id, user_id, kind, display_name, now, locale
        )
        if created is not None:
            return created
        person, identity = await ensure_identity(session, channel, user_id, display_name)
        chat = None
    if person.locale is None and locale is not None:
        person.locale = locale
    if chat is None:  # a known person writing in a new chat (a group) also lands here
        chat = await ensure_chat(session, channel, chat_id, kind, person.id)
    if chat.kind == "private" and chat.person_id != person.id:
        chat.person_id = person.id  # someone who erased their data and came back
    if state is None:
        state = await load_state(session, channel, chat_id, user_id)
    # Minute precision is enough (the Zalo OA 7-day window, "last seen"): most messages of a
    # conversation then write no row besides the state and the log.
    for row in (identity, chat):
        if row.last_inbound_at is None or now - row.last_inbound_at >= LAST_SEEN_PRECISION:
            row.last_inbound_at = now
    if chat.unreachable_reason and chat.unreachable_reason != "removed":
        chat.unreachable_reason = None  # writing to us again makes them reachable
    return Contact(person, identity, chat, state)


async def _first_contact(
    session: AsyncSession,
    channel: str,
    chat_id: str,
    user_id: str,
    kind: str,
    display_name: str,
    now: datetime,
    locale: str | None,
) -> Contact | None:
    """Someone new in a private chat: every row at once. None when a row already exists (another
    worker was faster, or the chat is known under another user): the careful path takes over."""
    if kind != "private":
        return None
    person = Person(locale=locale)
    try:
        async with session.begin_nested():
            session.add(person)
            await session.flush()
            identity = Identity(
                person_id=person.id,
                channel=channel,
                external_id=user_id,
                display_name=display_name[:128] or None,
                last_inbound_at=now,
            )
            chat = Chat(
                channel=channel,
                external_id=chat_id,
                kind=kind,
                person_id=person.id,
                last_inbound_at=now,
            )
            state = ConversationState(
                channel=channel, chat_id=chat_id, user_id=user_id, state="", data={}
            )
            session.add_all((identity, chat, state))
            await session.flush()
    except IntegrityError:
        return None
    return Contact(person, identity, chat, SavedState(state.id, "", {}))


async def mark_chat_unreachable(
    session: AsyncSession, channel: str, chat_id: str, reason: str
) -> None:
    await session.execute(
        update(Chat)
        .where(Chat.channel == channel, Chat.external_id == chat_id)
        .values(unreachable_reason=reason[:64])
    )


async def migrate_chat(session: AsyncSession, channel: str, old_id: str, new_id: str) -> None:
    """A group became a supergroup: keep its area and history under the new id."""
    existing = await find_chat(session, channel, new_id)
    old = await find_chat(session, channel, old_id)
    if old is None:
        return
    if existing is not None:
        existing.area_code = existing.area_code or old.area_code
        existing.title = existing.title or old.title
        old.active = False
        return
    old.external_id = new_id
    await session.execute(
        update(ConversationState)
        .where(ConversationState.channel == channel, ConversationState.chat_id == old_id)
        .values(chat_id=new_id)
    )


async def subscribe(session: AsyncSession, person_id: int, topic: str,
                    station_id: int = 1) -> None:
    await _get_or_create(session, Subscription, {"person_id": person_id, "topic": topic},
                         station_id=station_id)


async def end_subscriptions(session: AsyncSession, where: Any) -> int:
    """Delete the subscriptions matching `where`, keeping each as ended (for the report's
    subscriber counts at past dates, issue 17); returns how many ended."""
    rows = (await session.execute(select(Subscription).where(where))).scalars().all()
    now = utcnow()
    session.add_all([EndedSubscription(station_id=r.station_id, person_key=r.person_id,
                                       topic=r.topic, started_at=r.created_at, ended_at=now)
                     for r in rows])
    if rows:
        await session.execute(delete(Subscription).where(
            Subscription.id.in_([r.id for r in rows])))
    return len(rows)


async def unsubscribe(session: AsyncSession, person_id: int, topic: str) -> None:
    await end_subscriptions(
        session, (Subscription.person_id == person_id) & (Subscription.topic == topic))


async def unsubscribe_all(session: AsyncSession, person_id: int) -> int:
    return await end_subscriptions(session, Subscription.person_id == person_id)


async def subscriptions(session: AsyncSession, person_id: int) -> list[str]:
    stmt = (
        select(Subscription.topic)
        .where(Subscription.person_id == person_id)
        .order_by(Subscription.topic)
    )
    return list((await session.execute(stmt)).scalars().all())


async def personal_data(session: AsyncSession, person_id: int) -> dict[str, Any]:
    """What we keep about one person (Decree 13/2023: the right to see it)."""
    person = await session.get(Person, person_id)
    if person is None:
        return {}
    identities = (
        (await session.execute(select(Identity).filter_by(person_id=person_id))).scalars().all()
    )
    children = (await session.execute(select(Child).filter_by(person_id=person_id))).scalars().all()
    tickets = (await session.execute(select(Ticket).filter_by(person_id=person_id))).scalars().all()
    return {
        "locale": person.locale,
        "area": person.area_code,
        "phone": person.phone,
        "consent_at": person.consent_at,
        "channels": [i.channel for i in identities],
        "topics": await subscriptions(session, person_id),
        "children": [(c.nickname, c.birth_date) for c in children],
        "tickets": [t.code for t in tickets if t.code],
    }


async def erase_person(session: AsyncSession, person_id: int) -> None:
    """Delete one person's personal data and history everywhere (see `storage.erasure`)."""
    await erasure.erase_person(session, person_id)


async def latest_menu(session: AsyncSession, channel: str, chat_id: str) -> list[str] | None:
    """The options of the last numbered menu the bot showed in a chat (any member's state): in an
    OA group a typed number answers it whoever typed it (issue 19.3)."""
    stmt = (
        select(ConversationState.data)
        .where(ConversationState.channel == channel, ConversationState.chat_id == chat_id)
        .order_by(ConversationState.updated_at.desc(), ConversationState.id.desc())
        .limit(20)
    )
    for data in (await session.execute(stmt)).scalars():
        menu = (data or {}).get("menu")
        if isinstance(menu, list) and menu:
            return [str(option) for option in menu]
    return None
