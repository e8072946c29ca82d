"""The urgent-alert template library (`content/alerts/templates.yaml`): outbreak alerts staff send
with /khancap by filling in one blank, the place. Each filled alert ends with its source and the
library's review date, like every health message the bot sends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import yaml

TEMPLATES_FILE = Path(__file__).resolve().parent.parent / "content" / "alerts" / "templates.yaml"
MAX_PLACE_CHARS = 120


@dataclass(frozen=True)
class AlertTemplate:
    id: str
    title: str
    text: str
    source: str
    reviewed: date

    def fill(self, place: str, phone: str) -> str:
        body = self.text.strip().replace("{place}", place.strip()[:MAX_PLACE_CHARS])
        return (f"{body}\nMọi thắc mắc xin gọi Trạm Y tế: {phone}. Cấp cứu: 115.\n\n"
                f"Nguồn: {self.source} · Rà soát: {self.reviewed:%d/%m/%Y}")


@cache
def load_templates(path: Path = TEMPLATES_FILE) -> tuple[AlertTemplate, ...]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    reviewed = date.fromisoformat(str(raw["reviewed"]))
    return tuple(AlertTemplate(t["id"], t["title"], t["text"], t["source"], reviewed)
                 for t in raw.get("templates") or [])


def template(template_id: str) -> AlertTemplate | None:
    return next((t for t in load_templates() if t.id == template_id), None)
