"""Start-up faults: each is one clear line naming the cause and a non-zero exit, no traceback."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.conftest import PG_ENV
from tests.faults.process import free_port, run_cli, write_config

pytestmark = pytest.mark.faults


def one_clear_line(stderr: str, *expected: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("healthbot: ")]
    assert len(lines) == 1, stderr
    for word in expected:
        assert word in lines[0], lines[0]
    return lines[0]


def test_a_config_file_that_is_not_utf8(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    # What Windows Notepad saves as "Unicode": UTF-16 with a byte-order mark.
    config.write_bytes('[station]\nname = "Trạm Y tế"\n'.encode("utf-16"))
    result = run_cli("run", "--config", str(config))
    assert result.returncode == 2
    one_clear_line(result.stderr, str(config), "UTF-8")


@pytest.mark.parametrize(
    ("database", "why"),
    [
        ("under-a-file/healthbot.db", "cannot be created or written"),  # its folder is a file
        ("/proc/healthbot/healthbot.db", "cannot be created or written"),  # not writable, even as root
        (".", "cannot be created or written"),  # a folder, not a file
    ],
)
def test_an_unusable_sqlite_path(tmp_path: Path, database: str, why: str) -> None:
    (tmp_path / "under-a-file").write_text("not a folder")
    path = database if database.startswith("/") else str((tmp_path / database).resolve())
    config = write_config(tmp_path / "c.toml", f"sqlite+aiosqlite:///{path}", free_port())
    for command in (["run"], ["db", "upgrade"]):
        result = run_cli(*command, "--config", str(config))
        assert result.returncode == 1, result.stderr
        one_clear_line(result.stderr, "cannot open the database", why)


def test_postgresql_on_a_closed_port(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{closed}/healthbot"
    config = write_config(tmp_path / "c.toml", url, free_port())
    result = run_cli("run", "--config", str(config))
    assert result.returncode == 1
    one_clear_line(result.stderr, "nothing answers", str(closed))


def test_postgresql_without_the_database(tmp_path: Path) -> None:
    import os

    base = os.environ.get(PG_ENV, "")
    if not base:
        pytest.skip(f"set {PG_ENV}")
    url = base.rsplit("/", 1)[0] + "/no_such_database_for_healthbot"
    config = write_config(tmp_path / "c.toml", url, free_port())
    result = run_cli("run", "--config", str(config))
    assert result.returncode == 1
    one_clear_line(result.stderr, "does not exist", "no_such_database_for_healthbot")


def test_the_web_port_is_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = write_config(tmp_path / "c.toml", f"sqlite+aiosqlite:///{tmp_path}/h.db", port)
        result = run_cli("run", "--config", str(config))
    assert result.returncode == 1
    one_clear_line(result.stderr, f"port {port}", "already in use")
