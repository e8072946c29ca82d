"""Outbreak alert templates in /khancap: pick one, type the place, and residents get the alert with
the urgent marker, the station's phone, 115, its source and the review date."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from bot.alert_templates import load_templates
from bot.app import build_bot, build_services
from bot.config import Settings, StaffMember
from bot.model import TELEGRAM
from storage import people
from storage.models import Outbox
from tests.transcript import Transcript

STAFF_ID = "9001"


@pytest.fixture
async def bot(settings: Settings, clock):  # noqa: ANN001, ANN201
    staffed = replace(settings, staff=[StaffMember("Chị Lan", "staff", telegram_id=STAFF_ID)])
    services = build_services(staffed, clock=clock)
    yield build_bot(services)
    await services.db.close()


def test_every_template_has_a_place_a_source_and_no_dosage() -> None:
    templates = load_templates()
    assert {t.id for t in templates} >= {"dengue-cluster", "water-supply", "food-poisoning"}
    for t in templates:
        assert "{place}" in t.text and t.source
        assert "mg" not in t.text  # templates never carry dosages
        filled = t.fill("TDP1", "0243 000 0000")
        assert "115" in filled and "Nguồn:" in filled and "Rà soát:" in filled


async def test_a_dengue_cluster_alert_from_the_template(bot) -> None:  # noqa: ANN001
    async with bot.services.db.sessions() as session, session.begin():
        group = await people.ensure_chat(session, "telegram", "-700", "group", None)
        group.area_code = "TDP1"
    nurse = Transcript(bot, TELEGRAM, "telegram", STAFF_ID)
    await nurse.say("/khancap")
    await nurse.tap("Dùng mẫu tin khẩn (ổ dịch, nước, ngộ độc…)")
    await nurse.tap("Ổ dịch sốt xuất huyết")
    assert "Ở đâu?" in nurse.text and "Huỷ" in [b.label for b in nurse.buttons()]
    await nurse.say("Tổ dân phố 1, ngõ 5")
    await nurse.tap("bc:a:area:TDP1")
    assert "Ghi nhận ổ dịch sốt xuất huyết tại Tổ dân phố 1, ngõ 5" in nurse.text
    await nurse.tap("bc:ok")
    async with bot.services.db.sessions() as session:
        (row,) = (await session.execute(select(Outbox))).scalars().all()
    text = row.payload["text"]
    assert text.startswith("🚨 KHẨN") and row.urgent
    assert "Đậy kín mọi dụng cụ chứa nước" in text and "Nguồn: Bộ Y tế" in text
