"""Web chat storage: messages waiting for the page, Web Push subscriptions and the VAPID key.

The promise kept here: a message the outbox delivers to a web visitor is a `web_messages` row
committed before the outbox row is marked sent; the page reads rows by increasing id, so a page
that was closed, or lost its connection, asks for "everything after id N" and gets each row once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import WebMessage, WebPushKey, WebPushSubscription


@dataclass(frozen=True)
class StoredMessage:
    id: int
    payload: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class PushTarget:
    endpoint: str
    p256dh: str
    auth: str


async def store_message(
    session: AsyncSession, chat_id: str, payload: dict[str, Any], now: datetime
) -> int:
    """Keep one message for the visitor's page; returns its id (the page's resume point)."""
    result = await session.execute(
        insert(WebMessage)
        .values(chat_id=chat_id, payload=payload, created_at=now)
        .returning(WebMessage.id)
    )
    return int(result.scalar_one())


async def messages_after(
    session: AsyncSession, chat_id: str, after_id: int, limit: int = 100
) -> list[StoredMessage]:
    stmt = (
        select(WebMessage.id, WebMessage.payload, WebMessage.created_at)
        .where(WebMessage.chat_id == chat_id, WebMessage.id > after_id)
        .order_by(WebMessage.id)
        .limit(limit)
    )
    return [StoredMessage(*row) for row in (await session.execute(stmt)).all()]


async def recent_web_messages(
    session: AsyncSession, chat_id: str, limit: int = 60
) -> list[StoredMessage]:
    stmt = (
        select(WebMessage.id, WebMessage.payload, WebMessage.created_at)
        .where(WebMessage.chat_id == chat_id)
        .order_by(WebMessage.id.desc())
        .limit(limit)
    )
    return [StoredMessage(*row) for row in reversed((await session.execute(stmt)).all())]


async def last_message_id(session: AsyncSession, chat_id: str) -> int:
    stmt = select(func.max(WebMessage.id)).where(WebMessage.chat_id == chat_id)
    return int((await session.execute(stmt)).scalar_one() or 0)


async def save_subscription(
    session: AsyncSession, chat_id: str, target: PushTarget, now: datetime
) -> None:
    """Remember (or move to this visitor) a browser's push subscription."""
    await session.execute(
        delete(WebPushSubscription).where(WebPushSubscription.endpoint == target.endpoint)
    )
    await session.execute(
        insert(WebPushSubscription).values(
            chat_id=chat_id,
            endpoint=target.endpoint,
            p256dh=target.p256dh,
            auth=target.auth,
            created_at=now,
        )
    )


async def push_targets(session: AsyncSession, chat_id: str) -> list[PushTarget]:
    stmt = (
        select(WebPushSubscription.endpoint, WebPushSubscription.p256dh, WebPushSubscription.auth)
        .where(WebPushSubscription.chat_id == chat_id)
        .order_by(WebPushSubscription.id)
    )
    return [PushTarget(*row) for row in (await session.execute(stmt)).all()]


async def drop_subscription(
    session: AsyncSession, endpoint: str, chat_id: str | None = None
) -> int:
    """Forget a subscription (the push service said it is gone, or the resident turned it off)."""
    stmt = delete(WebPushSubscription).where(WebPushSubscription.endpoint == endpoint)
    if chat_id is not None:
        stmt = stmt.where(WebPushSubscription.chat_id == chat_id)
    result = await session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)


async def vapid_key(session: AsyncSession) -> tuple[str, str] | None:
    """The stored (private PEM, public key) pair, or None before the first run made one."""
    row = (
        await session.execute(
            select(WebPushKey.private_pem, WebPushKey.public_key).order_by(WebPushKey.id).limit(1)
        )
    ).first()
    return (row[0], row[1]) if row else None


async def store_vapid_key(
    session: AsyncSession, private_pem: str, public_key: str, now: datetime
) -> tuple[str, str]:
    """Keep a new key pair unless another worker stored one first (then that one wins)."""
    try:
        async with session.begin_nested():
            session.add(
                WebPushKey(id=1, private_pem=private_pem, public_key=public_key, created_at=now)
            )
    except IntegrityError:
        pass
    stored = await vapid_key(session)
    assert stored is not None
    return stored


async def erase_visitor(session: AsyncSession, chat_id: str) -> None:
    """Part of `storage.people.erase_person`: the visitor's waiting messages and subscriptions."""
    await session.execute(delete(WebMessage).where(WebMessage.chat_id == chat_id))
    await session.execute(delete(WebPushSubscription).where(WebPushSubscription.chat_id == chat_id))


async def purge_web_messages(session: AsyncSession, older_than: datetime) -> int:
    """Retention: delivered web messages older than the cut-off go with the message log."""
    result = await session.execute(delete(WebMessage).where(WebMessage.created_at < older_than))
    return int(getattr(result, "rowcount", 0) or 0)
