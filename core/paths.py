"""Where healthbot keeps its data when the configuration does not say: resolved once, absolute.

The default SQLite file used to be `var/healthbot.db` relative to the folder a command ran from,
so `healthbot tickets` run from another folder saw an empty database. Now every command finds the
same file: `$HEALTHBOT_DATA_DIR/healthbot.db`, else the platform's user data folder
(platformdirs: `~/.local/share/healthbot` on Linux; a systemd service sets HEALTHBOT_DATA_DIR to
its StateDirectory). A relative SQLite path written in a config file is read relative to that
file, not to the current folder.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import platformdirs

DATA_DIR_ENV = "HEALTHBOT_DATA_DIR"
APP_NAME = "healthbot"
DATABASE_FILE = "healthbot.db"
SQLITE_PREFIX = "sqlite+aiosqlite:///"


def data_dir(env: Mapping[str, str]) -> Path:
    """The folder for the default database: $HEALTHBOT_DATA_DIR or the user data folder."""
    given = env.get(DATA_DIR_ENV, "")
    if given:
        return Path(given).expanduser().resolve()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_database_url(env: Mapping[str, str]) -> str:
    return f"{SQLITE_PREFIX}{data_dir(env) / DATABASE_FILE}"


def anchored_database_url(url: str, config_file: Path) -> str:
    """A relative SQLite path in a config file, made absolute against the file's folder."""
    if not url.startswith(SQLITE_PREFIX):
        return url
    path = url[len(SQLITE_PREFIX):]
    if not path or path == ":memory:" or path.startswith("/"):
        return url
    return f"{SQLITE_PREFIX}{(config_file.resolve().parent / path)}"
