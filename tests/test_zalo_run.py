"""`healthbot run` with both Zalo channels configured against local fakes: wired, answering, quiet logs."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage import tokens
from storage.db import open_database, upgrade
from tests.fakes.zalo_bot_api import FakeZaloBot
from tests.fakes.zalo_oa_api import FakeZaloOA
from tests.test_zalo_bot import free_port

ROOT = Path(__file__).resolve().parents[1]
STARTUP_SECONDS = 60.0
RESIDENT = "6ede9afa66b88fe6d6a9"


async def test_healthbot_run_serves_zalo_bot_and_oa(tmp_path: Path) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'hb.db'}"
    port = free_port()
    async with FakeZaloBot() as zbot, FakeZaloOA() as oa:
        await upgrade(db_url)
        access, refresh = oa.issue_tokens()
        db = open_database(db_url)
        async with db.sessions() as session, session.begin():
            expiry = datetime.now(UTC) + timedelta(hours=25)
            await tokens.save_token(session, tokens.ZALO_OA, access, refresh, expiry)
        await db.close()
        config = tmp_path / "healthbot.toml"
        config.write_text(
            f'[database]\nurl = "{db_url}"\n\n[web]\nport = {port}\n\n'
            f'[zalo_bot]\ntoken = "{zbot.token}"\napi_base_url = "{zbot.bot_api_url}"\n\n'
            f'[zalo_oa]\napp_id = "{oa.app_id}"\napp_secret = "{oa.app_secret}"\n'
            f'oa_secret_key = "{oa.oa_secret_key}"\noa_id = "{oa.oa_id}"\n'
            f'oauth_base_url = "{oa.oauth_base_url}"\napi_base_url = "{oa.api_base_url}"\n',
            encoding="utf-8",
        )
        oa.webhook_url = f"http://127.0.0.1:{port}/zalo/oa/webhook"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ZALO_", "TELEGRAM_"))}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--demo", "--config", str(config), cwd=ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        try:
            await zbot.wait_for_poll(timeout=STARTUP_SECONDS)
            await zbot.push_text(RESIDENT, "/start")
            (greeting,) = await zbot.wait_for_sent(RESIDENT, timeout=15)
            assert "Gõ số để chọn:" in (greeting.text or "")
            for _ in range(100):  # the web server starts right after the channels
                delivery = await oa.send_text("8171934537203385927", "/menu")
                if delivery.status:
                    break
                await asyncio.sleep(0.1)
            assert delivery.status == 200
            await oa.wait_for_sent("8171934537203385927", timeout=15)
            process.send_signal(signal.SIGTERM)
            out, err = await asyncio.wait_for(process.communicate(), timeout=20)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert process.returncode == 0, err.decode()[-2000:]
    logs = (out + err).decode()
    for secret in (zbot.token, access, refresh, oa.oa_secret_key, oa.app_secret):
        assert secret not in logs  # no token or key is ever logged
    assert "Traceback" not in logs
