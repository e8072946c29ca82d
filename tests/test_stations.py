"""Stations as data (issue 21): two stations in one installation, one shared bot.

Station 1 is `[station]` + `[[areas]]`; station 2 comes from `[[stations]]`. A resident reaches
station 2 through its deep link (`/start XUANLA_TDPA`), gets station 2's facts, and from then on
belongs to it: its broadcasts, its tickets, its staff. The staff of one station neither see nor act
on the other's tickets, and their broadcasts reach only their residents; province staff see and
reach both. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select, text

from bot.app import build_bot, build_services
from bot.config import Area, ConfigError, Settings, StaffMember, StationEntry, load_settings
from bot.model import TELEGRAM
from bot.stations import sync_stations
from storage.db import open_database, upgrade
from storage.models import BroadcastRecord, Chat, MessageLog, Outbox, Person, StationRecord, Ticket
from tests.conftest import PG_ENV, FakeClock, reset_postgres
from tests.test_feedback_flow import file_feedback
from tests.transcript import Transcript

B_PHONE = "024 3753 0000"
IDS = {"a": "501", "b": "502", "province": "503"}
TICKET_A = "PA-2026-000001"


def two_stations(settings: Settings) -> Settings:
    station_b = StationEntry(
        id=2, code="XUANLA", name="Trạm Y tế phường Xuân La", ward="Phường Xuân La",
        address="Số 1 Xuân La, phường Xuân La", phone=B_PHONE, staff_chat="telegram:-100222",
        areas=[Area("TDPA", "Tổ dân phố A")],
    )
    staff = [
        StaffMember("Cán bộ trạm A", "admin", telegram_id=IDS["a"], stations=[1]),
        StaffMember("Cán bộ trạm B", "admin", telegram_id=IDS["b"], stations=[2]),
        StaffMember("Cán bộ tỉnh", "admin", telegram_id=IDS["province"], province=True),
    ]
    return replace(settings, station=replace(settings.station, code="MAU"), stations=[station_b],
                   staff=staff, feedback=replace(settings.feedback, staff_chat="telegram:-100111"))


@pytest.fixture
async def bot(settings: Settings, clock: FakeClock):  # noqa: ANN201
    services = build_services(two_stations(settings), clock=clock)
    yield build_bot(services)
    await services.db.close()


async def rows(bot, model, *where):  # noqa: ANN001, ANN201
    async with bot.services.db.sessions() as session:
        return list((await session.execute(select(model).where(*where))).scalars().all())


async def resident_of_b(bot, chat_id: str = "resident-b") -> Transcript:  # noqa: ANN001
    chat = Transcript(bot, chat_id=chat_id)
    await chat.say("/start XUANLA_TDPA")
    return chat


async def test_a_deep_link_makes_the_resident_station_b_and_shows_b_facts(bot) -> None:  # noqa: ANN001
    chat = await resident_of_b(bot)
    assert "Trạm Y tế phường Xuân La" in chat.text and "Tổ dân phố A" in chat.text
    await chat.say("/lienhe")
    assert B_PHONE in chat.text and "0243 000 0000" not in chat.text
    await chat.say("xyzzy qwerty")  # not understood: the phone given is station B's
    assert B_PHONE in chat.text
    (person,) = await rows(bot, Person)
    (row,) = await rows(bot, Chat)
    assert (person.station_id, person.area_code, row.station_id) == (2, "TDPA", 2)
    logged = await rows(bot, MessageLog)
    assert logged and {m.station_id for m in logged} == {2}
    other = Transcript(bot, chat_id="resident-a")
    await other.say("/start")  # no link: station 1, as before
    assert "Trạm Y tế phường Mẫu" in other.text
    await other.say("/lienhe")
    assert "0243 000 0000" in other.text and B_PHONE not in other.text


async def test_a_ticket_belongs_to_the_resident_station_and_goes_to_its_staff_chat(bot) -> None:  # noqa: ANN001
    await file_feedback(await resident_of_b(bot), photo=False)
    (ticket,) = await rows(bot, Ticket)
    assert ticket.station_id == 2 and ticket.staff_chat == "telegram:-100222"
    cards = await rows(bot, Outbox, Outbox.ticket_id == ticket.id)
    assert cards and {c.chat_id for c in cards} == {"-100222"}


# Every staff action on a ticket, as the roles test lists them (tests/test_staff_roles.py).
TICKET_ACTIONS = [
    f"/tiepnhan {TICKET_A}",
    f"/traloi {TICKET_A} Trạm đã xử lý",
    f"/chuyen {TICKET_A}",
    f"/trung {TICKET_A} PA-2026-000002",
    f"/dong {TICKET_A}",
    f"/chan {TICKET_A}",
    f"/bochan {TICKET_A}",
    "button tko:1",
    "button tk:acc:1",
    "button tk:ans:1",
    "button tk:mv:1",
    "button tk:mvto:1:attitude",
    "button tk:close:1",
    "button tk:closeok:1",
    "button tk:dup:1",
    "button tk:block:1",
]


async def act(chat: Transcript, probe: str) -> str:
    if probe.startswith("button "):
        await chat.send(button=probe.removeprefix("button "))
    else:
        await chat.say(probe)
    return chat.text


@pytest.mark.parametrize("probe", TICKET_ACTIONS)
async def test_staff_of_b_can_neither_see_nor_act_on_a_ticket_of_a(bot, probe: str) -> None:  # noqa: ANN001
    await file_feedback(Transcript(bot, chat_id="resident-a"), photo=False)
    staff_b = Transcript(bot, TELEGRAM, "telegram", IDS["b"])
    reply = await act(staff_b, probe)
    assert "ổ bọ gậy" not in reply  # nothing of the complaint is shown
    assert ("không tìm thấy" in reply.lower() or "không còn" in reply.lower()), reply
    (ticket,) = await rows(bot, Ticket)
    assert (ticket.status, ticket.assignee, ticket.category) == ("new", None, "sanitation")
    person = (await rows(bot, Person, Person.id == ticket.person_id))[0]
    assert not person.feedback_blocked


@pytest.mark.parametrize("who", ["a", "province"])
async def test_staff_of_a_and_province_staff_act_on_a_ticket_of_a(bot, who: str) -> None:  # noqa: ANN001
    await file_feedback(Transcript(bot, chat_id="resident-a"), photo=False)
    staff = Transcript(bot, TELEGRAM, "telegram", IDS[who])
    await staff.say("/dangmo")
    assert TICKET_A in staff.text
    await staff.say(f"/tiepnhan {TICKET_A}")
    (ticket,) = await rows(bot, Ticket)
    assert ticket.status == "accepted"


async def test_open_lists_and_figures_show_only_the_staff_station(bot) -> None:  # noqa: ANN001
    await file_feedback(Transcript(bot, chat_id="resident-a"), photo=False)
    await file_feedback(await resident_of_b(bot), photo=False)
    lists = {}
    for who in IDS:
        staff = Transcript(bot, TELEGRAM, "telegram", IDS[who])
        await staff.say("/dangmo")
        lists[who] = staff.text
    assert "PA-2026-000001" in lists["a"] and "PA-2026-000002" not in lists["a"]
    assert "PA-2026-000002" in lists["b"] and "PA-2026-000001" not in lists["b"]
    assert "PA-2026-000001" in lists["province"] and "PA-2026-000002" in lists["province"]
    staff_b = Transcript(bot, TELEGRAM, "telegram", IDS["b"])
    await staff_b.say("/baocao")
    assert "Phản ánh đang mở: 1" in staff_b.text


async def broadcast_now(bot, who: str, words: str) -> set[str]:  # noqa: ANN001
    """Staff `who` sends `words` to everyone now; the chats it was queued for."""
    staff = Transcript(bot, TELEGRAM, "telegram", IDS[who])
    await staff.say("/phat")
    await staff.tap("bc:text")
    await staff.say(words)
    await staff.tap("bc:a:all")
    await staff.tap("bc:w:now")
    await staff.tap("bc:ok")
    (record,) = await rows(bot, BroadcastRecord, BroadcastRecord.text == words)
    queued = await rows(bot, Outbox, Outbox.broadcast_id == record.id)
    return {row.chat_id for row in queued}


async def test_a_resident_of_a_never_receives_b_broadcast_and_province_reaches_both(bot) -> None:  # noqa: ANN001
    resident_a = Transcript(bot, chat_id="resident-a")
    await resident_a.say("/start")
    await resident_a.send(button="sub:*")
    resident_b = await resident_of_b(bot)
    await resident_b.send(button="sub:*")
    group_a = Transcript(bot, TELEGRAM, "telegram", "-100901", user_id="601", chat_kind="group")
    await group_a.say("/start")
    group_b = Transcript(bot, TELEGRAM, "telegram", "-100902", user_id="602", chat_kind="group")
    await group_b.say("/start XUANLA")
    assert "Xuân La" in group_b.text
    assert await broadcast_now(bot, "b", "Tin của trạm B") == {"resident-b", "-100902"}
    assert await broadcast_now(bot, "a", "Tin của trạm A") == {"resident-a", "-100901"}
    assert await broadcast_now(bot, "province", "Tin toàn tỉnh") == {
        "resident-a", "resident-b", "-100901", "-100902"}
    b_rows = await rows(bot, Outbox, Outbox.chat_id.in_(["resident-b", "-100902"]))
    assert {r.station_id for r in b_rows if r.broadcast_id} == {2}


async def test_the_stations_table_follows_the_configuration(settings: Settings) -> None:
    two = two_stations(settings)
    db = open_database(settings.database.url)
    try:
        for _round in range(2):  # a second start-up updates, never duplicates
            async with db.sessions() as session, session.begin():
                await sync_stations(session, two)
        async with db.sessions() as session:
            found = (await session.execute(select(StationRecord).order_by(StationRecord.id)))
            stations = found.scalars().all()
    finally:
        await db.close()
    assert [(s.id, s.code, s.phone) for s in stations] == [
        (1, "MAU", settings.station.phone), (2, "XUANLA", B_PHONE)]
    assert stations[1].areas == [{"code": "TDPA", "name": "Tổ dân phố A"}]


@pytest.fixture(params=["sqlite", "postgresql"])
async def at_0005(request: pytest.FixtureRequest, tmp_path) -> str:  # noqa: ANN001
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    else:
        import os

        url = os.environ.get(PG_ENV, "")
        if not url:
            pytest.skip("PostgreSQL not configured")
        await reset_postgres(url)
    await upgrade(url, "0005")
    return url


async def test_the_migration_moves_existing_data_to_station_1(at_0005: str) -> None:
    db = open_database(at_0005)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("INSERT INTO people (id, feedback_blocked, created_at)"
                                    " VALUES (7, false, CURRENT_TIMESTAMP)"))
            await conn.execute(text(
                "INSERT INTO chats (id, channel, external_id, kind, active, created_at, person_id)"
                " VALUES (3, 'web', 'old-chat', 'private', true, CURRENT_TIMESTAMP, 7)"))
    finally:
        await db.close()
    await upgrade(at_0005)
    db = open_database(at_0005)
    try:
        async with db.sessions() as session:
            person = await session.get(Person, 7)
            chat = await session.get(Chat, 3)
            station = await session.get(StationRecord, 1)
            assert person is not None and chat is not None and station is not None
            assert (person.station_id, chat.station_id) == (1, 1)
    finally:
        await db.close()


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ('[[stations]]\nid = 1\ncode = "X"\nname = "X"\n', "'stations[0].id' must be 2 or more"),
        ('[[stations]]\nid = 2\ncode = "default"\nname = "X"\n', "'stations[0].code'"),
        ('[[stations]]\nid = 2\ncode = "A_B"\nname = "X"\n', "'stations[0].code'"),
        ('[[staff]]\nname = "Lan"\nstations = [3]\n', "which is not configured"),
    ],
)
def test_a_wrong_stations_table_is_refused_clearly(tmp_path, extra: str, expected: str) -> None:  # noqa: ANN001
    path = tmp_path / "config.toml"
    path.write_text(extra, encoding="utf-8")
    with pytest.raises(ConfigError, match=expected.replace("[", r"\[").replace("]", r"\]")):
        load_settings(path, env={})


async def test_a_plan_reaches_only_the_stations_of_its_region(settings: Settings, clock: FakeClock,
                                                              tmp_path) -> None:  # noqa: ANN001
    """Station B in the south: the northern plan's campaign reaches A's group, not B's."""
    from content.library import load_library
    from scheduler.plan import load_plan
    from scheduler.planner import Planner
    from storage import people
    from tests.test_planner import run_plan_until, utc, write_plan

    two = two_stations(settings)
    two = replace(two, stations=[replace(two.stations[0], region="south")])
    db = open_database(settings.database.url)
    plan = load_plan(write_plan(tmp_path, """
  - id: north-news
    topic: dengue
    window: {fixed: {start: "2026-11-23", end: "2026-11-23"}}
    rhythm: {once: {time: "09:00"}}
    audience: {groups: all}
    messages: [dengue.prevention]
"""), region="north")
    planner = Planner(db, two, load_library(), plan, clock)
    try:
        async with db.sessions() as session, session.begin():
            await people.ensure_chat(session, "telegram", "-100901", "group", None)
            chat_b = await people.ensure_chat(session, "telegram", "-100902", "group", None)
            chat_b.station_id = 2
        clock.now = utc(2026, 11, 22, 0)
        await run_plan_until(planner, clock, utc(2026, 11, 24))
        async with db.sessions() as session:
            queued = (await session.execute(
                select(Outbox.chat_id).where(Outbox.campaign_id == "north-news"))).scalars().all()
    finally:
        await planner.stop()
        await db.close()
    assert queued == ["-100901"]


