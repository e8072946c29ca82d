"""Screenshots for docs/huong-dan-can-bo.md: the real bot (engine, router, catalogs) answering a
nurse on a throw-away SQLite database, drawn as a phone chat and photographed by headless Chromium.

Run: `.venv/bin/python docs/screens/staff_screens.py` (needs /usr/bin/chromium and Playwright).
Writes docs/img/can-bo-menu.png, can-bo-danh-sach.png, can-bo-phat-tin.png.
"""

from __future__ import annotations

import asyncio
import html
import tempfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import build_bot, build_services
from bot.config import StaffMember, load_settings
from bot.model import TELEGRAM, Inbound, Outbound
from storage.db import upgrade
from storage.models import Ticket

OUT = Path(__file__).resolve().parent.parent / "img"
NURSE = "900001"
NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)  # Monday 10:00 in Hanoi

CSS = """
body { margin: 0; font: 15px/1.35 'DejaVu Sans', sans-serif; background: #dfe7ee; }
.phone { width: 390px; padding: 12px; }
.me, .bot { max-width: 300px; padding: 8px 11px; border-radius: 12px; margin: 6px 0;
            white-space: pre-wrap; box-shadow: 0 1px 1px #0002; }
.me { background: #d9f7c6; margin-left: auto; }
.bot { background: #fff; }
.kb { display: grid; gap: 4px; margin: 4px 0 10px; max-width: 320px; }
.row { display: flex; gap: 4px; }
.btn { flex: 1; background: #5c8fb8; color: #fff; border-radius: 8px; padding: 7px 4px;
       text-align: center; font-size: 13px; }
"""


def bubble(reply: Outbound) -> str:
    parts = [f'<div class="bot">{html.escape(reply.text)}</div>']
    if reply.buttons:
        rows = "".join('<div class="row">' + "".join(
            f'<div class="btn">{html.escape(b.label)}</div>' for b in row) + "</div>"
            for row in reply.buttons)
        parts.append(f'<div class="kb">{rows}</div>')
    return "".join(parts)


async def main() -> None:
    from playwright.async_api import async_playwright

    folder = Path(tempfile.mkdtemp())
    url = f"sqlite+aiosqlite:///{folder / 'screens.db'}"
    await upgrade(url)
    base = load_settings(None, env={})
    settings = replace(base, database=replace(base.database, url=url),
                       staff=[StaffMember("Chị Lan", "staff", telegram_id=NURSE)])
    services = build_services(settings, clock=lambda: NOW)
    bot = build_bot(services)
    async with services.db.sessions() as session, session.begin():
        for n, (text, hours) in enumerate([("Rác thải ở ngõ 5", -3), ("Chờ khám lâu", 4),
                                           ("Ổ bọ gậy trong lốp xe", 20)], start=1):
            session.add(Ticket(code=f"PA-2026-{n:06d}", channel="web", chat_id=f"r{n}",
                               category="other", text=text, status="new",
                               accept_due=NOW + timedelta(hours=hours),
                               resolve_due=NOW + timedelta(days=5),
                               created_at=NOW - timedelta(days=3 - n)))

    async def turn(html_parts: list[str], text: str = "", button: str | None = None) -> None:
        if text:
            html_parts.append(f'<div class="me">{html.escape(text)}</div>')
        inbound = Inbound("telegram", NURSE, NURSE, text=text, button=button)
        for reply in await bot.handle(inbound, TELEGRAM):
            html_parts.append(bubble(reply))

    screens: dict[str, list[str]] = {}
    screens["can-bo-menu"] = parts = []
    await turn(parts, "/canbo")
    screens["can-bo-danh-sach"] = parts = []
    await turn(parts, "/dangmo")
    await turn(parts, button="tko:1")
    screens["can-bo-phat-tin"] = parts = []
    await turn(parts, "/phat")
    await turn(parts, button="bc:text")
    await turn(parts, "Thứ Bảy này trạm khám sức khỏe miễn phí cho người cao tuổi, 7h30–11h.")
    await turn(parts, button="bc:a:area:TDP1")
    await turn(parts, button="bc:w:later")
    await turn(parts, "thứ 6 tuần sau 7h30")
    await services.db.close()

    OUT.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium")
        page = await browser.new_page(viewport={"width": 414, "height": 400})
        for name, body in screens.items():
            await page.set_content(f"<style>{CSS}</style><div class='phone'>{''.join(body)}</div>")
            await page.locator(".phone").screenshot(path=str(OUT / f"{name}.png"))
        await browser.close()
    print("written:", ", ".join(sorted(screens)))


if __name__ == "__main__":
    asyncio.run(main())
