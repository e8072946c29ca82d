"""Polling stays one worker per bot token: two pollers on one token are told so in plain words."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.fakes.telegram_api import FakeTelegram
from tests.test_telegram_e2e import free_port
from tests.test_workers import start_worker

STATION = ('[station]\nname = "Trạm Y tế phường Thử Nghiệm"\nward = "Phường Thử Nghiệm"\n'
           'address = "Số 2 đường Thử Nghiệm"\nphone = "024 3756 1234"\n\n')


async def test_a_second_poller_on_the_same_token_is_named_as_the_cause(tmp_path: Path) -> None:
    async with FakeTelegram(flood_limits=None) as fake:
        logs, procs = [], []
        for n in range(2):
            config = tmp_path / f"poller{n}.toml"
            config.write_text(
                STATION + f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / f"p{n}.db"}"\n\n'
                f"[web]\nport = {free_port()}\n\n"
                f'[telegram]\ntoken = "{fake.token}"\napi_base_url = "{fake.bot_api_url}"\n',
                encoding="utf-8",
            )
            logs.append(tmp_path / f"poller{n}.log")
            procs.append(await start_worker(config, logs[-1]))
        try:
            for _ in range(600):
                text = "".join(log.read_text(errors="replace") for log in logs if log.exists())
                if "another process is polling this bot token" in text:
                    break
                await asyncio.sleep(0.1)
        finally:
            for proc in procs:
                proc.terminate()
            await asyncio.gather(*(asyncio.wait_for(p.wait(), 30) for p in procs))
    text = "".join(log.read_text(errors="replace") for log in logs)
    assert "another process is polling this bot token" in text
    assert 'webhook mode (mode = "webhook"' in text
    assert fake.token not in text