async def test_each_station_gets_a_morning_digest_of_its_own_tickets(bot, clock: FakeClock) -> None:  # noqa: ANN001
    from datetime import UTC, datetime, timedelta

    from bot.digest import send_digest

    clock.now = datetime(2026, 11, 25, 0, 35, tzinfo=UTC)  # Wednesday 07:35 in Hanoi
    now = clock.now
    async with bot.services.db.sessions() as session, session.begin():
        for n, station_id in ((1, 1), (2, 2)):
            session.add(Ticket(code=f"PA-2026-{n:06d}", channel="web", chat_id=f"r{n}",
                               category="other", text="…", status="new", station_id=station_id,
                               accept_due=now + timedelta(hours=5),
                               resolve_due=now + timedelta(days=5), created_at=now))
    assert await send_digest(bot.services) == 2
    digests = {row.chat_id: row.payload["text"]
               for row in await rows(bot, Outbox, Outbox.dedupe_key.like("digest:%"))}
    assert set(digests) == {"-100111", "-100222"}
    assert "PA-2026-000001" in digests["-100111"] and "PA-2026-000002" not in digests["-100111"]
    assert "PA-2026-000002" in digests["-100222"] and "PA-2026-000001" not in digests["-100222"]


async def test_a_broadcast_is_approved_only_by_an_approver_of_its_station(
        settings: Settings, clock: FakeClock) -> None:
    two = two_stations(settings)
    two = replace(two, broadcast=replace(two.broadcast, require_approval=True), staff=[
        StaffMember("Cán bộ trạm B", "staff", telegram_id=IDS["b"], stations=[2]),
        StaffMember("Duyệt trạm A", "approver", telegram_id="701", stations=[1]),
        StaffMember("Duyệt trạm B", "approver", telegram_id="702", stations=[2]),
    ])
    services = build_services(two, clock=clock)
    bot = build_bot(services)
    try:
        staff_b = Transcript(bot, TELEGRAM, "telegram", IDS["b"])
        await staff_b.say("/phat")
        await staff_b.tap("bc:text")
        await staff_b.say("Tin của trạm B cần duyệt")
        assert "Tổ dân phố A" in [b.label for b in staff_b.buttons()]  # B's areas, not A's
        await staff_b.tap("bc:a:all")
        await staff_b.tap("bc:w:now")
        await staff_b.tap("bc:ok")
        cards = await rows(bot, Outbox, Outbox.dedupe_key.like("broadcast:1:approve:%"))
        assert [c.chat_id for c in cards] == ["702"]  # only B's approver is asked
        approver_a = Transcript(bot, TELEGRAM, "telegram", "701")
        await approver_a.send(button="bcy:1")
        (record,) = await rows(bot, BroadcastRecord)
        assert record.status == "pending_approval"
        await approver_a.send(button="bcx:1")
        (record,) = await rows(bot, BroadcastRecord)
        assert record.status == "pending_approval"
        approver_b = Transcript(bot, TELEGRAM, "telegram", "702")
        await approver_b.send(button="bcy:1")
        (record,) = await rows(bot, BroadcastRecord)
        assert record.status != "pending_approval" and record.approved_by == "Duyệt trạm B"
    finally:
        await services.db.close()


