"""The station's public facts, as the content renderer needs them (filled from configuration)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class StationInfo:
    name: str
    ward: str
    address: str
    phone: str
    hours: dict[str, str] = field(default_factory=dict)  # locale -> opening hours text
    map_url: str = ""
