"""Stations with their own Zalo Official Account (issue 21), beside the shared provincial OA.

Station 1 (MAU) uses the shared `[zalo_oa]`; stations 2 (XUANLA) and 3 (ANKHANH) each have their
own OA on their own app (`[stations.zalo_oa]`), every OA on its own fake Zalo OA server with its
own app id, OA id, app secret and webhook signing key. Each OA's webhook has its own path and is
verified with that OA's key only; what it receives belongs to its station and is answered through
that OA; later messages (the outbox) to its residents go through it too; each OA's OAuth tokens
are its own row (`zalo_oa@<id>`), refreshed without touching the others'. Over real HTTP, on
SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from bot.app import build_bot, build_services, channel_starters
from bot.cli import main
from bot.config import ConfigError, Settings, StationEntry, StationZaloOA, load_settings
from bot.engine import HealthBot
from bot.model import Outbound
from core.stations import sender_key
from scheduler.dispatcher import Dispatcher
from storage import outbox, tokens
from storage.db import open_database
from storage.models import Identity, Person
from tests.fakes.zalo_oa_api import FakeZaloOA, OASent
from tests.test_zalo_cli import healthbot
from tests.test_zalo_oa import free_port

NAMES = {1: "Trạm Y tế phường Mẫu", 2: "Trạm Y tế phường Xuân La", 3: "Trạm Y tế phường An Khánh"}
CODES = {1: "MAU", 2: "XUANLA", 3: "ANKHANH"}
APPS = {1: "4242424242424242424", 2: "5252525252525252525", 3: "6262626262626262626"}
OAS = {1: "1111222233334444555", 2: "2222333344445555666", 3: "3333444455556666777"}
RESIDENTS = {1: "8171934537203385927", 2: "7262813426102274816", 3: "6353792315091163705"}
REDIRECT = "https://so-y-te.example.vn/zalo/callback"
XUANLA_GROUP = "f414c8f76fa586fbdfb4"  # an OA group chat of XUANLA's OA


def fake_oa(sid: int, clock: object) -> FakeZaloOA:
    # The fakes' clocks follow the bot's, so event timestamps and token lifetimes agree.
    return FakeZaloOA(app_id=APPS[sid], app_secret=f"app-secret-{sid}", oa_id=OAS[sid],
                      oa_secret_key=f"oa-secret-key-{sid}",
                      clock=lambda: clock.now.timestamp())  # type: ignore[attr-defined]


def own_oa(fake: FakeZaloOA) -> StationZaloOA:
    return StationZaloOA(app_id=fake.app_id, app_secret=fake.app_secret,
                         oa_secret_key=fake.oa_secret_key, oa_id=fake.oa_id,
                         api_base_url=fake.api_base_url, oauth_base_url=fake.oauth_base_url,
                         group_ids=list(fake.groups))


def three_oas(settings: Settings, fakes: dict[int, FakeZaloOA]) -> Settings:
    shared = fakes[1]
    zalo_oa = replace(settings.zalo_oa, app_id=shared.app_id, app_secret=shared.app_secret,
                      oa_secret_key=shared.oa_secret_key, oa_id=shared.oa_id,
                      oauth_base_url=shared.oauth_base_url, api_base_url=shared.api_base_url,
                      redirect_uri=REDIRECT)
    stations = [StationEntry(id=sid, code=CODES[sid], name=NAMES[sid], zalo_oa=own_oa(fakes[sid]))
                for sid in (2, 3)]
    return replace(settings, zalo_oa=zalo_oa, station=replace(settings.station, code="MAU"),
                   stations=stations)


def provider(sid: int) -> str:
    return sender_key(tokens.ZALO_OA, None if sid == 1 else sid)


@dataclass
class Province:
    bot: HealthBot
    fakes: dict[int, FakeZaloOA]
    urls: dict[int, str]

    async def station_of(self, user_id: str) -> int:
        async with self.bot.services.db.sessions() as session:
            stmt = select(Person.station_id).join(Identity, Identity.person_id == Person.id).where(
                Identity.channel == "zalo_oa", Identity.external_id == user_id)
            return (await session.execute(stmt)).scalars().one()

    async def stored(self, sid: int) -> tokens.TokenPair:
        async with self.bot.services.db.sessions() as session:
            pair = await tokens.load_token(session, provider(sid))
        assert pair is not None
        return pair

    def everything_sent(self, user_id: str) -> dict[int, int]:
        return {sid: len(fake.sent_to(user_id)) for sid, fake in self.fakes.items()}

    async def say(self, sid: int, text: str, count: int = 1) -> list[OASent]:
        fake, user = self.fakes[sid], RESIDENTS[sid]
        before = len(fake.sent_to(user))
        delivery = await fake.send_text(user, text)
        assert delivery.status == 200
        return (await fake.wait_for_sent(user, before + count))[before:]


@pytest.fixture
async def province(settings: Settings, clock: object) -> AsyncIterator[Province]:
    async with AsyncExitStack() as stack:
        fakes = {sid: await stack.enter_async_context(fake_oa(sid, clock)) for sid in APPS}
        fakes[2].add_group(XUANLA_GROUP)
        port = free_port()
        base = f"http://127.0.0.1:{port}/zalo/oa/webhook"
        urls = {1: base, 2: f"{base}/xuanla", 3: f"{base}/ankhanh"}
        services = build_services(three_oas(settings, fakes), clock=clock)  # type: ignore[arg-type]
        stack.push_async_callback(services.db.close)
        bot = build_bot(services)
        app = web.Application()
        for start in channel_starters(services.settings):
            stack.push_async_callback(await start(bot, app))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        await web.TCPSite(runner, "127.0.0.1", port).start()
        async with services.db.sessions() as session, session.begin():
            for sid, fake in fakes.items():
                fake.webhook_url = urls[sid]
                access, refresh = fake.issue_tokens()
                await tokens.save_token(session, provider(sid), access, refresh,
                                        clock.now + timedelta(hours=25))  # type: ignore[attr-defined]
        yield Province(bot, fakes, urls)


async def test_each_oa_answers_for_its_own_station_and_sends_later_messages(
    province: Province,
) -> None:
    for sid in APPS:
        (greeting,) = await province.say(sid, "/start")
        assert NAMES[sid] in (greeting.text or "")
        assert all(NAMES[o] not in (greeting.text or "") for o in NAMES if o != sid)
        assert await province.station_of(RESIDENTS[sid]) == sid
        # answered through the OA that received it, and by no other
        assert province.everything_sent(RESIDENTS[sid]) == {s: int(s == sid) for s in APPS}
    services = province.bot.services
    async with services.db.sessions() as session, session.begin():
        for sid in APPS:
            await outbox.enqueue(session, dedupe_key=f"notice-{sid}", channel="zalo_oa",
                                 chat_id=RESIDENTS[sid],
                                 payload=Outbound(f"Thông báo {sid}").to_payload(),
                                 not_before=services.clock())
        # XUANLA's OA group was registered as XUANLA's group when its OA started
        await outbox.enqueue(session, dedupe_key="notice-group", channel="zalo_oa",
                             chat_id=XUANLA_GROUP, chat_kind="group",
                             payload=Outbound("Thông báo nhóm").to_payload(),
                             not_before=services.clock())
    assert await Dispatcher(services.db, services.extras["senders"], services.clock).run_once() == 4
    for sid, fake in province.fakes.items():
        (_greeting, notice) = await fake.wait_for_sent(RESIDENTS[sid], 2)
        assert notice.text == f"Thông báo {sid}"
        assert province.everything_sent(RESIDENTS[sid]) == {s: 2 * (s == sid) for s in APPS}
    (group_notice,) = await province.fakes[2].wait_for_sent(XUANLA_GROUP)
    assert group_notice.text == "Thông báo nhóm" and group_notice.endpoint == "group/message"


async def test_an_oa_webhook_refuses_another_oas_signature(province: Province) -> None:
    xuanla, ankhanh = province.fakes[2], province.fakes[3]
    user = RESIDENTS[2]
    # XUANLA's event, signed with XUANLA's key, posted to ANKHANH's webhook: refused.
    other = await xuanla.send_event(xuanla.user_send_text(user, "/start"), url=province.urls[3])
    # ANKHANH's own event, signed with XUANLA's key: refused too.
    event = ankhanh.user_send_text(user, "/start")
    ankhanh.oa_secret_key, key = xuanla.oa_secret_key, ankhanh.oa_secret_key
    try:
        missigned = await ankhanh.send_event(event)
    finally:
        ankhanh.oa_secret_key = key
    forged = await ankhanh.send_event(ankhanh.user_send_text(user, "/start"), forge_signature=True)
    # And a station's event on the shared OA's webhook.
    shared = await xuanla.send_event(xuanla.user_send_text(user, "/start"), url=province.urls[1])
    assert {other.status, missigned.status, forged.status, shared.status} == {401}
    (greeting,) = await province.say(3, "/start")  # ANKHANH's own signed event is answered
    assert NAMES[3] in (greeting.text or "")
    assert province.everything_sent(user) == {1: 0, 2: 0, 3: 0}


async def test_a_token_refresh_for_one_oa_leaves_the_others_alone(province: Province) -> None:
    before = {sid: await province.stored(sid) for sid in APPS}
    province.fakes[2].expire_access_token()  # XUANLA's OA answers -216 until it refreshes
    (greeting,) = await province.say(2, "/start")
    assert NAMES[2] in (greeting.text or "")
    assert province.fakes[2].refreshes == 1
    renewed = await province.stored(2)
    assert renewed.refresh_token != before[2].refresh_token
    assert renewed.refresh_token in province.fakes[2].refresh_tokens
    for sid in (1, 3):  # the shared OA and ANKHANH's: not refreshed, tokens unchanged
        assert province.fakes[sid].refreshes == 0
        assert await province.stored(sid) == before[sid]
        (answer,) = await province.say(sid, "/start")
        assert NAMES[sid] in (answer.text or "")


async def test_a_send_error_of_one_oa_names_it_and_stops_no_other_oa(
    province: Province, caplog: pytest.LogCaptureFixture,
) -> None:
    for sid in APPS:
        await province.say(sid, "/start")
    province.fakes[2].set_user_error(RESIDENTS[2], -211)  # XUANLA's OA is out of quota
    services = province.bot.services
    async with services.db.sessions() as session, session.begin():
        for sid in (2, 3):
            await outbox.enqueue(session, dedupe_key=f"quota-{sid}", channel="zalo_oa",
                                 chat_id=RESIDENTS[sid], payload=Outbound("Nhắc lịch").to_payload(),
                                 not_before=services.clock())
    with caplog.at_level(logging.ERROR):
        await Dispatcher(services.db, services.extras["senders"], services.clock).run_once()
    assert "zalo_oa@2 refused sends with error -211" in caplog.text  # the admin knows which OA
    assert len(province.fakes[3].sent_to(RESIDENTS[3])) == 2  # ANKHANH's OA sent its message
    assert not province.fakes[1].sent_to(RESIDENTS[2]) and not province.fakes[3].sent_to(RESIDENTS[2])


async def test_the_shared_oa_points_to_a_stations_own_oa_instead_of_moving_the_resident(
    province: Province,
) -> None:
    """Zalo user ids are per OA: XUANLA's OA could not write to an id of the shared OA."""
    (answer,) = await province.say(1, "#hb:ward:2")  # the ward search's button for XUANLA
    assert f"https://zalo.me/{OAS[2]}" in (answer.text or "")
    assert await province.station_of(RESIDENTS[1]) == 1
    (answer,) = await province.say(1, "/start ANKHANH")  # a typed deep link: the same
    assert f"https://zalo.me/{OAS[3]}" in (answer.text or "")
    assert await province.station_of(RESIDENTS[1]) == 1