async def test_a_reminder_of_a_station_b_resident_gives_station_b_phone(
        settings: Settings, clock: FakeClock) -> None:
    from datetime import UTC, datetime, timedelta

    from content.library import load_library
    from scheduler.reminders import sweep_reminders
    from storage import people
    from storage.models import Reminder

    now = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    db = open_database(settings.database.url)
    try:
        async with db.sessions() as session, session.begin():
            for n, station_id in ((1, 1), (2, 2)):
                person = Person(locale="vi", station_id=station_id)
                session.add(person)
                await session.flush()
                chat = await people.ensure_chat(session, "web", f"r{n}", "private", person.id)
                chat.station_id = station_id
                session.add(Reminder(person_id=person.id, station_id=station_id, kind="vaccine",
                                     due_at=now - timedelta(minutes=5), dedupe_key=f"v:{n}",
                                     payload={"child": "Bé", "due": "2026-12-01", "doses": []}))
        assert await sweep_reminders(db, two_stations(settings), load_library(), now) == 2
        async with db.sessions() as session:
            queued = {r.chat_id: r for r in (await session.execute(select(Outbox))).scalars()}
    finally:
        await db.close()
    assert B_PHONE in queued["r2"].payload["text"] and queued["r2"].station_id == 2
    assert B_PHONE not in queued["r1"].payload["text"]
    assert settings.station.phone in queued["r1"].payload["text"]


