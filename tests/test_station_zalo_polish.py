"""Loose ends of the stations' own Zalo channels (issue 21).

- the shared Zalo Bot points a resident who picks a station with its own Zalo Bot to that bot
  (Zalo Bot user ids are per bot: the station's bot could not write to them) instead of moving
  them;
- `healthbot zalo exchange-code --station CODE` tells the admin the commands *with* `--station`.
Over the local fake Zalo servers, SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import Settings
from bot.engine import HealthBot
from tests.fakes.zalo_bot_api import FakeZaloBot
from tests.fakes.zalo_oa_api import FakeZaloOA
from tests.test_station_bots import every_channel
from tests.test_station_zalo_bots import TOKENS, USERS, station_of, two_bots
from tests.test_station_zalo_oa import APPS, OAS, write_config
from tests.test_zalo_cli import healthbot

LINK = "https://zalo.me/s/xuanla-bot"  # as Zalo Bot Manager would show it (not documented)
BOT_NAME = "Bot Trạm Y tế Xuân La"


@pytest.fixture
async def fakes() -> AsyncIterator[dict[int, FakeZaloBot]]:
    async with AsyncExitStack() as stack:
        yield {sid: await stack.enter_async_context(FakeZaloBot(token))
               for sid, token in TOKENS.items()}


@asynccontextmanager
async def shared_bot(settings: Settings, fakes: dict[int, FakeZaloBot], clock: object,
                     **own: str) -> AsyncIterator[HealthBot]:
    both = two_bots(settings, fakes)
    station = both.stations[0]
    both = replace(both, stations=[replace(station, zalo_bot=replace(station.zalo_bot, **own))])
    async with every_channel(both, clock, fakes.values()) as bot:
        yield bot


async def say(fake: FakeZaloBot, text: str) -> str:
    before = len(fake.sent_to(USERS[1]))
    await fake.push_text(USERS[1], text)
    return (await fake.wait_for_sent(USERS[1], before + 1))[-1].text


async def test_the_shared_zalo_bot_points_to_a_stations_own_bot_instead_of_moving_the_resident(
    settings: Settings, fakes: dict[int, FakeZaloBot], clock: object,
) -> None:
    async with shared_bot(settings, fakes, clock, link=LINK, name=BOT_NAME) as bot:
        shared = fakes[1]
        assert LINK in await say(shared, "/start XUANLA")  # a typed deep link
        assert await station_of(bot, USERS[1]) == 1
        choices = await say(shared, "/phuong xuan la")  # the ward search: a numbered list
        assert "Xuân La" in choices
        assert LINK in await say(shared, "1")
        assert await station_of(bot, USERS[1]) == 1
        assert not fakes[2].sent_to(USERS[1])  # the station's own bot never wrote to this id


async def test_without_a_link_the_shared_zalo_bot_names_the_stations_bot(
    settings: Settings, fakes: dict[int, FakeZaloBot], clock: object,
) -> None:
    """No public link form of a Zalo Bot is documented: its name is what residents search for."""
    async with shared_bot(settings, fakes, clock, name=BOT_NAME) as bot:
        answer = await say(fakes[1], "/start XUANLA")
        assert BOT_NAME in answer and "tìm" in answer
        assert await station_of(bot, USERS[1]) == 1


async def test_exchange_code_for_a_stations_oa_names_the_station_in_its_advice(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A refused code and a trial OA both tell the admin what to run again: for a station's own
    OA, with `--station CODE` (without it the shared OA would be reconnected)."""
    async with AsyncExitStack() as stack:
        fakes = {sid: await stack.enter_async_context(FakeZaloOA(
            app_id=APPS[sid], app_secret=f"app-secret-{sid}", oa_id=OAS[sid],
            oa_secret_key=f"oa-secret-key-{sid}", trial=True)) for sid in (1, 2)}
        config = str(write_config(tmp_path / "healthbot.toml", db_url, fakes))
        monkeypatch.setenv("ZALO_OA_APP_SECRET", fakes[1].app_secret)
        monkeypatch.setenv("ZALO_OA_APP_SECRET_XUANLA", fakes[2].app_secret)
        station = ("--config", config, "--station", "XUANLA")
        status, _, err = await healthbot("zalo", "exchange-code", "not-a-code", *station)
        assert status == 1 and "`healthbot zalo auth-url --station XUANLA`" in err
        code = fakes[2].issue_auth_code()
        status, out, err = await healthbot("zalo", "exchange-code", code, *station)
        assert status == 0, err
        assert "dùng thử" in out
        assert "`healthbot zalo auth-url --station XUANLA`" in out
        assert "`healthbot zalo exchange-code --station XUANLA`" in out
        code = fakes[1].issue_auth_code()  # the shared OA: no --station in its advice
        status, out, err = await healthbot("zalo", "exchange-code", code, "--config", config)
        assert status == 0, err
        assert "`healthbot zalo auth-url`" in out and "--station" not in out


def test_a_stations_posters_lead_to_its_own_zalo_bot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """`healthbot qr --station XUANLA` puts XUANLA's own Zalo Bot on its poster, never the shared
    bot's link; a station's bot without a known link gets no Zalo Bot poster."""
    config = tmp_path / "healthbot.toml"
    config.write_text('[station]\ncode = "MAU"\n'
                      '[posters]\nzalo_bot_link = "https://zalo.me/s/so-y-te-bot"\n'
                      '[[stations]]\nid = 2\ncode = "XUANLA"\nname = "Trạm B"\n'
                      '[[stations.areas]]\ncode = "TDP1"\nname = "Tổ dân phố 1"\n'
                      f'[stations.zalo_bot]\ntoken = "{TOKENS[2]}"\nlink = "{LINK}"\n'
                      '[[stations]]\nid = 3\ncode = "ANKHANH"\nname = "Trạm C"\n'
                      '[[stations.areas]]\ncode = "TDP1"\nname = "Tổ dân phố 1"\n'
                      '[stations.zalo_bot]\ntoken = "3333333333333333333:ankhanh-bot"\n',
                      encoding="utf-8")

    def poster(code: str) -> tuple[int, str]:
        status = main(["qr", "--station", code, "--area", "TDP1", "--channel", "zalo_bot",
                       "--out", str(tmp_path / f"{code}.png"), "--config", str(config)])
        captured = capsys.readouterr()
        return status, captured.out + captured.err

    status, out = poster("XUANLA")
    assert status == 0 and LINK in out
    status, out = poster("MAU")  # station 1: the shared bot
    assert status == 0 and "https://zalo.me/s/so-y-te-bot" in out
    status, out = poster("ANKHANH")
    assert status == 2 and "[stations.zalo_bot] link" in out and "so-y-te-bot" not in out
