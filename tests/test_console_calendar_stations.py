"""The console's calendar with several stations (issues 18 and 21): each station's staff see what
the planner will send to their station (the shared campaigns of their region, their own staff
reminders and announcements), never another station's; province staff pick a station or see all,
each event naming its stations; a campaign is named as the report names plan items, its plan id
only in a secondary detail. The planner is run to show that what the calendar shows is what goes
out. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from bot.app import build_bot, build_services
from bot.config import Settings, StationEntry
from bot.console import calendar_data
from scheduler.plan import Audience, Campaign, FixedWindow, Plan, Rhythm
from scheduler.planner import Planner
from storage import people
from storage.models import BroadcastRecord, Outbox
from tests.console_helpers import (  # noqa: F401 - the fixture
    NURSE,
    NURSE2,
    PROVINCE,
    STAFF,
    console_settings,
    console_stack,
    fake_fixture,
)

SOUTH = StationEntry(id=3, code="ANKHANH", name="Trạm Y tế xã An Khánh", region="south")
FLU_SERVES = "Phòng, chống cúm mùa"
CHECKUP_SERVES = "Khám sức khỏe định kỳ miễn phí"
PLAN = Plan(region="north", campaigns=(
    Campaign(id="flu-dec-2026", topic="flu", serves=FLU_SERVES,
             window=FixedWindow(date(2026, 12, 1), date(2026, 12, 31)),
             rhythm=Rhythm(kind="weekly", weekdays=(0,), at=time(8, 0)),
             audience=Audience(groups="all"), messages=("flu.prevention",)),
    Campaign(id="checkup-tdp1", topic="staff", serves=CHECKUP_SERVES,
             window=FixedWindow(date(2026, 12, 2), date(2026, 12, 15)),
             rhythm=Rhythm(kind="once", at=time(9, 0)),
             audience=Audience(staff=True), messages=("staff:checkup:TDP1",)),
    Campaign(id="report-h2", topic="staff",  # no `serves`: named by nothing it lacks, not its id
             window=FixedWindow(date(2026, 12, 3), date(2026, 12, 10)),
             rhythm=Rhythm(kind="once", at=time(9, 0)),
             audience=Audience(staff=True), messages=("staff:report-6-months",)),
))
PLAN_IDS = [c.id for c in PLAN.campaigns]


def three_stations(settings: Settings, **feedback: str) -> Settings:
    """Station 1 (north), station 2 XUANLA (north), station 3 ANKHANH (south)."""
    base = console_settings(settings, staff=(*STAFF, PROVINCE))
    return replace(base, stations=[*base.stations, SOUTH],
                   feedback=replace(base.feedback, **feedback))


async def groups_at_each_station(services) -> None:  # noqa: ANN001
    async with services.db.sessions() as session, session.begin():
        for station, chat_id in ((1, "-801"), (2, "-802"), (3, "-803")):
            group = await people.ensure_chat(session, "telegram", chat_id, "group", None)
            group.station_id = station


async def broadcasts_of_stations_1_and_2(services) -> None:  # noqa: ANN001
    async with services.db.sessions() as session, session.begin():
        for station, text in ((1, "Tiêm chủng tại trạm 1"), (2, "Khám mắt tại trạm 2")):
            session.add(BroadcastRecord(
                kind="staff", created_by="x", text=text, status="scheduled",
                audience={"kind": "all", "stations": [station]}, station_id=station,
                scheduled_at=datetime(2026, 12, 4, 2, 0, tzinfo=UTC)))


def titles(month: calendar_data.Month) -> list[str]:
    return [e.title for e in month.events]


@pytest.fixture
async def services(settings: Settings, clock):  # noqa: ANN001, ANN201
    built = build_services(three_stations(settings, staff_chat=""), clock=clock)
    build_bot(built)
    yield built
    await built.db.close()


async def month_for(services, stations) -> calendar_data.Month:  # noqa: ANN001
    async with services.db.sessions() as session:
        return await calendar_data.month_data(session, services.settings, PLAN, services.library,
                                              2026, 12, stations=stations)


async def test_each_station_sees_its_own_items_and_the_planner_sends_just_that(
        services, clock) -> None:  # noqa: ANN001
    await groups_at_each_station(services)
    await broadcasts_of_stations_1_and_2(services)

    one, two, south = [await month_for(services, [s]) for s in (1, 2, 3)]
    # Station 1: the shared flu campaign, its staff reminders (its areas), its announcement.
    assert set(titles(one)) == {FLU_SERVES, CHECKUP_SERVES, "Nội dung khác của kế hoạch",
                                "Tiêm chủng tại trạm 1"}
    # Station 2 (north too): the flu campaign and its own announcement; nothing of station 1's.
    assert set(titles(two)) == {FLU_SERVES, "Khám mắt tại trạm 2"}
    # Station 3 is in the south: the northern plan sends it nothing.
    assert titles(south) == [] and south.campaigns == []
    assert {r.title for r in two.campaigns} == {FLU_SERVES}
    (checkup,) = [e for e in one.events if e.title == CHECKUP_SERVES]
    assert (checkup.detail, checkup.stations) == ("Tổ dân phố 1", (1,))

    # What the planner sends is what the calendar showed: fire December, each occurrence on time.
    clock.now = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # 00:00 on 1/12 in Vietnam
    planner = Planner(services.db, services.settings, services.library, PLAN, clock)
    await planner.fire_due()
    planned = [e for e in (await month_for(services, None)).events if e.campaign_id]
    for event in sorted(planned, key=lambda e: e.at):
        clock.now = event.at.astimezone(UTC) + timedelta(minutes=1)
        assert (await planner.fire_due()).fired
    await planner.stop()
    async with services.db.sessions() as session:
        rows = (await session.execute(select(Outbox))).scalars().all()
    by_campaign: dict[str, set[str]] = {}
    for row in rows:
        by_campaign.setdefault(row.campaign_id or "", set()).add(row.chat_id)
    assert by_campaign["flu-dec-2026"] == {"-801", "-802"}  # stations 1 and 2, not the south
    # No staff chat configured: the members who work for station 1 (and province staff), never
    # station 2's nurse: the staff reminders are station 1's, as the calendar shows.
    wanted = {m.telegram_id for m in (*STAFF, PROVINCE) if m is not NURSE2}
    assert by_campaign["checkup-tdp1"] == by_campaign["report-h2"] == wanted
    for event in (await month_for(services, [1, 2, 3])).events:
        if event.campaign_id:
            assert event.status == "queued" and event.broadcast_id is not None


async def test_campaigns_are_named_as_the_report_names_them_never_by_plan_id(services) -> None:  # noqa: ANN001
    month = await month_for(services, [1])
    named = [e.title for e in month.events if e.campaign_id] + [r.title for r in month.campaigns]
    assert named and not {t for t in named if any(i in t for i in PLAN_IDS)}
    assert not [e.detail for e in month.events if "staff:" in e.detail]
    (report,) = [e for e in month.events if e.campaign_id == "report-h2"]
    assert (report.title, report.detail) == ("Nội dung khác của kế hoạch", "báo cáo 6 tháng")
    (flu, *_) = [e for e in month.events if e.campaign_id == "flu-dec-2026"]
    assert flu.detail == services.library.entry("flu.prevention").title("vi")


# -- the pages ------------------------------------------------------------------------------

TAG = re.compile(r"<[^>]*>")


def visible_text(html: str) -> str:
    """What a person reads on the page: the markup (and its title attributes) removed."""
    return TAG.sub(" ", html)


@pytest.fixture
async def console(settings, fake, clock):  # noqa: ANN001, ANN201
    staffed = three_stations(settings)
    async with console_stack(staffed, fake, clock, staff=(*STAFF, PROVINCE)) as running:
        services = running.bot.services
        services.extras["planner"] = Planner(services.db, services.settings, services.library,
                                             PLAN, clock)  # the plan the calendar shows
        await broadcasts_of_stations_1_and_2(services)
        yield running


async def test_a_stations_staff_see_their_calendar_and_not_anothers(console) -> None:  # noqa: ANN001
    december = "/console/calendar?month=2026-12"
    mine = (await (await console.sign_in(NURSE)).get(december)).text
    assert "Tiêm chủng tại trạm 1" in mine and CHECKUP_SERVES in mine and FLU_SERVES in mine
    assert "Khám mắt tại trạm 2" not in mine
    other = await console.sign_in(NURSE2)
    theirs = (await other.get(december)).text
    assert "Khám mắt tại trạm 2" in theirs and FLU_SERVES in theirs
    assert "Tiêm chủng tại trạm 1" not in theirs and CHECKUP_SERVES not in theirs
    # Asking for station 1 by address changes nothing for station 2's nurse.
    assert "Tiêm chủng tại trạm 1" not in (await other.get(december + "&station=1")).text
    # Plan ids are never a label: only in the title attributes ("mã trong kế hoạch").
    assert not [i for i in PLAN_IDS if i in visible_text(mine)]
    assert "mã trong kế hoạch: checkup-tdp1" in mine
    # The fired occurrence's page: named the same way, the plan id in a small line.
    async with console.bot.services.db.sessions() as session, session.begin():
        record = BroadcastRecord(kind="campaign", created_by="plan:checkup-tdp1",
                                 message_id="staff:checkup:TDP1", audience={"staff": True},
                                 status="queued", scheduled_at=datetime(2026, 12, 2, 2, 0,
                                                                        tzinfo=UTC))
        session.add(record)
    nurse = await console.sign_in(NURSE)
    page = (await nurse.get(f"/console/broadcasts/{record.id}")).text
    assert CHECKUP_SERVES in page and "Tổ dân phố 1" in page
    assert "checkup-tdp1" not in visible_text(page).replace("mã trong kế hoạch: checkup-tdp1", "")
    assert (await other.get(f"/console/broadcasts/{record.id}")).status == 404
    assert CHECKUP_SERVES not in (await other.get("/console/broadcasts")).text


async def test_province_staff_choose_a_station_or_see_all_named(console) -> None:  # noqa: ANN001
    province = await console.sign_in(PROVINCE)
    every = (await province.get("/console/calendar?month=2026-12")).text
    assert "Tất cả các trạm (toàn tỉnh)" in every
    assert "Tiêm chủng tại trạm 1" in every and "Khám mắt tại trạm 2" in every
    for name in ("Trạm Y tế phường Xuân La", "Trạm Y tế xã An Khánh"):
        assert f">{name}</option>" in every
    agenda = every[every.index('class="agenda"'):]
    line = next(li for li in agenda.split("<li") if "Khám mắt tại trạm 2" in li)
    assert "Trạm Y tế phường Xuân La" in line  # each event names its station
    line = next(li for li in agenda.split("<li") if CHECKUP_SERVES in li)
    assert console.bot.services.settings.station.name in line
    two = (await province.get("/console/calendar?month=2026-12&station=2")).text
    assert "Khám mắt tại trạm 2" in two and FLU_SERVES in two
    assert "Tiêm chủng tại trạm 1" not in two and CHECKUP_SERVES not in two
    assert 'href="?month=2027-01&amp;station=2"' in two  # the next month keeps the choice
    south = (await province.get("/console/calendar?month=2026-12&station=3")).text
    assert FLU_SERVES not in south and "Khám mắt tại trạm 2" not in south
