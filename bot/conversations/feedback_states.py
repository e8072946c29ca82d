"""What the residents' feedback conversation's modules share: its states and the Cancel row.

Part of `/gopy` and `/phananh` (`bot.conversations.feedback`, which re-exports these names).
"""

from __future__ import annotations

from bot.context import Context
from bot.model import Button

CATEGORY = "feedback.category"
DESCRIBE = "feedback.describe"
CONTACT = "feedback.contact"
PHONE = "feedback.phone"
REVIEW = "feedback.review"
ADD = "feedback.add"
RATE = "feedback.rate"
COMMENT = "feedback.comment"


def _cancel_row(ctx: Context) -> list[Button]:
    return [Button(ctx._("Cancel"), "fb:cancel")]

