"""`healthbot plan show|check` through the real command line entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main


def test_plan_show_lists_the_tet_food_safety_sends(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "show", "--from", "02/02/2026", "--to", "21/02/2026", "--json"]) == 0
    sends = json.loads(capsys.readouterr().out)
    tet = [s["at"] for s in sends if s["campaign"] == "food-safety-tet"]
    assert tet[0] == "2026-02-02T09:00:00+07:00" and len(tet) == 6


def test_plan_show_takes_the_region_from_the_configuration(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "south.toml"
    config.write_text('[station]\nregion = "south"\n', encoding="utf-8")
    assert main(["plan", "show", "--config", str(config), "--from", "2026-05-01",
                 "--to", "2026-05-31", "--json"]) == 0
    campaigns = {s["campaign"] for s in json.loads(capsys.readouterr().out)}
    assert "dengue-south-season" in campaigns and "dengue-north-season" not in campaigns


def test_plan_check_accepts_the_shipped_plan_and_rejects_a_broken_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "check"]) == 0
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\ncampaigns:\n  - id: x\n    topic: nothing\n", encoding="utf-8")
    assert main(["plan", "check", str(broken), "--no-library"]) == 1
    assert "x" in capsys.readouterr().out
