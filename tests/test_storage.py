"""Storage on SQLite and PostgreSQL: migrations, UTC times, identities, state, privacy, retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text

from storage import people
from storage.db import open_database, upgrade
from storage.models import MessageLog, Person, Ticket
from tests.conftest import drop_other_connections


async def test_migrations_create_every_table_and_are_idempotent(db_url: str) -> None:
    await upgrade(db_url)  # a second run changes nothing and does not fail
    db = open_database(db_url)
    async with db.engine.connect() as conn:
        version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
        assert version
        for table in (
            "people",
            "identities",
            "chats",
            "conversation_states",
            "message_log",
            "outbox",
            "tickets",
            "ticket_events",
            "oauth_tokens",
            "subscriptions",
            "reminders",
        ):
            await conn.execute(text(f"SELECT count(*) FROM {table}"))
    await db.close()


async def test_sqlite_runs_in_wal_mode(db_url: str, sqlite_only: None) -> None:
    db = open_database(db_url)
    async with db.engine.connect() as conn:
        mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
    await db.close()
    assert mode == "wal"


async def test_times_are_stored_and_returned_in_utc(db_url: str) -> None:
    db = open_database(db_url)
    hanoi = timezone(timedelta(hours=7))
    async with db.sessions() as session, session.begin():
        person = Person(created_at=datetime(2026, 2, 17, 8, 0, tzinfo=hanoi))
        session.add(person)
    async with db.sessions() as session:
        stored = (await session.execute(select(Person))).scalar_one()
    await db.close()
    assert stored.created_at == datetime(2026, 2, 17, 1, 0, tzinfo=UTC)
    assert stored.created_at.tzinfo is not None


async def test_the_same_account_is_one_person_and_state_survives_a_new_engine(db_url: str) -> None:
    db = open_database(db_url)
    async with db.sessions() as session, session.begin():
        contact = await people.open_contact(session, "telegram", "42", "42", "private", "Bà Hoa")
        contact.person.locale = "en"
        contact.state.state = "feedback.describe"
        contact.state.data = {"category": "attitude"}
        await people.save_state(session, contact.state, datetime.now(UTC))
    await db.close()
    db = open_database(db_url)  # a restart: a new engine, nothing in memory
    async with db.sessions() as session, session.begin():
        again = await people.open_contact(session, "telegram", "42", "42", "private")
        count = (await session.execute(select(func.count()).select_from(Person))).scalar_one()
    await db.close()
    assert count == 1
    assert again.person.locale == "en"
    assert again.state.state == "feedback.describe"
    assert again.state.data == {"category": "attitude"}


async def test_redelivered_update_is_recognised(db_url: str) -> None:
    db = open_database(db_url)
    async with db.sessions() as session, session.begin():
        assert await people.mark_processed(session, "zalo_bot", "msg-1") is True
        assert await people.mark_processed(session, "zalo_bot", "msg-1") is False
        assert await people.mark_processed(session, "zalo_bot", "msg-2") is True
    await db.close()


async def test_group_migration_keeps_area(db_url: str) -> None:
    db = open_database(db_url)
    async with db.sessions() as session, session.begin():
        chat = await people.ensure_chat(session, "telegram", "-100", "group", None)
        chat.area_code = "TDP2"
    async with db.sessions() as session, session.begin():
        await people.migrate_chat(session, "telegram", "-100", "-100200")
    async with db.sessions() as session:
        moved = await people.find_chat(session, "telegram", "-100200")
        old = await people.find_chat(session, "telegram", "-100")
    await db.close()
    assert moved is not None and moved.area_code == "TDP2"
    assert old is None


async def test_retention_purges_old_messages_only(db_url: str) -> None:
    db = open_database(db_url)
    now = datetime(2026, 11, 22, tzinfo=UTC)
    async with db.sessions() as session, session.begin():
        session.add(
            MessageLog(
                channel="web",
                chat_id="a",
                direction="in",
                text="cũ",
                created_at=now - timedelta(days=100),
            )
        )
        session.add(
            MessageLog(
                channel="web",
                chat_id="a",
                direction="in",
                text="mới",
                created_at=now - timedelta(days=1),
            )
        )
    async with db.sessions() as session, session.begin():
        removed = await people.purge_message_log(session, now - timedelta(days=90))
    async with db.sessions() as session:
        left = [m.text for m in await people.recent_messages(session, "web", "a")]
    await db.close()
    assert removed == 1
    assert left == ["mới"]


async def test_erasing_a_person_removes_personal_data_but_keeps_anonymous_statistics(
    db_url: str,
) -> None:
    db = open_database(db_url)
    async with db.sessions() as session, session.begin():
        contact = await people.open_contact(session, "web", "v1", "v1", "private")
        contact.person.phone = "0912345678"
        await people.subscribe(session, contact.person.id, "dengue")
        await people.log_messages(
            session, "web", "v1", [people.log_entry("in", "nhà tôi có muỗi")]
        )
        session.add(
            Ticket(
                code="PA-2026-000001",
                person_id=contact.person.id,
                channel="web",
                chat_id="v1",
                category="attitude",
                text="bác sĩ nói to",
                phone="0912345678",
            )
        )
        person_id = contact.person.id
    async with db.sessions() as session, session.begin():
        await people.erase_person(session, person_id)
    async with db.sessions() as session:
        assert await session.get(Person, person_id) is None
        ticket = (await session.execute(select(Ticket))).scalar_one()
        logs = await people.recent_messages(session, "web", "v1")
        ident = await people.find_identity(session, "web", "v1")
    await db.close()
    assert ticket.phone is None and ticket.person_id is None and "bác sĩ" not in ticket.text
    assert logs == [] and ident is None


@pytest.mark.parametrize("bad", [datetime(2026, 1, 1)])
async def test_naive_times_are_refused(db_url: str, bad: datetime) -> None:
    db = open_database(db_url)
    with pytest.raises(Exception, match="naive datetime"):
        async with db.sessions() as session, session.begin():
            session.add(Person(created_at=bad))
    await db.close()


async def test_an_idle_connection_the_server_dropped_is_replaced_before_use(
    db_url: str, postgres_only: None
) -> None:
    db = open_database(db_url, ping_after_idle=0.0)
    async with db.sessions() as session:
        await session.execute(select(func.count()).select_from(Person))
    assert await drop_other_connections(db_url) >= 1
    async with db.sessions() as session:  # no error: the ping found the dead connection
        count = (await session.execute(select(func.count()).select_from(Person))).scalar_one()
    await db.close()
    assert count == 0
