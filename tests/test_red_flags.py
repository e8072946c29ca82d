"""Red flags first: danger is answered with what to do now, before any state, menu or topic.

The two data files are the acceptance bar of issue 12: every line of tests/data/red_flags.tsv
must get its urgent instruction in the first lines of the first reply (zero misses), and the
ordinary questions of tests/data/near_misses.tsv must raise no alarm.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.model import ZALO_BOT
from bot.safety import red_flag_match
from content.library import default_library
from content.matching import Matcher
from content.red_flags import detect, load_rules
from tests.transcript import Transcript

DATA = Path(__file__).parent / "data"
FIRST_LINES = 3  # the urgent instruction must be here, not under a paragraph of background
NEAR_MISS_BAR = 0.97

# What "the urgent instruction" is for each kind, in Vietnamese and in English.
URGENT: dict[str, tuple[str, str]] = {
    "animal_bite": ("xà phòng", "soap"),
    "dengue_warning": ("bệnh viện NGAY", "hospital NOW"),
    "hfmd_warning": ("bệnh viện NGAY", "hospital NOW"),
    "food_poisoning_now": ("115", "115"),
    "child_fever_danger": ("bệnh viện ngay", "hospital now"),
}
DEFAULT_URGENT = ("115", "115")


def rows(name: str) -> list[tuple[str, str]]:
    out = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            question, label = line.split("\t")
            out.append((question, label))
    return out


RED_FLAGS = rows("red_flags.tsv")
NEAR_MISSES = rows("near_misses.tsv")


def test_the_data_files_are_as_large_and_varied_as_the_issue_asks() -> None:
    assert len(RED_FLAGS) >= 200 and len(NEAR_MISSES) >= 150
    english = [q for q, _ in RED_FLAGS if detect(q) is not None and detect(q).english]  # type: ignore[union-attr]
    assert len(english) >= 0.25 * len(RED_FLAGS)
    vietnamese = [q for q, _ in RED_FLAGS if q not in english]
    plain = [q for q in vietnamese if q.isascii()]
    assert len(plain) >= 0.5 * len(vietnamese), "half the Vietnamese typed without diacritics"
    kinds = {rule.kind for rule in load_rules().rules} | {"hypertensive_crisis", "infant_fever"}
    assert {kind for _, kind in RED_FLAGS} == kinds, "every kind of danger is tested"


def test_every_rule_answers_with_an_approved_entry_of_the_library() -> None:
    library = default_library()
    rules = load_rules()
    for entry_id in [r.entry_id for r in rules.rules] + [rules.bp_entry, rules.infant_entry]:
        assert library.has_entry(entry_id) and library.entry(entry_id).approved, entry_id


async def test_every_red_flag_gets_the_urgent_instruction_first(healthbot) -> None:
    chat = Transcript(healthbot)
    misses = []
    for question, kind in RED_FLAGS:
        await chat.say(question)
        first = chat.replies[0]
        head = "\n".join(first.text.splitlines()[:FIRST_LINES])
        vi, en = URGENT.get(kind, DEFAULT_URGENT)
        flag = detect(question)
        if flag is None or flag.kind != kind or (vi not in head and en not in head):
            misses.append((question, kind, flag and flag.kind, head[:80]))
    print(f"red flags: {len(RED_FLAGS)} questions, {len(misses)} misses")
    assert misses == []


async def test_suicide_gets_a_calm_answer_with_hotlines_never_a_health_check(
    healthbot, settings
) -> None:
    chat = Transcript(healthbot)
    for question in ("tôi muốn tự tử", "toi ko muon song nua", "I want to kill myself"):
        await chat.say(question)
        (answer,) = chat.replies
        assert "115" in answer.text and "111" in answer.text
        assert settings.station.phone in answer.text
        assert "tin tưởng" in answer.text or "trust" in answer.text
        assert answer.topic == "emergency" and answer.source
        targets = {b.data for b in chat.buttons()}
        assert not any(t.startswith(("e:health-check", "e:hypertension", "t:")) for t in targets)
        assert "khám sức khỏe" not in answer.text.lower()


async def test_english_red_flag_is_answered_in_english_and_vietnamese_in_vietnamese(
    healthbot,
) -> None:
    chat = Transcript(healthbot)
    await chat.say("my child is having a seizure")
    assert chat.replies[0].text.startswith("🚑 Someone is having a seizure: call 115 now")
    await chat.say("con tôi đang co giật")
    assert chat.replies[0].text.startswith("🚑 Người đang co giật: gọi ngay 115")


@pytest.mark.parametrize(
    ("reading", "alarm"),
    [
        ("huyết áp 185/115", True),
        ("huyet ap 180/90", True),
        ("HA 18/11", True),  # residents write cmHg
        ("bp 120 over 115", True),
        ("huyết áp lên 200", True),
        ("huyết áp 120/80 có bình thường không", False),
        ("huyet ap 140/90 la cao chua", False),
        ("huyết áp 17/10", False),
        ("người 18 tuổi huyết áp bao nhiêu", False),
        ("hẹn ngày 18/11 đo huyết áp", False),
        ("lịch 17/5 ngày tăng huyết áp thế giới", False),
    ],
)
def test_blood_pressure_numbers_are_read(reading: str, alarm: bool) -> None:
    flag = detect(reading)
    assert (flag is not None and flag.kind == "hypertensive_crisis") is alarm, flag


@pytest.mark.parametrize(
    ("question", "alarm"),
    [
        ("bé 2 tháng bị sốt", True),
        ("con 10 ngày tuổi sốt", True),
        ("baby 8 weeks old with a fever", True),
        ("bé 5 tháng sốt 38 độ", False),  # not under 3 months (still a fever question)
        ("bé 5 tuổi sốt 2 ngày", False),  # "2 ngày" is how long, not how old
        ("sốt 2 ngày rồi", False),
    ],
)
def test_a_babys_age_with_fever_is_read(question: str, alarm: bool) -> None:
    flag = detect(question)
    assert (flag is not None and flag.kind == "infant_fever") is alarm, flag


def test_near_misses_raise_no_alarm() -> None:
    alarms = [(q, detect(q).kind) for q, _ in NEAR_MISSES if detect(q) is not None]  # type: ignore[union-attr]
    share = 1 - len(alarms) / len(NEAR_MISSES)
    print(f"near misses: {len(NEAR_MISSES)} questions, {len(alarms)} alarms ({share:.1%} quiet)")
    assert share >= NEAR_MISS_BAR, alarms


def test_near_misses_get_their_ordinary_topic() -> None:
    matcher = Matcher(default_library())
    wrong = []
    for question, topic in NEAR_MISSES:
        got = matcher.match(question).topic
        if detect(question) is not None or (topic != "-" and got != topic):
            wrong.append((question, topic, got))
    share = 1 - len(wrong) / len(NEAR_MISSES)
    print(f"near misses: {share:.1%} with their ordinary topic and no alarm; wrong: {wrong}")
    assert share >= NEAR_MISS_BAR


async def test_red_flag_wins_over_the_feedback_flow_which_resumes_after(healthbot) -> None:
    chat = Transcript(healthbot)
    await chat.say("/gopy")  # the flow waits for a category
    await chat.say("con tôi đang co giật")
    (answer,) = chat.replies
    assert answer.text.startswith("🚑 Người đang co giật: gọi ngay 115")
    assert "tiếp tục" in answer.text  # the flow was kept, and the resident is told so
    await chat.send(button="fb:cat:waiting")  # the flow goes on where it was
    await chat.say("Chờ tiêm chủng 2 tiếng")
    assert "fb:more" in {b.data for b in chat.buttons()}, "the description step took the text"


async def test_a_complaint_telling_of_an_emergency_gets_the_answer_and_is_still_taken(
    healthbot,
) -> None:
    chat = Transcript(healthbot)
    await chat.say("/gopy")
    await chat.send(button="fb:cat:waiting")
    await chat.say("Hôm qua con tôi co giật mà chờ 2 tiếng không ai khám")
    first, *rest = chat.replies
    assert first.text.startswith("🚑 Người đang co giật: gọi ngay 115")
    assert rest and "fb:more" in {b.data for b in chat.buttons()}, "the complaint was taken"


async def test_red_flag_wins_over_a_numbered_menu_on_zalo(healthbot) -> None:
    chat = Transcript(healthbot, caps=ZALO_BOT, channel="zalo_bot", chat_id="zalo-1")
    await chat.say("/menu")
    assert "1." in chat.text or "1 " in chat.text
    await chat.say("bi cho can phai lam gi")
    assert "xà phòng" in "\n".join(chat.replies[0].text.splitlines()[:FIRST_LINES])
    await chat.say("huyet ap 180/110 dau dau chong mat")
    assert "115" in chat.replies[0].text.splitlines()[0]


async def test_a_red_flag_inside_a_command_is_still_a_red_flag(healthbot) -> None:
    chat = Transcript(healthbot)
    await chat.say("/hoi be bi co giat")
    assert chat.replies[0].text.startswith("🚑 Người đang co giật: gọi ngay 115")


# The table of issue 12, as measured with `healthbot ask` before the layer existed.
ISSUE_TABLE = [
    ("tôi muốn tự tử", "emergency.self-harm"),
    ("con bị co giật", "emergency.seizure"),
    ("my child is having a seizure", "emergency.seizure"),
    ("bị chó cắn phải tiêm gì", "emergency.animal-bite"),
    ("bi cho can phai lam gi", "emergency.animal-bite"),
    ("huyet ap 180/110 dau dau chong mat", "emergency.hypertensive-crisis"),
    ("huyết áp 190/120 đau đầu dữ dội", "emergency.hypertensive-crisis"),
    ("bé nhà em bị nôn nhiều, sốt 4 ngày rồi", "dengue.warning-signs"),
]


def test_the_issue_table_is_answered_with_the_danger_entry() -> None:
    library = default_library()
    for question, entry_id in ISSUE_TABLE:
        match = red_flag_match(library, question)
        assert match is not None and match.entry is not None, question
        assert match.entry.id == entry_id, question


def test_healthbot_ask_puts_danger_first_like_the_chat() -> None:
    from tests.test_cli import healthbot

    for question, entry_id in ISSUE_TABLE[::3]:  # a few: each run starts a process
        result = healthbot("ask", "--json", question)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["entry"] == entry_id, question


@pytest.fixture
async def staffed_bot(settings, clock):  # noqa: ANN001, ANN201
    from dataclasses import replace

    from bot.app import build_bot, build_services
    from bot.config import StaffMember

    staffed = replace(settings, staff=[StaffMember("Chị Lan", "staff", telegram_id="9001")])
    services = build_services(staffed, clock=clock)
    yield build_bot(services)
    await services.db.close()


async def test_staff_writing_an_alert_about_danger_signs_is_not_interrupted(staffed_bot) -> None:
    from bot.model import TELEGRAM

    staff = Transcript(staffed_bot, TELEGRAM, "telegram", "9001")
    await staff.say("/khancap")
    await staff.tap("bc:text")
    await staff.say(
        "Sốt xuất huyết tăng: trẻ sốt kèm nôn nhiều, đau bụng, li bì phải đi viện ngay."
    )
    assert not staff.text.startswith("Sốt xuất huyết hay trở nặng")  # not the red-flag answer
    assert any(b.data.startswith("bc:a:") for b in staff.buttons()), "the alert flow went on"
    # A staff member's own private question is still checked like anyone's.
    await staff.say("/huy")
    await staff.say("tôi muốn tự tử")
    assert "111" in staff.text
