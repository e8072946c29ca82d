"""The report names plan items, never their internal ids (issue 17): an item without `serves`
shows its topic's title; an item the plan no longer has shows its messages' topic, or a plain
"no longer in the plan"."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from docx import Document

from bot.report.figures import parse_period
from bot.report.files import make_report
from content.library import load_library
from scheduler.plan import load_plan
from storage.db import open_database
from storage.models import BroadcastRecord
from tests.report_seed import local, seed
from tests.test_report_files import all_text

PLAN = """version: 1
campaigns:
  - id: tiem-chung
    topic: vaccination
    window: {yearly: {start: "01-01", end: "31-12"}}
    rhythm: {weekly: {days: [mon], time: "08:00"}}
    audience: {groups: all, subscribers_of: vaccination, language: any}
    messages: [vaccination.schedule]
"""


def plan_items_table(path: Path) -> dict[str, str]:
    doc = Document(str(path))
    for table in doc.tables:
        if table.rows and table.rows[0].cells[0].text == "Nội dung kế hoạch":
            return {r.cells[0].text: r.cells[1].text for r in table.rows[1:]}
    raise AssertionError("no plan items table")


async def make(settings, tmp_path: Path, plan):  # noqa: ANN001, ANN201
    db = open_database(settings.database.url)
    async with db.sessions() as session, session.begin():
        await seed(session)
        # A campaign since removed from the plan, whose message is the library's dengue entry.
        session.add(BroadcastRecord(kind="campaign", scheduled_at=local(2026, 4, 2, 8),
                                    created_at=local(2026, 4, 2, 8), status="queued",
                                    created_by="plan:old-dengue",
                                    message_id="dengue.prevention"))
    async with db.sessions() as session:
        files = await make_report(session, settings, parse_period("2026-H1"), tmp_path,
                                  formats=("docx",), library=load_library(), plan=plan,
                                  issued_on=date(2026, 7, 8))
    await db.close()
    return files.paths[0]


async def test_a_plan_item_without_a_name_shows_its_topic_title(settings, tmp_path) -> None:  # noqa: ANN001
    (tmp_path / "plan.yaml").write_text(PLAN, encoding="utf-8")
    plan = load_plan(tmp_path / "plan.yaml")
    docx = await make(settings, tmp_path, plan)
    assert plan_items_table(docx) == {"Tiêm chủng": "2", "Sốt xuất huyết": "1"}
    text = all_text(Document(str(docx)))
    assert "tiem-chung" not in text and "old-dengue" not in text


async def test_without_the_plan_no_internal_code_shows(settings, tmp_path) -> None:  # noqa: ANN001
    docx = await make(settings, tmp_path, None)
    # msg-vaccine is not in the library: nothing names the item but the plan, which is gone.
    assert plan_items_table(docx) == {"Chiến dịch không còn trong kế hoạch": "2",
                                      "Sốt xuất huyết": "1"}
    assert "tiem-chung" not in all_text(Document(str(docx)))
