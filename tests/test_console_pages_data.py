"""The console pages' data (issue 18, points 3–5), without the web layer: unanswered questions
recorded, grouped, exported and answered; the month calendar from the plan's occurrences and the
broadcasts table; the composer's count, preview and approval through the chat's own flow; the
report's figures, charts and files."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
import yaml
from sqlalchemy import select

from bot.app import build_bot, build_services
from bot.config import Settings, StaffMember
from bot.console import broadcast_compose, calendar_data, report_data
from bot.console import unanswered as console_unanswered
from bot.model import TELEGRAM
from bot.report.figures import parse_period
from scheduler.occurrences import VN_TZ
from scheduler.plan import Audience, Campaign, FixedWindow, Plan, Rhythm
from scheduler.planner import Planner
from storage import people, unanswered
from storage.models import BroadcastRecord, Chat, Outbox, UnansweredQuestion
from tests.test_broadcast import with_group_and_subscriber
from tests.transcript import Transcript

AUTHOR_ID, APPROVER_ID = "9001", "9002"
AUTHOR = StaffMember("Chị Lan", "staff", telegram_id=AUTHOR_ID)
APPROVER = StaffMember("Anh Minh", "approver", telegram_id=APPROVER_ID)


@pytest.fixture
async def bot(settings: Settings, clock):  # noqa: ANN001, ANN201
    staffed = replace(settings, staff=[AUTHOR, APPROVER],
                      broadcast=replace(settings.broadcast, require_approval=True))
    services = build_services(staffed, clock=clock)
    yield build_bot(services)
    await services.db.close()


# -- unanswered questions -------------------------------------------------------------------


async def test_unanswered_questions_are_recorded_grouped_and_anonymised(bot, clock) -> None:
    for i, question in enumerate(["Trạm có bán kính lão không?",
                                  "tram co ban kinh lao ko",
                                  "Trạm có bán kính lão không, số tôi 0912345678"]):
        await Transcript(bot, TELEGRAM, "telegram", f"70{i}").say(question)
    await Transcript(bot, TELEGRAM, "telegram", "799").say("Giá vé gửi xe máy ở trạm bao nhiêu")
    await Transcript(bot, TELEGRAM, "telegram", "799").say("ok cảm ơn nhiều")  # not a question
    async with bot.services.db.sessions() as session:
        groups = await console_unanswered.open_groups(session, clock(), stations=[1])
        assert await console_unanswered.open_groups(session, clock(), stations=[2]) == []
    assert [g.count for g in groups] == [3, 1]
    glasses = groups[0]
    assert "0912345678" not in " ".join(glasses.samples) and "[phone]" in glasses.samples[2]
    snippet = console_unanswered.library_snippet(glasses, today=date(2026, 11, 23),
                                                 station="Trạm Y tế")
    (entry,) = yaml.safe_load(snippet)
    assert entry["kind"] == "question" and entry["status"] == "draft"
    assert entry["questions"]["vi"][0] == "Trạm có bán kính lão không?"
    assert len(entry["questions"]["vi"]) == 3


async def test_staff_answer_reaches_only_recent_reachable_askers(bot, clock) -> None:
    await Transcript(bot, TELEGRAM, "telegram", "801").say("Trạm có bán kính lão không")
    clock.advance(days=8)  # an older asker: beyond the 7-day window
    await Transcript(bot, TELEGRAM, "telegram", "802").say("Trạm có bán kính lão không ạ")
    await Transcript(bot, TELEGRAM, "telegram", "803").say("tram co ban kinh lao khong")
    await Transcript(bot, TELEGRAM, "telegram", "804").say("Trạm bán kính lão không?")
    async with bot.services.db.sessions() as session, session.begin():
        chat = (await session.execute(select(Chat).where(Chat.external_id == "803"))).scalar_one()
        chat.unreachable_reason = "blocked"
        (group,) = await console_unanswered.open_groups(session, clock(), stations=None)
        rows = await console_unanswered.rows_of(session, group.ids, stations=[1])
        outcome = await console_unanswered.answer(
            session, rows, "Trạm không bán kính, hãy hỏi hiệu thuốc sáng thứ Năm.", station_name="Trạm",
            by="Chị Lan", now=clock())
    assert (outcome.sent, outcome.too_old, outcome.unreachable) == (2, 1, 1)
    async with bot.services.db.sessions() as session:
        sent = (await session.execute(select(Outbox).where(
            Outbox.dedupe_key.like("unanswered:%")))).scalars().all()
        statuses = set((await session.execute(select(UnansweredQuestion.status))).scalars())
    assert sorted(r.chat_id for r in sent) == ["802", "804"]
    assert "sáng thứ Năm" in sent[0].payload["text"]
    assert statuses == {unanswered.ANSWERED}


# -- calendar ---------------------------------------------------------------------------------


def december_plan() -> Plan:
    campaign = Campaign(
        id="flu-december", topic="flu", window=FixedWindow(date(2026, 12, 1), date(2026, 12, 31)),
        rhythm=Rhythm(kind="weekly", weekdays=(0,), at=time(8, 0)),
        audience=Audience(groups="all", subscribers_of="flu"), messages=("flu.prevention",))
    return Plan(campaigns=(campaign,), region="north")


async def test_month_shows_the_plans_occurrences_and_scheduled_broadcasts(bot, clock) -> None:
    async with bot.services.db.sessions() as session, session.begin():
        session.add(BroadcastRecord(kind="staff", created_by="Chị Lan", text="Khám miễn phí",
                                    audience={"kind": "all", "stations": [1]}, status="scheduled",
                                    scheduled_at=datetime(2026, 12, 2, 14, 30, tzinfo=UTC)))
        session.add(BroadcastRecord(kind="staff", created_by="X", text="Trạm khác",
                                    audience={"kind": "all", "stations": [2]}, status="scheduled",
                                    scheduled_at=datetime(2026, 12, 3, 2, 0, tzinfo=UTC)))
    library = bot.services.library
    async with bot.services.db.sessions() as session:
        month = await calendar_data.month_data(session, bot.services.settings, december_plan(),
                                               library, 2026, 12, stations=[1])
    mondays = [date(2026, 12, d) for d in (7, 14, 21, 28)]
    campaign_days = sorted(d for d, events in month.days.items()
                           if any(e.campaign_id == "flu-december" for e in events))
    assert campaign_days == mondays
    event = month.days[mondays[0]][0]
    assert (event.at.hour, event.status) == (8, calendar_data.PLANNED)
    # Named as the report names plan items (no `serves`: the topic's title), the message beside.
    assert event.title == library.topics["flu"].title("vi") != "flu-december"
    assert event.detail == library.entry("flu.prevention").title("vi")
    # 14:30 UTC is 21:30 in Vietnam: quiet hours, so it shows at 07:00 the next morning.
    (staff_event,) = month.days[date(2026, 12, 3)]
    assert (staff_event.at.hour, staff_event.title) == (7, "Khám miễn phí")
    assert [(r.start, r.end) for r in month.campaigns] == [(date(2026, 12, 1), date(2026, 12, 31))]
    assert month.weeks[0][:2] == [None, date(2026, 12, 1)]  # Monday first


async def test_fired_occurrence_shows_once_with_its_delivery_figures(bot, clock) -> None:
    await with_group_and_subscriber(bot)
    plan = december_plan()
    clock.now = datetime(2026, 12, 6, 23, 0, tzinfo=UTC)
    planner = Planner(bot.services.db, bot.services.settings, bot.services.library, plan, clock)
    await planner.fire_due()
    clock.now = datetime(2026, 12, 7, 1, 5, tzinfo=UTC)  # 08:05 on Monday 7/12
    assert len((await planner.fire_due()).fired) == 1
    await planner.stop()
    async with bot.services.db.sessions() as session:
        month = await calendar_data.month_data(session, bot.services.settings, plan,
                                               bot.services.library, 2026, 12, stations=[1])
    (event,) = month.days[date(2026, 12, 7)]
    assert event.status == "queued" and event.figures is not None
    assert (event.figures.total, event.figures.waiting) == (2, 2)


# -- composer -------------------------------------------------------------------------------


async def test_composed_broadcast_counts_previews_and_goes_to_the_approver(bot, clock) -> None:
    await with_group_and_subscriber(bot)
    services = bot.services
    form = {"kind": "staff", "text": "Chủ nhật này trạm khám miễn phí cho người cao tuổi.",
            "audience": "area", "area": "TDP1",
            "at": (clock() + timedelta(days=1)).astimezone(VN_TZ).strftime("%Y-%m-%dT21:30")}
    draft = broadcast_compose.read_form(form, services, AUTHOR, "vi", clock())
    assert draft.errors == []
    async with services.db.sessions() as session, session.begin():
        ctx = broadcast_compose.staff_context(services, session, AUTHOR, "vi", draft.data())
        shown = await broadcast_compose.preview(ctx, AUTHOR)
        assert (shown.total, shown.groups, shown.people) == (2, 1, 1)
        assert shown.by_channel == {"telegram": 2}
        assert shown.quiet and (shown.goes_at.hour, shown.goes_at.minute) == (7, 0)
        assert shown.approval
        telegram = next(c for c in shown.channels if c.channel == "telegram")
        assert telegram.parts[0].startswith("Thông báo từ") and "miễn phí" in telegram.parts[0]
        done = await broadcast_compose.submit(ctx)
    assert done.status == "pending_approval" and "Anh Minh" in done.message
    approver = Transcript(bot, TELEGRAM, "telegram", APPROVER_ID)
    await approver.send(button=f"bcy:{done.broadcast_id}")
    assert "Đã hẹn gửi" in approver.text
    async with services.db.sessions() as session:
        record = await session.get(BroadcastRecord, done.broadcast_id)
        assert (record.status, record.approved_by, record.created_by) == (
            "scheduled", "Anh Minh", "Chị Lan")


async def test_composer_refuses_a_past_time_and_an_unknown_area(bot, clock) -> None:
    form = {"text": "x", "audience": "area", "area": "NOPE", "at": "2020-01-01T08:00"}
    draft = broadcast_compose.read_form(form, bot.services, AUTHOR, "en", clock())
    assert len(draft.errors) == 2


# -- report ---------------------------------------------------------------------------------


async def test_report_view_and_files_come_from_the_report_builder(bot, clock) -> None:
    services = bot.services
    period = parse_period("2026-H2")
    assert report_data.station_choice(AUTHOR, services.settings, None) == 1
    province = replace(AUTHOR, province=True)
    assert report_data.station_choice(province, services.settings, None) is None
    async with services.db.sessions() as session:
        view = await report_data.report_view(session, services.settings, period, station_id=None,
                                             locale="vi", library=services.library, plan=None)
        name, body = await report_data.report_file(
            session, services.settings, period, "xlsx", station_id=1, locale="vi",
            library=services.library, plan=None, issued_on=date(2026, 11, 23))
    assert len(view.charts) == 4 and view.charts[0][1].startswith("data:image/png;base64,")
    assert view.content.groups and name == "bao-cao-2026-H2.xlsx" and body[:2] == b"PK"


async def test_unanswered_questions_are_erased_with_the_resident_and_purged(bot, clock) -> None:
    resident = Transcript(bot, TELEGRAM, "telegram", "811")
    await resident.say("/start")
    await resident.say("Trạm có bán kính lão không")
    in_group = Transcript(bot, TELEGRAM, "telegram", "-900", user_id="811", chat_kind="group")
    await in_group.say("/hoi trạm có bán kính lão không")
    await Transcript(bot, TELEGRAM, "telegram", "812").say("Trạm có bán kính lão không ạ")

    async def askers() -> list[str]:
        async with bot.services.db.sessions() as session:
            rows = await unanswered.since(session, clock() - timedelta(days=1), stations=None)
        return sorted(r.user_id or "" for r in rows)

    assert await askers() == ["811", "811", "812"]
    await resident.say("/dulieu")
    await resident.tap("erase")
    await resident.tap("erase_yes")
    assert await askers() == ["812"]
    async with bot.services.db.sessions() as session, session.begin():
        await people.purge_message_log(session, clock() + timedelta(seconds=1))
    assert await askers() == []


def test_similar_wordings_group_and_different_questions_do_not() -> None:
    """Why `SIMILAR` = 75 on content words: typed with or without marks, shortened or reordered,
    a question joins its group; sharing only "trạm có ... không" does not."""
    texts = ["Trạm có bán kính lão không?", "tram co ban kinh lao ko", "kính lão ở trạm có bán k",
             "Trạm có bán thuốc cảm không?", "Trạm có mở cửa chủ nhật không",
             "Giá gửi xe máy ở trạm bao nhiêu", "gui xe may o tram bao nhieu tien"]
    rows = [UnansweredQuestion(id=i, text=t, locale="vi", created_at=datetime(2026, 11, 23, tzinfo=UTC))
            for i, t in enumerate(texts, start=1)]
    groups = console_unanswered.group_questions(rows)
    assert sorted(sorted(g.ids) for g in groups) == [[1, 2, 3], [4], [5], [6, 7]]