def write_config(path: Path, db_url: str, fakes: dict[int, FakeZaloOA]) -> Path:
    shared, own = fakes[1], fakes[2]
    path.write_text(f"""
[database]
url = "{db_url}"

[station]
code = "MAU"

[zalo_oa]
app_id = "{shared.app_id}"
oa_id = "{shared.oa_id}"
oauth_base_url = "{shared.oauth_base_url}"
api_base_url = "{shared.api_base_url}"
redirect_uri = "{REDIRECT}"

[[stations]]
id = 2
code = "XUANLA"
name = "{NAMES[2]}"

[stations.zalo_oa]
app_id = "{own.app_id}"
oa_id = "{own.oa_id}"
oauth_base_url = "{own.oauth_base_url}"
api_base_url = "{own.api_base_url}"
redirect_uri = "{REDIRECT}/xuanla"

[[stations]]
id = 3
code = "ANKHANH"
name = "{NAMES[3]}"
""", encoding="utf-8")
    return path


async def test_healthbot_zalo_connects_a_stations_own_oa(
    db_url: str, clock: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with AsyncExitStack() as stack:
        fakes = {sid: await stack.enter_async_context(fake_oa(sid, clock)) for sid in (1, 2)}
        config = str(write_config(tmp_path / "healthbot.toml", db_url, fakes))
        monkeypatch.setenv("ZALO_OA_APP_SECRET", fakes[1].app_secret)
        monkeypatch.setenv("ZALO_OA_APP_SECRET_XUANLA", fakes[2].app_secret)
        status, out, err = await healthbot("zalo", "auth-url", "--config", config,
                                           "--station", "xuanla")
        assert status == 0, err
        assert "exchange-code --station XUANLA" in out
        url = next(line.strip() for line in out.splitlines() if line.strip().startswith("http"))
        query = parse_qs(urlparse(url).query)
        assert query["app_id"] == [APPS[2]] and query["redirect_uri"] == [f"{REDIRECT}/xuanla"]
        async with aiohttp.ClientSession() as http, http.get(url, allow_redirects=False) as answer:
            code = parse_qs(urlparse(answer.headers["Location"]).query)["code"][0]
        status, out, err = await healthbot("zalo", "exchange-code", code, "--config", config,
                                           "--station", "XUANLA")
        assert status == 0, err
        assert "Đã kết nối Official Account" in out
        db = open_database(db_url)
        try:
            async with db.sessions() as session:
                own = await tokens.load_token(session, "zalo_oa@2")
                shared = await tokens.load_token(session, tokens.ZALO_OA)
        finally:
            await db.close()
        assert own is not None and own.access_token in fakes[2].access_tokens
        assert shared is None  # the shared OA is not connected by it
        status, _, err = await healthbot("zalo", "auth-url", "--config", config,
                                         "--station", "ANKHANH")
        assert status == 2 and "[stations.zalo_oa]" in err  # no OA of its own
        status, _, err = await healthbot("zalo", "auth-url", "--config", config,
                                         "--station", "NOWHERE")
        assert status == 2 and "NOWHERE" in err


def test_a_stations_oa_secrets_come_from_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "healthbot.toml"
    config.write_text('[station]\ncode = "MAU"\n[zalo_oa]\napp_id = "1"\n'
                      '[[stations]]\nid = 2\ncode = "XuanLa"\nname = "Trạm B"\n'
                      '[stations.zalo_oa]\napp_id = "2"\noa_id = "22"\n', encoding="utf-8")
    env = {"ZALO_OA_APP_SECRET_XUANLA": "app-secret-b", "ZALO_OA_SECRET_KEY_XUANLA": "key-b",
           "ZALO_OA_SECRET_KEY": "key-a"}
    settings = load_settings(config, env=env)
    own = settings.stations[0].zalo_oa
    assert (own.app_secret, own.oa_secret_key) == ("app-secret-b", "key-b")
    assert settings.zalo_oa.oa_secret_key == "key-a"
    assert len(channel_starters(settings)) == 2  # the shared OA and XUANLA's
    clash = tmp_path / "clash.toml"
    clash.write_text(config.read_text(encoding="utf-8").replace('app_id = "2"', 'app_id = "1"'),
                     encoding="utf-8")
    with pytest.raises(ConfigError, match="another OA's app"):
        load_settings(clash, env=env)


def test_a_single_station_config_starts_one_oa(settings: Settings) -> None:
    single = replace(settings, zalo_oa=replace(settings.zalo_oa, app_id=APPS[1]))
    assert len(channel_starters(single)) == 1


def test_a_stations_posters_lead_to_its_own_oa(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "healthbot.toml"
    config.write_text('[station]\ncode = "MAU"\n[zalo_oa]\noa_id = "1111"\n'
                      '[posters]\nzalo_oa_link = "https://zalo.me/so-y-te"\n'
                      '[[stations]]\nid = 2\ncode = "XUANLA"\nname = "Trạm B"\n'
                      '[[stations.areas]]\ncode = "TDP1"\nname = "Tổ dân phố 1"\n'
                      '[stations.zalo_oa]\napp_id = "2"\noa_id = "2222"\n'
                      '[[stations]]\nid = 3\ncode = "ANKHANH"\nname = "Trạm C"\n'
                      '[[stations.areas]]\ncode = "TDP1"\nname = "Tổ dân phố 1"\n',
                      encoding="utf-8")
    for code, link in (("XUANLA", "https://zalo.me/2222"), ("ANKHANH", "https://zalo.me/so-y-te")):
        out = tmp_path / f"{code}.png"
        assert main(["qr", "--station", code, "--area", "TDP1", "--channel", "zalo_oa",
                     "--out", str(out), "--config", str(config)]) == 0
        assert link in capsys.readouterr().out
