"""`healthbot run` with `api_base_url` pointing at a local Bot API server works with no other change."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import aiohttp

from tests.fakes.telegram_api import FakeTelegram
from tests.test_telegram_e2e import free_port

ROOT = Path(__file__).resolve().parents[1]
STARTUP_SECONDS = 60.0


def write_config(tmp_path: Path, fake: FakeTelegram, web_port: int) -> Path:
    config = tmp_path / "healthbot.toml"
    config.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "hb.db"}"\n\n'
        f"[web]\nport = {web_port}\n\n"
        f'[telegram]\ntoken = "{fake.token}"\napi_base_url = "{fake.bot_api_url}"\n',
        encoding="utf-8",
    )
    return config


async def start_healthbot(config: Path) -> asyncio.subprocess.Process:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--demo",
        "--config",
        str(config),
        cwd=ROOT,
        env=env | {"PTB_TIMEDELTA": "1"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def greet_then_stop(fake: FakeTelegram, process: asyncio.subprocess.Process
                          ) -> tuple[bytes, bytes]:
    """Once the bot polls: a resident's /start is greeted; then SIGTERM; returns (stdout, stderr)."""
    try:
        await fake.wait_for_poll(timeout=STARTUP_SECONDS)
        await fake.push_message(4242, 4242, "/start", first_name="Hoa")
        (greeting,) = await fake.wait_for_sent(4242, timeout=15)
        assert "115" in greeting.text and greeting.callback_data
        process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(process.communicate(), timeout=20)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_healthbot_run_polls_a_local_bot_api_and_stops_cleanly(tmp_path: Path) -> None:
    async with FakeTelegram(flood_limits=None) as fake:
        process = await start_healthbot(write_config(tmp_path, fake, free_port()))
        out, err = await greet_then_stop(fake, process)
        assert process.returncode == 0, err.decode()[-2000:]
        logs = (out + err).decode()
        assert fake.token not in logs  # the token is never logged
        assert "Traceback" not in logs


async def test_telegram_unreachable_at_start_does_not_stop_the_bot(tmp_path: Path) -> None:
    """No internet at boot: web chat serves at once, Telegram connects when the API is back."""
    api_port, web_port = free_port(), free_port()
    fake = FakeTelegram(flood_limits=None, port=api_port)  # not listening yet
    process = await start_healthbot(write_config(tmp_path, fake, web_port))
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(int(STARTUP_SECONDS * 10)):
                try:
                    async with http.get(f"http://127.0.0.1:{web_port}/") as page:
                        if page.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the web chat did not come up while Telegram was down")
    except BaseException:
        process.kill()
        await process.wait()
        raise
    async with fake:  # the Bot API comes back
        out, err = await greet_then_stop(fake, process)
    logs = (out + err).decode()
    assert process.returncode == 0, logs[-2000:]
    assert "unreachable" in logs and fake.token not in logs


async def test_a_refused_token_stops_with_a_clear_configuration_error(tmp_path: Path) -> None:
    async with FakeTelegram(flood_limits=None) as fake:
        config = write_config(tmp_path, fake, free_port())
        config.write_text(config.read_text().replace(fake.token, "123456:not-the-real-token"))
        process = await start_healthbot(config)
        out, err = await asyncio.wait_for(process.communicate(), timeout=STARTUP_SECONDS)
    assert process.returncode == 2
    assert "configuration error: [telegram] token" in err.decode()
    assert "not-the-real-token" not in (out + err).decode()
