"""The shapes of the periodic report's figures (issue 17): one dataclass per section.

Every figure is defined in docs/report.md; `bot.report.figures` computes them (and re-exports
these names).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.feedback.reports import Satisfaction
from bot.report.periods import Period

SATISFACTION_TARGET = 0.9


@dataclass
class Communication:
    broadcasts_by_kind: dict[str, int] = field(default_factory=dict)  # campaign | staff | urgent
    campaigns_by_item: dict[str, int] = field(default_factory=dict)  # plan item -> occurrences
    # plan item -> the library topic of its messages, to name an item the plan no longer has
    item_topics: dict[str, str] = field(default_factory=dict)
    broadcasts_by_topic: dict[str, int] = field(default_factory=dict)
    delivered: int = 0
    failed: int = 0
    blocked: int = 0
    waiting: int = 0
    residents_reached: int = 0  # unique private chats with at least one delivery
    groups_reached: int = 0  # unique group chats with at least one delivery
    delivered_by_area: dict[str, int] = field(default_factory=dict)
    by_month: list[tuple[date, int, int, int]] = field(default_factory=list)  # delivered/failed/blocked
    urgent: list[tuple[int, datetime | None, datetime | None, float | None]] = field(
        default_factory=list)  # id, approved, last delivery, minutes


@dataclass
class Residents:
    subscribers_start: int = 0
    subscribers_end: int = 0
    residents_start: int = 0
    residents_end: int = 0
    active: int = 0
    by_channel_end: dict[str, int] = field(default_factory=dict)
    by_area_end: dict[str, int] = field(default_factory=dict)
    optouts: int = 0


@dataclass
class Questions:
    asked: int = 0
    answered: int = 0
    unanswered: int = 0
    red_flags: int = 0
    by_topic: dict[str, int] = field(default_factory=dict)
    unanswered_themes: list[tuple[str, int]] = field(default_factory=list)

    @property
    def answered_share(self) -> float | None:
        return (self.answered + self.red_flags) / self.asked if self.asked else None

    @property
    def unanswered_share(self) -> float | None:
        return self.unanswered / self.asked if self.asked else None


@dataclass
class Reminders:
    by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())


@dataclass
class Feedback:
    received: int = 0
    by_category: dict[str, int] = field(default_factory=dict)
    by_channel: dict[str, int] = field(default_factory=dict)
    accepted: int = 0
    accepted_on_time: int = 0
    resolved: int = 0
    resolved_on_time: int = 0
    open_at_end: int = 0
    overdue_at_end: int = 0
    satisfaction: Satisfaction = Satisfaction(0, 0)
    by_month: list[tuple[date, int, Satisfaction]] = field(default_factory=list)

    @property
    def target_met(self) -> bool | None:
        rate = self.satisfaction.rate
        return None if rate is None else rate >= SATISFACTION_TARGET


@dataclass
class ReportFigures:
    period: Period
    station_id: int | None
    communication: Communication
    residents: Residents
    questions: Questions
    reminders: Reminders
    feedback: Feedback
    checkups: Any = None  # storage.checkups.Coverage: free yearly check-ups (issue 20)
    survey: Any = None  # storage.survey.Satisfaction: the residents' survey (issue 20)

    def as_dict(self) -> dict[str, Any]:
        """Plain values for JSON and for comparing two computations."""
        from dataclasses import asdict

        def plain(value: Any) -> Any:
            if isinstance(value, dict):
                return {str(k): plain(v) for k, v in value.items()}
            if isinstance(value, list | tuple):
                return [plain(v) for v in value]
            if isinstance(value, date | datetime):
                return value.isoformat()
            return value

        return plain(asdict(self))
