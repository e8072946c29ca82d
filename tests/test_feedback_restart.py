"""Killing the process right after the resident confirms loses no ticket: the staff card was
committed with the ticket, and a new Dispatcher after the restart sends it.

A child process runs the real engine up to "Send", prints the code the resident saw, then kills
itself with SIGKILL before any dispatcher ran. The parent plays the restarted process.
"""

from __future__ import annotations

import asyncio
import re
import sys
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select

from bot.app import build_services
from bot.channels.telegram_send import TelegramSender
from bot.config import Settings
from scheduler.dispatcher import Dispatcher
from storage.models import Ticket
from tests.fakes.telegram_api import FakeTelegram
from tests.test_feedback_flow import STAFF_GROUP, with_staff

ROOT = Path(__file__).parent.parent
CHILD = """
import asyncio, os, signal, sys
from dataclasses import replace
from bot.app import build_bot, build_services
from bot.config import load_settings, StaffMember
from bot.model import WEB
from tests.transcript import Transcript

async def main(url):
    base = load_settings(None, env={})
    settings = replace(
        base,
        database=replace(base.database, url=url),
        staff=[StaffMember(name="Y sĩ Lan", role="admin", telegram_id="111")],
        feedback=replace(base.feedback, staff_chat="telegram:STAFF_GROUP"),
    )
    bot = build_bot(build_services(settings))
    chat = Transcript(bot, WEB, "web", "resident-9")
    await chat.say("/gopy")
    await chat.tap("fb:cat:food")
    await chat.say("Quán ăn đầu ngõ bán thức ăn ôi thiu")
    await chat.tap("fb:more")
    await chat.tap("fb:anon")
    await chat.tap("fb:send")
    print(chat.text, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(main(sys.argv[1]))
""".replace("STAFF_GROUP", STAFF_GROUP)


async def test_ticket_and_staff_card_survive_a_kill_after_confirmation(
    settings: Settings, db_url: str
) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, db_url, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(child.communicate(), 60)
    assert child.returncode == -9, err.decode()[-2000:]
    assert re.search(r"PA-\d{4}-000001", out.decode())  # the resident saw the code

    async with FakeTelegram(flood_limits=None) as fake:
        restarted = with_staff(settings)
        restarted = replace(
            restarted,
            telegram=replace(restarted.telegram, token=fake.token, api_base_url=fake.bot_api_url),
        )
        services = build_services(restarted)
        sender = TelegramSender.from_settings(restarted)
        try:
            async with services.db.sessions() as session:
                ticket = (await session.execute(select(Ticket))).scalar_one()
            await Dispatcher(services.db, {"telegram": sender}).drain()
            (card,) = fake.sent_to(int(STAFF_GROUP))
            assert ticket.code in card.text and "ôi thiu" in card.text
            assert "KHẨN" in card.text  # food safety is urgent by default
        finally:
            await sender.close()
            await services.db.close()
