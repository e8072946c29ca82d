"""`/baocao` on Zalo, end to end over HTTP (issue 17).

Zalo OA: the DOCX is uploaded (`/v2.0/oa/upload/file`) and sent as a file message; the XLSX, which
the OA upload refuses (PDF/DOC/DOCX only), comes as a one-time link served by the bot's web app.
Zalo Bot (no file method): both files as one-time links.
"""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.app import build_web_app
from bot.channels.zalo_oa_send import OAApiError
from bot.config import Settings, StaffMember
from bot.engine import HealthBot
from tests.fakes.zalo_bot_api import FakeZaloBot
from tests.fakes.zalo_oa_api import FakeZaloOA
from tests.report_seed import seed
from tests.test_zalo_bot import running_bot as running_zalo_bot
from tests.test_zalo_bot import say as say_zalo_bot
from tests.test_zalo_oa import running_bot as running_oa_bot
from tests.test_zalo_oa import say as say_oa
from tests.test_zalo_oa import seed_tokens

NURSE_OA, NURSE_BOT = "8171934537203380001", "zl-nurse-report"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LINK = re.compile(r"(bao-cao-2026-H1\.\w+): (http://\S+/tai-bao-cao/\S+)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def with_staff(settings: Settings, port: int) -> Settings:
    staff = [StaffMember("Chị Lan", "staff", zalo_oa_id=NURSE_OA, zalo_bot_id=NURSE_BOT)]
    posters = replace(settings.posters, web_url=f"http://127.0.0.1:{port}/")
    return replace(settings, staff=staff, posters=posters)


@asynccontextmanager
async def web_app(bot: HealthBot, port: int) -> AsyncIterator[None]:
    runner = web.AppRunner(build_web_app(bot), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield
    finally:
        await runner.cleanup()


async def download(url: str) -> tuple[int, str, bytes]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.read()


@pytest.fixture
async def oa_fake(clock: object) -> AsyncIterator[FakeZaloOA]:
    async with FakeZaloOA(clock=lambda: clock.now.timestamp()) as server:  # type: ignore[attr-defined]
        yield server


async def test_zalo_oa_staff_get_the_docx_as_a_file_and_the_xlsx_by_link(
        settings: Settings, oa_fake: FakeZaloOA, clock: object) -> None:
    port = free_port()
    async with running_oa_bot(with_staff(settings, port), oa_fake, clock) as oa, \
            web_app(oa.bot, port):
        await seed_tokens(oa.db, oa_fake, clock)
        async with oa.db.sessions() as session, session.begin():
            await seed(session)
        summary, document = await say_oa(oa_fake, "/baocao 2026-H1", user=NURSE_OA, expect=2)
        assert "Báo cáo 2026-H1: đã gửi đến 7 tin, nhận 7 phản ánh" in (summary.text or "")
        assert document.file is not None and document.endpoint == "message/cs"
        assert (document.file.filename, document.file.content_type) == (
            "bao-cao-2026-H1.docx", DOCX)
        assert document.file.content.startswith(b"PK") and document.file.size > 5000
        assert [c.params["filename"] for c in oa_fake.calls_to("upload/file")] == [
            "bao-cao-2026-H1.docx"]
        (name, url), = LINK.findall(summary.text or "")
        assert name == "bao-cao-2026-H1.xlsx" and "một lần" in (summary.text or "")
        status, kind, body = await download(url)
        assert (status, kind) == (200, XLSX) and body.startswith(b"PK")
        again, _kind, page = await download(url)  # one time only
        assert again == 410 and "đã được dùng hoặc đã hết hạn" in page.decode()


async def test_the_oa_upload_refuses_other_types_and_big_files(
        settings: Settings, oa_fake: FakeZaloOA, clock: object, tmp_path: Path) -> None:
    sheet, big = tmp_path / "bang.xlsx", tmp_path / "lon.docx"
    sheet.write_bytes(b"PK" + b"0" * 100)
    big.write_bytes(b"PK" + b"0" * (5 * 1024 * 1024))
    async with running_oa_bot(settings, oa_fake, clock) as oa:
        await seed_tokens(oa.db, oa_fake, clock)
        client = oa.bot.services.extras["senders"]["zalo_oa"].client
        for path, code in ((sheet, -201), (big, -210)):
            with pytest.raises(OAApiError) as refused:
                await client.upload_file(path)
            assert refused.value.code == code
        assert oa_fake.file_uploads == {}


async def test_zalo_bot_staff_get_both_files_by_one_time_links(
        settings: Settings, clock: object) -> None:
    port = free_port()
    async with FakeZaloBot() as fake, \
            running_zalo_bot(with_staff(settings, port), fake, clock, mode="polling") as zb, \
            web_app(zb.bot, port):
        async with zb.bot.services.db.sessions() as session, session.begin():
            await seed(session)
        (reply,) = await say_zalo_bot(fake, "/baocao 2026-H1", user=NURSE_BOT)
        links = dict(LINK.findall(reply.text or ""))
        assert sorted(links) == ["bao-cao-2026-H1.docx", "bao-cao-2026-H1.xlsx"]
        status, kind, _body = await download(links["bao-cao-2026-H1.docx"])
        assert (status, kind) == (200, DOCX)
        status, kind, _body = await download(links["bao-cao-2026-H1.xlsx"])
        assert (status, kind) == (200, XLSX)


async def test_zalo_oa_without_a_public_address_gets_the_docx_and_a_pointer(
        settings: Settings, oa_fake: FakeZaloOA, clock: object) -> None:
    no_web = with_staff(settings, 0)
    no_web = replace(no_web, posters=replace(no_web.posters, web_url=""))
    async with running_oa_bot(no_web, oa_fake, clock) as oa:
        await seed_tokens(oa.db, oa_fake, clock)
        async with oa.db.sessions() as session, session.begin():
            await seed(session)
        summary, document = await say_oa(oa_fake, "/baocao 2026-H1", user=NURSE_OA, expect=2)
        assert document.file is not None and document.file.filename == "bao-cao-2026-H1.docx"
        assert "Tệp còn lại không gửi được qua kênh này" in (summary.text or "")
        assert "tai-bao-cao" not in (summary.text or "")
