"""Running healthbot without traps: one data folder whatever the current folder, and no resident
ever shown the placeholder station outside an explicit demo mode."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.paths import DATA_DIR_ENV
from storage.db import upgrade
from tests.test_feedback_flow import file_feedback
from tests.transcript import Transcript

ROOT = Path(__file__).resolve().parents[1]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HEALTHBOT_", "TELEGRAM_", "ZALO_"))}
    return env | {"PYTHONPATH": str(ROOT)} | extra


async def healthbot(*args: str, cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


def test_the_default_database_does_not_depend_on_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {DATA_DIR_ENV: str(tmp_path / "data")}
    monkeypatch.chdir(tmp_path)
    here = load_settings(None, env=env).database.url
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert load_settings(None, env=env).database.url == here
    assert here == f"sqlite+aiosqlite:///{tmp_path / 'data' / 'healthbot.db'}"
    # Without the variable: the platform's user data folder, an absolute path all the same.
    default = load_settings(None, env={}).database.url
    assert Path(default.removeprefix("sqlite+aiosqlite:///")).is_absolute()


def test_a_relative_sqlite_path_in_a_config_file_is_read_from_the_file_s_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "etc" / "healthbot.toml"
    config.parent.mkdir()
    config.write_text('[database]\nurl = "sqlite+aiosqlite:///db/hb.db"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    url = load_settings(config, env={}).database.url
    assert url == f"sqlite+aiosqlite:///{tmp_path / 'etc' / 'db' / 'hb.db'}"


async def test_tickets_listed_from_another_folder_are_the_bot_s_tickets(tmp_path: Path) -> None:
    """The trap of the issue: `healthbot tickets` run elsewhere printed "no tickets"."""
    from bot.app import build_bot, build_services
    from bot.model import WEB

    env = clean_env(**{DATA_DIR_ENV: str(tmp_path / "data")})
    settings = load_settings(None, env=env)
    await upgrade(settings.database.url)
    services = build_services(settings)
    try:
        await file_feedback(Transcript(build_bot(services), WEB, "web", "r1"), photo=False)
    finally:
        await services.db.close()
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        code, out, err = await healthbot("tickets", "--json", cwd=tmp_path / folder, env=env)
        assert code == 0, err
        assert len(json.loads(out)) == 1  # the ticket filed above, from either folder


async def test_run_refuses_the_placeholder_station_outside_demo_mode(tmp_path: Path) -> None:
    env = clean_env(**{DATA_DIR_ENV: str(tmp_path / "data")})
    code, _out, err = await healthbot("run", "--port", str(free_port()), cwd=tmp_path, env=env)
    assert code == 2
    assert "station.phone" in err and "--demo" in err and "0243 000 0000" in err


async def test_demo_mode_serves_the_placeholder_and_says_so(tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(**{DATA_DIR_ENV: str(tmp_path / "data"), "HEALTHBOT_DEMO": "1"})
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--port", str(port), cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        await wait_for_port(port, proc)
        assert (tmp_path / "data" / "healthbot.db").exists()
    finally:
        proc.terminate()
        _out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert "DEMO mode" in err.decode()


def test_a_filled_in_station_needs_no_demo_mode() -> None:
    from bot.config import Station
    from bot.placeholders import check_station_for_residents, placeholder_fields

    settings = load_settings(None, env={})
    assert placeholder_fields(settings) == ["name", "ward", "address", "phone"]
    real = replace(settings, station=Station(
        name="Trạm Y tế phường Nghĩa Đô", ward="Phường Nghĩa Đô",
        address="Số 20 ngõ 46 Hoàng Quốc Việt", phone="024 3756 1234"))
    assert check_station_for_residents(real, demo=False) == []
    half = replace(real, station=replace(real.station, phone=Station().phone))
    with pytest.raises(Exception, match="station.phone"):
        check_station_for_residents(half, demo=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_for_port(port: int, proc: asyncio.subprocess.Process, seconds: float = 30) -> None:
    for _ in range(int(seconds * 10)):
        if proc.returncode is not None:
            _out, err = await proc.communicate()
            pytest.fail(f"healthbot run exited: {err.decode()[-2000:]}")
        try:
            _r, w = await asyncio.open_connection("127.0.0.1", port)
            w.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    pytest.fail("healthbot run did not open its port")
