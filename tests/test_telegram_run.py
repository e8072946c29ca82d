"""`healthbot run` with `api_base_url` pointing at a local Bot API server works with no other change."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.fakes.telegram_api import FakeTelegram
from tests.test_telegram_e2e import free_port

ROOT = Path(__file__).resolve().parents[1]
STARTUP_SECONDS = 60.0


async def test_healthbot_run_polls_a_local_bot_api_and_stops_cleanly(tmp_path: Path) -> None:
    async with FakeTelegram(flood_limits=None) as fake:
        config = tmp_path / "healthbot.toml"
        config.write_text(
            f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "hb.db"}"\n\n'
            f"[web]\nport = {free_port()}\n\n"
            f'[telegram]\ntoken = "{fake.token}"\napi_base_url = "{fake.bot_api_url}"\n',
            encoding="utf-8",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--config",
            str(config),
            cwd=ROOT,
            env=env | {"PTB_TIMEDELTA": "1"},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await fake.wait_for_poll(timeout=STARTUP_SECONDS)
            await fake.push_message(4242, 4242, "/start", first_name="Hoa")
            (greeting,) = await fake.wait_for_sent(4242, timeout=15)
            assert "115" in greeting.text and greeting.callback_data
            process.send_signal(signal.SIGTERM)
            out, err = await asyncio.wait_for(process.communicate(), timeout=20)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        assert process.returncode == 0, err.decode()[-2000:]
        logs = (out + err).decode()
        assert fake.token not in logs  # the token is never logged
        assert "Traceback" not in logs
