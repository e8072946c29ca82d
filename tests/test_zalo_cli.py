"""`healthbot zalo auth-url` / `exchange-code`: the station connects its OA once, PKCE included."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import aiohttp
import pytest

from storage import tokens
from storage.db import open_database
from tests.fakes.zalo_oa_api import FakeZaloOA

REDIRECT = "https://tram.example.vn/zalo/callback"


@pytest.fixture
async def fake() -> AsyncIterator[FakeZaloOA]:
    async with FakeZaloOA() as server:
        yield server


def write_config(path: Path, db_url: str, fake: FakeZaloOA) -> Path:
    path.write_text(
        f"""
[database]
url = "{db_url}"

[zalo_oa]
app_id = "{fake.app_id}"
app_secret = "{fake.app_secret}"
oa_secret_key = "{fake.oa_secret_key}"
oa_id = "{fake.oa_id}"
oauth_base_url = "{fake.oauth_base_url}"
api_base_url = "{fake.api_base_url}"
redirect_uri = "{REDIRECT}"
""",
        encoding="utf-8",
    )
    return path


async def healthbot(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_auth_url_then_exchange_code_stores_the_tokens(
    db_url: str, fake: FakeZaloOA, tmp_path: Path
) -> None:
    config = str(write_config(tmp_path / "healthbot.toml", db_url, fake))
    status, out, _ = await healthbot("zalo", "auth-url", "--config", config)
    assert status == 0
    url = next(line.strip() for line in out.splitlines() if line.strip().startswith("http"))
    query = parse_qs(urlparse(url).query)
    assert query["app_id"] == [fake.app_id] and query["redirect_uri"] == [REDIRECT]
    assert len(query["code_challenge"][0]) == 43  # base64url(SHA-256) without padding
    # The OA admin approves in the browser; Zalo redirects back with the code.
    async with aiohttp.ClientSession() as http, http.get(url, allow_redirects=False) as answer:
        location = answer.headers["Location"]
    code = parse_qs(urlparse(location).query)["code"][0]
    status, out, err = await healthbot("zalo", "exchange-code", code, "--config", config)
    assert status == 0, err
    assert "Đã kết nối Official Account" in out
    db = open_database(db_url)
    try:
        async with db.sessions() as session:
            pair = await tokens.load_token(session, tokens.ZALO_OA)
    finally:
        await db.close()
    assert pair is not None
    assert pair.access_token in fake.access_tokens and pair.refresh_token in fake.refresh_tokens
    # The code was single-use: a second exchange is refused with a clear message.
    status, _, err = await healthbot("zalo", "exchange-code", code, "--config", config)
    assert status == 1 and "auth-url" in err


async def test_auth_url_needs_the_redirect_uri(
    db_url: str, fake: FakeZaloOA, tmp_path: Path
) -> None:
    config = tmp_path / "healthbot.toml"
    write_config(config, db_url, fake)
    config.write_text(config.read_text().replace(REDIRECT, ""), encoding="utf-8")
    status, _, err = await healthbot("zalo", "auth-url", "--config", str(config))
    assert status == 2 and "redirect_uri" in err


async def test_a_trial_oa_connects_with_an_access_token_only_and_is_warned(
    db_url: str, tmp_path: Path
) -> None:
    """A trial OA gets no refresh token (zalo-api.md 2.2): it connects, and the admin is told
    until when it works and how to reconnect."""
    async with FakeZaloOA(trial=True) as fake:
        config = str(write_config(tmp_path / "healthbot.toml", db_url, fake))
        code = fake.issue_auth_code()
        status, out, err = await healthbot("zalo", "exchange-code", code, "--config", config)
        assert status == 0, err
        assert "dùng thử" in out and "healthbot zalo auth-url" in out
        db = open_database(db_url)
        try:
            async with db.sessions() as session:
                pair = await tokens.load_token(session, tokens.ZALO_OA)
        finally:
            await db.close()
        assert pair is not None and pair.access_token in fake.access_tokens
        assert pair.refresh_token == ""
