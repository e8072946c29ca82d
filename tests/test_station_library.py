"""Station-specific library entries (issue 21): a station's own folder on top of the shared library.

Station B (XUANLA) names a folder with one topic of its own; B's residents see the topic, read
its entry and get it as the answer to a question; station A's residents never do (not in their
menu, not as an answer, not by replaying its button). The folder passes the shared library's
checks (official source, review date) or the installation does not start. SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.app import build_bot, build_services
from bot.config import Area, ConfigError, Settings, StationEntry, load_settings
from tests.conftest import FakeClock
from tests.transcript import Transcript

# Test data for a made-up station (not a health fact): the station's own opening notice.
LOCAL_TOPIC = """\
id: xuanla
title:
  vi: Tin riêng của trạm Xuân La
  en: Xuan La station notices
keywords:
  vi: [trạm xuân la, lịch trực]
  en: [xuan la station]
entries:
  - id: xuanla.duty-roster
    kind: question
    title:
      vi: Lịch trực cuối tuần của trạm Xuân La
      en: Xuan La weekend duty
    text:
      vi: Trạm Y tế phường Xuân La có cán bộ trực sáng thứ Bảy tại nhà văn hoá tổ dân phố A.
      en: Xuan La health station has staff on duty on Saturday mornings at the TDP A hall.
    questions:
      vi: [lịch trực cuối tuần của trạm xuân la, trạm xuân la có trực thứ bảy không]
      en: [xuan la station weekend duty]
    sources:
      - issuer: UBND
        title: Thông báo lịch trực của trạm (dữ liệu thử)
        url: https://xuanla.example.gov.vn/lich-truc
        date: 2026-11-01
    reviewed_on: {reviewed_on}
    status: approved
"""
ENTRY_TITLE = "Lịch trực cuối tuần của trạm Xuân La"
ENTRY_TEXT = "có cán bộ trực sáng thứ Bảy"


def write_folder(folder: Path, reviewed_on: str = "2026-11-20", sources: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = LOCAL_TOPIC.replace("{reviewed_on}", reviewed_on)
    if not sources:
        start = text.index("    sources:")
        text = text[:start] + text[text.index("    reviewed_on:"):]
    (folder / "xuanla.yaml").write_text(text, encoding="utf-8")
    return folder


def with_local_library(settings: Settings, folder: Path) -> Settings:
    station_b = StationEntry(id=2, code="XUANLA", name="Trạm Y tế phường Xuân La",
                             ward="Phường Xuân La", areas=[Area("TDPA", "Tổ dân phố A")],
                             library=str(folder))
    return replace(settings, station=replace(settings.station, code="MAU"), stations=[station_b])


@pytest.fixture
async def bot(settings: Settings, clock: FakeClock, tmp_path: Path):  # noqa: ANN201
    services = build_services(with_local_library(settings, write_folder(tmp_path / "xuanla")),
                              clock=clock)
    yield build_bot(services)
    await services.db.close()


async def test_station_b_residents_get_b_entry(bot) -> None:  # noqa: ANN001
    resident_b = Transcript(bot, chat_id="resident-b")
    await resident_b.say("/start XUANLA")
    await resident_b.tap("topics")
    assert "Tin riêng của trạm Xuân La" in [b.label for b in resident_b.buttons()]
    await resident_b.tap("t:xuanla")
    await resident_b.tap(ENTRY_TITLE)
    assert ENTRY_TEXT in resident_b.text and "UBND" in resident_b.text  # with its source line
    await resident_b.say("tram xuan la co truc thu bay khong")
    assert ENTRY_TEXT in resident_b.text


async def test_station_a_residents_never_get_b_entry(bot) -> None:  # noqa: ANN001
    resident_a = Transcript(bot, chat_id="resident-a")
    await resident_a.say("/start")
    await resident_a.tap("topics")
    assert "Tin riêng của trạm Xuân La" not in [b.label for b in resident_a.buttons()]
    await resident_a.send(button="t:xuanla")  # a replayed button of B's topic
    assert ENTRY_TEXT not in resident_a.text
    await resident_a.send(button="e:xuanla.duty-roster")  # a replayed button of B's entry
    assert ENTRY_TEXT not in resident_a.text
    await resident_a.say("tram xuan la co truc thu bay khong")
    assert ENTRY_TEXT not in resident_a.text


@pytest.mark.parametrize("broken", ["no source", "old review"])
def test_a_station_folder_that_fails_the_content_checks_stops_the_start(
    settings: Settings, clock: FakeClock, tmp_path: Path, broken: str,
) -> None:
    folder = write_folder(tmp_path / "xuanla", sources=broken != "no source",
                          reviewed_on="2020-01-01" if broken == "old review" else "2026-11-20")
    with pytest.raises(ConfigError, match="XUANLA") as raised:
        build_services(with_local_library(settings, folder), clock=clock)
    assert "xuanla.duty-roster" in str(raised.value)


def test_a_relative_folder_is_read_next_to_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "healthbot.toml"
    config.write_text('[station]\ncode = "MAU"\n[[stations]]\nid = 2\ncode = "XUANLA"\n'
                      'name = "Trạm B"\nlibrary = "tram-b"\n', encoding="utf-8")
    assert load_settings(config, env={}).stations[0].library == str(tmp_path.resolve() / "tram-b")
