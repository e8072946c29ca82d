"""`healthbot qr`: a printable poster with the Telegram deep-link QR code for one area."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from PIL import Image

from bot.cli import main
from bot.commands.qr import POSTER_SIZE, deep_link
from tests.fakes.telegram_api import FakeTelegram


def write_config(tmp_path: Path, telegram: str) -> Path:
    config = tmp_path / "healthbot.toml"
    config.write_text(f"[telegram]\n{telegram}\n", encoding="utf-8")
    return config


def test_poster_is_a_printable_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, 'bot_username = "phuongmau_bot"')
    out = tmp_path / "tdp2.png"
    assert main(["qr", "--area", "tdp2", "--out", str(out), "--config", str(config)]) == 0
    with Image.open(out) as poster:
        assert poster.format == "PNG" and poster.size == POSTER_SIZE
        gray = poster.convert("L")
        # The QR code is in the middle: a large block with many dark modules.
        middle = gray.crop((300, 500, 940, 1100))
        dark = sum(middle.histogram()[:128])
        assert 0.3 < dark / (640 * 600) < 0.7
    printed = capsys.readouterr().out
    assert "https://t.me/phuongmau_bot?start=TDP2" in printed and "Tổ dân phố 2" in printed


def test_wrong_area_exits_2_with_the_valid_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, 'bot_username = "phuongmau_bot"')
    out = tmp_path / "x.png"
    assert main(["qr", "--area", "TDP9", "--out", str(out), "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "TDP9" in err and "TDP1" in err and "TDP3" in err
    assert not out.exists()


def test_without_a_bot_name_it_says_what_to_configure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, 'bot_username = ""')
    assert (
        main(["qr", "--area", "TDP1", "--out", str(tmp_path / "x.png"), "--config", str(config)])
        == 2
    )
    assert "bot_username" in capsys.readouterr().err


async def test_bot_name_is_asked_from_the_bot_api_when_not_configured(tmp_path: Path) -> None:
    async with FakeTelegram(bot_username="tram_y_te_bot") as fake:
        config = write_config(
            tmp_path, f'token = "{fake.token}"\napi_base_url = "{fake.bot_api_url}"'
        )
        out = tmp_path / "p.png"
        code = await asyncio.to_thread(
            main, ["qr", "--area", "TDP1", "--out", str(out), "--config", str(config)]
        )
        assert code == 0 and out.exists()
        assert fake.calls_to("getMe")


def test_deep_link_shape() -> None:
    assert deep_link("@phuongmau_bot", "TDP1") == "https://t.me/phuongmau_bot?start=TDP1"


async def test_posters_for_every_channel_and_size_never_show_the_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.DEBUG)  # everything any library logs, at every level
    async with FakeTelegram(bot_username="tram_y_te_bot") as fake:
        config = tmp_path / "healthbot.toml"
        config.write_text(
            f'[telegram]\ntoken = "{fake.token}"\napi_base_url = "{fake.bot_api_url}"\n'
            '[zalo_oa]\noa_id = "4318745193621543"\n'
            '[posters]\nzalo_bot_link = "https://zalo.me/s/botmau"\n'
            'web_url = "https://phuongmau.gov.vn/tro-ly"\n', encoding="utf-8")
        out_dir = tmp_path / "posters"
        code = await asyncio.to_thread(
            main, ["qr", "--area", "TDP2", "--out-dir", str(out_dir), "--config", str(config)])
        assert code == 0 and fake.calls_to("getMe")
    made = sorted(p.name for p in out_dir.iterdir())
    assert made == sorted(f"qr-TDP2-{c}-{s}.png" for c in ("telegram", "zalo_bot", "zalo_oa", "web")
                          for s in ("A4", "A5"))
    with Image.open(out_dir / "qr-TDP2-zalo_oa-A5.png") as a5:
        assert a5.size == (874, 1240)
    printed = capsys.readouterr()
    assert "https://t.me/tram_y_te_bot?start=TDP2" in printed.out
    assert "https://zalo.me/4318745193621543" in printed.out
    assert "https://phuongmau.gov.vn/tro-ly?start=TDP2" in printed.out
    secret = fake.token.split(":")[-1]
    for text in (printed.out, printed.err, caplog.text):
        assert fake.token not in text and secret not in text
