"""The web console's rows (issue 18): one-time sign-in codes, sessions and the audit log.

Only hashes of codes and session tokens are stored (the caller hashes; see bot.console.security),
and the audit log holds staff names, action names and record ids, never a resident's value.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ConsoleAttempt, ConsoleAudit, ConsoleCode, ConsoleSession, Outbox

MAX_CODE_ATTEMPTS = 5  # wrong guesses at one code before it is spent
CODE_MESSAGE_PREFIX = "console:code:"  # the outbox dedupe key of a code's chat message


async def new_code(session: AsyncSession, *, flow_hash: str, member: str, code_hash: str,
                   station_id: int, now: datetime, lifetime: timedelta) -> ConsoleCode:
    """A fresh code for this browser; earlier unused codes of the same browser stop working."""
    await session.execute(
        update(ConsoleCode)
        .where(ConsoleCode.flow_hash == flow_hash, ConsoleCode.used_at.is_(None))
        .values(used_at=now)
    )
    row = ConsoleCode(flow_hash=flow_hash, member=member, code_hash=code_hash,
                      station_id=station_id, attempts=0, created_at=now,
                      expires_at=now + lifetime)
    session.add(row)
    await session.flush()
    return row


async def live_code(session: AsyncSession, flow_hash: str, now: datetime) -> ConsoleCode | None:
    """The browser's current code, while it is unused, unexpired and not guessed at too often."""
    stmt = (
        select(ConsoleCode)
        .where(ConsoleCode.flow_hash == flow_hash, ConsoleCode.used_at.is_(None),
               ConsoleCode.expires_at > now, ConsoleCode.attempts < MAX_CODE_ATTEMPTS)
        .order_by(ConsoleCode.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def code_owner(session: AsyncSession, flow_hash: str) -> str:
    """The member the browser's latest code was for, even when spent ("" when none)."""
    stmt = (select(ConsoleCode.member).where(ConsoleCode.flow_hash == flow_hash)
            .order_by(ConsoleCode.id.desc()).limit(1))
    return (await session.execute(stmt)).scalar_one_or_none() or ""


async def forget_old(session: AsyncSession, now: datetime) -> None:
    """Drop expired codes and sessions, and empty the chat messages that carried spent codes."""
    spent = select(ConsoleCode).where(
        (ConsoleCode.expires_at <= now) | ConsoleCode.used_at.is_not(None))
    await scrub_code_messages(session, list((await session.execute(spent)).scalars()))
    await session.execute(delete(ConsoleCode).where(ConsoleCode.expires_at <= now))
    await session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at <= now))
    await session.execute(delete(ConsoleAttempt).where(ConsoleAttempt.at <= now - ATTEMPTS_KEPT))


async def count_guess(session: AsyncSession, code: ConsoleCode) -> bool:
    """Count one guess at `code` before it is compared, atomically (one UPDATE): False when the
    code is already spent, so parallel requests never get more than MAX_CODE_ATTEMPTS guesses."""
    result = await session.execute(
        update(ConsoleCode)
        .where(ConsoleCode.id == code.id, ConsoleCode.used_at.is_(None),
               ConsoleCode.attempts < MAX_CODE_ATTEMPTS)
        .values(attempts=ConsoleCode.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


async def spend_codes(session: AsyncSession, member: str, now: datetime) -> None:
    """Every pending code of `member` stops working (their wrong-code limit was reached)."""
    await session.execute(
        update(ConsoleCode).where(ConsoleCode.member == member, ConsoleCode.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False)
    )


# --- sign-in limits shared through the database (bot.console.limits, when there is no Redis) ---

ATTEMPTS_KEPT = timedelta(hours=1)  # longer than every limit's window


async def count_attempts(session: AsyncSession, kind: str, key_hash: str,
                         since: datetime) -> int:
    stmt = select(func.count()).select_from(ConsoleAttempt).where(
        ConsoleAttempt.kind == kind, ConsoleAttempt.key_hash == key_hash,
        ConsoleAttempt.at > since)
    return int((await session.execute(stmt)).scalar_one())


async def take_attempt(session: AsyncSession, kind: str, key_hash: str, *, now: datetime,
                       since: datetime, limit: int | None) -> int | None:
    """Record one event unless `limit` events are already recorded since `since`; the new row's
    id, or None when full. Atomic across workers: PostgreSQL serialises on a transaction-level
    advisory lock per (kind, key), SQLite on its single writer (BEGIN IMMEDIATE)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
                              {"k": f"console:{kind}:{key_hash}"})
    if limit is not None and await count_attempts(session, kind, key_hash, since) >= limit:
        return None
    row = ConsoleAttempt(kind=kind, key_hash=key_hash, at=now)
    session.add(row)
    await session.flush()
    return row.id


async def drop_attempt(session: AsyncSession, attempt_id: int) -> None:
    await session.execute(delete(ConsoleAttempt).where(ConsoleAttempt.id == attempt_id))


def message_key(code: ConsoleCode) -> str:
    """The outbox dedupe key of the message carrying this code (ids may be reused after purges)."""
    return f"{CODE_MESSAGE_PREFIX}{code.code_hash[:40]}"


async def scrub_code_messages(session: AsyncSession, codes: list[ConsoleCode]) -> None:
    """The outbox keeps a sent message's text for delivery figures: a code's text is emptied."""
    if not codes:
        return
    keys = [message_key(c) for c in codes]
    await session.execute(
        update(Outbox)
        .where(Outbox.dedupe_key.in_(keys), Outbox.status.not_in(("pending", "held")))
        .values(payload={"erased": True})
    )


async def start_session(session: AsyncSession, *, token_hash: str, member: str, station_id: int,
                        now: datetime, lifetime: timedelta) -> ConsoleSession:
    row = ConsoleSession(token_hash=token_hash, member=member, station_id=station_id,
                         created_at=now, expires_at=now + lifetime)
    session.add(row)
    await session.flush()
    return row


async def find_session(session: AsyncSession, token_hash: str,
                       now: datetime) -> ConsoleSession | None:
    stmt = select(ConsoleSession).where(
        ConsoleSession.token_hash == token_hash, ConsoleSession.expires_at > now,
        ConsoleSession.ended_at.is_(None))
    return (await session.execute(stmt)).scalar_one_or_none()


async def end_session(session: AsyncSession, token_hash: str, now: datetime) -> None:
    await session.execute(
        update(ConsoleSession).where(ConsoleSession.token_hash == token_hash)
        .values(ended_at=now, expires_at=now)
    )


async def audit(session: AsyncSession, *, actor: str, action: str, outcome: str = "ok",
                target: str | int | None = None, station_id: int = 1, now: datetime) -> None:
    session.add(ConsoleAudit(actor=actor[:128], action=action[:64], outcome=outcome[:16],
                             target=None if target is None else str(target)[:64],
                             station_id=station_id, at=now))
    await session.flush()


async def audit_rows(session: AsyncSession, *, stations: list[int] | None = None,
                     limit: int = 200) -> list[ConsoleAudit]:
    stmt = select(ConsoleAudit).order_by(ConsoleAudit.at.desc(), ConsoleAudit.id.desc())
    if stations is not None:
        stmt = stmt.where(ConsoleAudit.station_id.in_(stations))
    return list((await session.execute(stmt.limit(limit))).scalars().all())
