"""Feedback categories: the configured ones, or the defaults every ward plan lists.

Urgent categories (an outbreak in the neighbourhood, food poisoning risks) get the shorter accept
deadline (`feedback.urgent_accept_hours`).
"""

from __future__ import annotations

from bot.config import FeedbackCategory, Settings

DEFAULT_CATEGORIES: tuple[FeedbackCategory, ...] = (
    FeedbackCategory("attitude", "Thái độ phục vụ", "Staff attitude"),
    FeedbackCategory("waiting", "Thời gian chờ", "Waiting time"),
    FeedbackCategory("care", "Chất lượng khám chữa bệnh", "Quality of care"),
    FeedbackCategory("medicine", "Thuốc và BHYT", "Medicines and health insurance"),
    FeedbackCategory(
        "sanitation", "Vệ sinh môi trường / ổ bọ gậy", "Sanitation / mosquito breeding sites"
    ),
    FeedbackCategory("food", "An toàn thực phẩm", "Food safety", urgency="urgent"),
    FeedbackCategory(
        "outbreak", "Dịch bệnh trong khu dân cư", "Disease outbreak nearby", urgency="urgent"
    ),
    FeedbackCategory("other", "Khác", "Other"),
)


def categories(settings: Settings) -> list[FeedbackCategory]:
    """The station's categories (configuration wins over the defaults)."""
    return list(settings.feedback.categories or DEFAULT_CATEGORIES)


def category(settings: Settings, code: str) -> FeedbackCategory | None:
    return next((c for c in categories(settings) if c.code == code), None)


def category_name(cat: FeedbackCategory | None, locale: str, code: str = "") -> str:
    if cat is None:
        return code
    return cat.name_en if locale == "en" else cat.name_vi