def test_posters_of_a_second_station_link_to_that_station(
        tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: ANN001
    from bot.cli import main

    config = tmp_path / "healthbot.toml"
    config.write_text(
        'stations = [{id = 2, code = "XUANLA", name = "Trạm Y tế phường Xuân La",'
        ' areas = [{code = "TDPA", name = "Tổ dân phố A"}]}]\n'
        '[station]\ncode = "MAU"\n'
        '[telegram]\nbot_username = "tinh_bot"\n'
        '[posters]\nweb_url = "https://yte.example.vn/chat"\n', encoding="utf-8")
    args = ["qr", "--station", "xuanla", "--area", "tdpa", "--out-dir", str(tmp_path),
            "--config", str(config), "--size", "A5"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "https://t.me/tinh_bot?start=XUANLA_TDPA" in printed
    assert "https://yte.example.vn/chat?start=XUANLA_TDPA" in printed
    assert (tmp_path / "qr-XUANLA-TDPA-telegram-A5.png").exists()
    assert main(["qr", "--area", "TDP1", "--out-dir", str(tmp_path), "--config", str(config),
                 "--channel", "telegram", "--size", "A5"]) == 0
    assert "https://t.me/tinh_bot?start=MAU_TDP1" in capsys.readouterr().out
    assert main(["qr", "--station", "NOPE", "--area", "TDP1", "--config", str(config)]) == 2
    assert "XUANLA" in capsys.readouterr().err


async def test_no_station_staff_chat_gets_a_residents_broadcast(bot) -> None:  # noqa: ANN001
    """Station B's staff chat, registered as a group (the bot was added to it), is a staff chat:
    a broadcast to every resident group, from the province or from B, never lands there."""
    from scheduler.broadcasts import resolve_audience
    from scheduler.plan import Audience

    async with bot.services.db.sessions() as session, session.begin():
        session.add_all([
            Chat(station_id=2, channel="telegram", external_id="-100222", kind="group",
                 title="Cán bộ trạm Xuân La"),
            Chat(station_id=2, channel="telegram", external_id="-100333", kind="group",
                 title="Tổ dân phố A", area_code="TDPA"),
            Chat(station_id=1, channel="telegram", external_id="-100111", kind="group",
                 title="Cán bộ trạm Mẫu"),
        ])
    settings = bot.services.settings
    async with bot.services.db.sessions() as session:
        for stations in (None, [1, 2], [2]):
            found = await resolve_audience(session, Audience(groups="all"), settings, stations)
            assert [r.chat_id for r in found] == ["-100333"], stations
