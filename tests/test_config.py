"""Configuration: embedded defaults, the documented example, and clear errors for broken files."""

from __future__ import annotations

import dataclasses
import tomllib
import typing
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, load_settings

EXAMPLE = Path(__file__).parent.parent / "config.example.toml"


def test_no_file_gives_a_runnable_station() -> None:
    settings = load_settings(None, env={})
    assert settings.station.name and settings.station.phone
    assert settings.station.timezone == "Asia/Ho_Chi_Minh"
    assert settings.database.url.startswith("sqlite+aiosqlite:///")
    assert settings.telegram.token == ""  # channels are off without credentials


def test_example_file_loads_and_documents_every_key() -> None:
    settings = load_settings(EXAMPLE, env={})
    assert settings.area("tdp1") is not None
    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    _check_documented(Settings, raw, "")


def _check_documented(cls: type, table: dict, where: str) -> None:
    """Every field of every settings section appears in the example file."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name == "source":
            continue
        assert f.name in table, f"config.example.toml lacks the key {where}{f.name}"
        value = table[f.name]
        target = hints[f.name]
        if typing.get_origin(target) is list:
            target = typing.get_args(target)[0]
            value = value[0] if value else None
        if dataclasses.is_dataclass(target) and isinstance(value, dict):
            _check_documented(target, value, f"{where}{f.name}.")


def test_environment_supplies_secrets(tmp_path: Path) -> None:
    settings = load_settings(None, env={"TELEGRAM_BOT_TOKEN": "123:abc"})
    assert settings.telegram.token == "123:abc"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[station\nname = 1", "not valid TOML"),
        ('[station]\nnmae = "x"\n', "unknown key 'station.nmae'; expected one of: "),
        ('[web]\nport = "eighty"\n', "'web.port' must be a whole number, got a string"),
        ('[broadcast]\nquiet_hours = "9pm"\n', "'broadcast.quiet_hours' must look like"),
        (
            '[station]\nregion = "west"\n',
            "'station.region' must be one of 'north', 'central', 'south'",
        ),
        ('[[areas]]\ncode = "TDP 1"\nname = "x"\n', "'areas[0].code' must be 1-32 ASCII"),
        ('[[areas]]\nname = "x"\n', "[areas[0]] needs the key(s) code"),
        ('[database]\nurl = "mysql://x"\n', "'database.url' must start with"),
    ],
)
def test_broken_file_names_file_key_and_expectation(
    tmp_path: Path, content: str, expected: str
) -> None:
    path = tmp_path / "ward.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(path, env={})
    assert str(path) in str(err.value)
    assert expected in str(err.value)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_settings(tmp_path / "nope.toml", env={})
