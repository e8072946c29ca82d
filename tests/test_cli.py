"""The `healthbot` command line as staff and scripts use it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def healthbot(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd or ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "PTB_TIMEDELTA": "1"},
    )


def test_ask_json_has_topic_text_and_score() -> None:
    result = healthbot("ask", "--json", "trạm y tế mở cửa mấy giờ")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["topic"] == "station-info"
    assert isinstance(data["text"], str) and data["text"]
    assert isinstance(data["score"], float) and 0 < data["score"] <= 1


def test_ask_off_topic_returns_null_topic_and_the_station_phone() -> None:
    data = json.loads(healthbot("ask", "--json", "kết quả xổ số miền bắc hôm nay").stdout)
    assert data["topic"] is None
    assert "0243 000 0000" in data["text"]


def test_ask_in_english() -> None:
    data = json.loads(healthbot("ask", "--json", "--locale", "en", "how is dengue spread").stdout)
    assert data["topic"] == "dengue"
    assert "mosquito" in data["text"].lower()


def test_broken_config_stops_with_a_clear_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[web]\nprot = 8080\n", encoding="utf-8")
    result = healthbot("run", "--config", str(bad))
    assert result.returncode == 2
    assert str(bad) in result.stderr and "unknown key 'web.prot'" in result.stderr


def test_db_upgrade_creates_the_database(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/h.db"\n', encoding="utf-8"
    )
    result = healthbot("db", "upgrade", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "h.db").exists()


def test_content_check_passes_on_the_shipped_library_and_fails_on_a_broken_copy(tmp_path: Path) -> None:
    import shutil

    ok = healthbot("content", "check")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "0 error(s)" in ok.stdout
    broken = tmp_path / "library"
    shutil.copytree(ROOT / "content" / "library", broken)
    dengue = broken / "dengue.yaml"
    dengue.write_text(dengue.read_text(encoding="utf-8").replace("sources:", "sourcez:", 1), encoding="utf-8")
    bad = healthbot("content", "check", "--path", str(broken))
    assert bad.returncode != 0
    assert "dengue.yaml" in bad.stdout + bad.stderr
