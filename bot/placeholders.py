"""No resident is ever shown the placeholder station: `healthbot run` refuses it outside demo mode.

With no configuration the embedded defaults describe "Trạm Y tế phường Mẫu" with a made-up phone
number. That is fine for trying the bot (`healthbot run --demo`, or HEALTHBOT_DEMO=1), and a trap
in production: a resident in trouble would be told to call a number that does not exist. So `run`
stops with a clear message while any public station detail is still the placeholder.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.config import ConfigError, Settings, Station

DEMO_ENV = "HEALTHBOT_DEMO"
# The details residents read and act on; a placeholder in any of them is refused.
PUBLIC_FIELDS = ("name", "ward", "address", "phone")


def placeholder_fields(settings: Settings) -> list[str]:
    """The station's public details that are empty or still hold the embedded placeholder."""
    placeholder = Station()
    return [
        f for f in PUBLIC_FIELDS
        if getattr(settings.station, f).strip() in ("", getattr(placeholder, f))
    ]


def demo_requested(flag: bool, env: Mapping[str, str]) -> bool:
    return flag or env.get(DEMO_ENV, "").strip().lower() in ("1", "true", "yes")


def check_station_for_residents(settings: Settings, *, demo: bool) -> list[str]:
    """Raise `ConfigError` when placeholders would reach residents outside demo mode; returns the
    placeholder fields (for the demo warning)."""
    fields = placeholder_fields(settings)
    if fields and not demo:
        keys = ", ".join(f"station.{f}" for f in fields)
        raise ConfigError(
            f"{settings.source}: {keys} are empty or still hold the placeholder station (phone "
            f"{Station().phone} does not exist); residents must not be shown it. Fill in [station] "
            "(see config.example.toml), or try the bot with `healthbot run --demo`"
        )
    return fields
