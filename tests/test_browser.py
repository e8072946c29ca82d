"""End to end in a real headless Chromium: `healthbot run` with no config, the page, a reload.

Uses Debian's /usr/bin/chromium through Playwright. Skipped (with the reason) where Chromium is not
installed, unless HEALTHBOT_REQUIRE_BROWSER is set (CI sets it), where a missing browser fails.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).parent.parent


def _free_port(preferred: int = 8080) -> int:
    for port in (preferred, 0):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError("no free port")


@pytest.fixture
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        if os.environ.get("HEALTHBOT_REQUIRE_BROWSER"):
            pytest.fail("Chromium is required here: apt-get install chromium")
        pytest.skip(
            "browser test skipped: Debian's chromium is not installed (apt-get install chromium)"
        )
    return CHROMIUM


@pytest.fixture
async def running_bot(tmp_path: Path) -> AsyncIterator[str]:
    """`healthbot run --demo` exactly as the README says, with no config, in a scratch folder."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEALTHBOT_")}
    env["PYTHONPATH"] = str(ROOT)
    env["HEALTHBOT_DATA_DIR"] = str(tmp_path / "data")  # not the user's own data folder
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--demo",
        "--port",
        str(port),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(150):
            try:
                _r, w = await asyncio.open_connection("127.0.0.1", port)
                w.close()
                break
            except OSError:
                if proc.returncode is not None:
                    out = await proc.stdout.read() if proc.stdout else b""
                    pytest.fail(f"healthbot run exited: {out.decode()[-2000:]}")
                await asyncio.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 10)
    assert proc.returncode == 0, "healthbot stops cleanly on SIGTERM"
    assert (tmp_path / "data" / "healthbot.db").exists(), "the embedded SQLite database was created"


async def test_resident_chats_in_a_real_browser_and_continues_after_reload(
    chromium_path: Path, running_bot: str
) -> None:
    from playwright.async_api import async_playwright, expect

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        page = await browser.new_page(  # a cheap phone set to Vietnamese
            viewport={"width": 360, "height": 740}, locale="vi-VN"
        )
        await page.goto(running_bot)
        await expect(page.locator(".msg.bot").first).to_contain_text("Xin chào")
        await page.get_by_role("button", name="Thông tin sức khỏe").click()
        await page.get_by_role("button", name="Sốt xuất huyết").first.click()
        await expect(page.locator(".msg.bot").last).to_have_text("Sốt xuất huyết")
        live = page.locator(".buttons button:enabled")  # the buttons of the newest answer
        await live.first.click()
        await expect(page.locator(".msg.bot").last).to_contain_text("Nguồn")

        # The page shows typed HTML as text, never as markup.
        await page.fill("#text", "<b>in đậm</b>")
        await page.press("#text", "Enter")
        await expect(page.locator(".msg.me").last).to_have_text("<b>in đậm</b>")
        assert await page.locator(".msg b").count() == 0
        await expect(page.locator(".msg.bot").last).to_contain_text("chưa có thông tin")
        bot_texts = await page.locator(".msg.bot").all_inner_texts()

        await page.reload()
        await expect(page.locator(".msg.bot").last).to_contain_text("chưa có thông tin")
        assert await page.locator(".msg.bot").all_inner_texts() == bot_texts
        await expect(page.locator(".msg.me").last).to_have_text("<b>in đậm</b>")

        # A tap after reload continues the same conversation.
        await page.get_by_role("button", name="Menu chính").last.click()
        await expect(page.locator(".msg.bot").last).to_contain_text("Menu chính")
        await page.screenshot(
            path=str(Path(os.environ.get("HEALTHBOT_SCREENSHOT_DIR", "/tmp")) / "webchat.png")
        )
        await browser.close()


async def test_page_tells_the_resident_when_the_server_is_unreachable(
    chromium_path: Path, running_bot: str
) -> None:
    from playwright.async_api import async_playwright, expect

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        page = await browser.new_page(locale="vi-VN")
        await page.goto(running_bot)
        await expect(page.locator(".msg.bot").first).to_contain_text("Xin chào")
        await page.route("**/api/message", lambda route: route.abort())
        await page.fill("#text", "sốt xuất huyết")
        await page.press("#text", "Enter")
        await expect(page.locator("#status")).to_contain_text("Không kết nối được")
        await browser.close()
