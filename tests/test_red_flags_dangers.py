"""The dangers answered by the general "call 115" entry name the danger in their first line.

A resident who writes "bà tôi ngã không đứng dậy được" must see at once that the bot understood
(a fall with no getting up) and, on the next line, to call 115. docs/safety.md, "Dangers answered
by 115".
"""

from __future__ import annotations

import pytest

from bot.i18n import gettext_for
from bot.safety import headline
from content.red_flags import load_rules
from tests.transcript import Transcript

GENERAL = "emergency.call-115"


def test_every_kind_answered_by_the_general_entry_has_a_line_naming_the_danger() -> None:
    kinds = [rule.kind for rule in load_rules().rules if rule.entry_id == GENERAL]
    assert {"meningitis_rash", "sudden_confusion", "fall_cannot_get_up"} <= set(kinds)
    for locale in ("vi", "en"):
        _ = gettext_for(locale)
        missing = [kind for kind in kinds if not headline(_, kind)]
        assert missing == [], (locale, missing)


@pytest.mark.parametrize(
    ("message", "named"),
    [
        ("bà tôi ngã trong nhà tắm không đứng dậy được", "ngã không tự đứng dậy được"),
        ("me toi tu nhien lu lan ko nhan ra ai", "đột ngột lú lẫn"),
        ("be bi sot phat ban ko mat khi an vao", "nốt ban ấn vào không mất"),
        ("my grandmother fell and can't get up", "fallen and cannot get up"),
        ("my dad is suddenly confused and does not know where he is", "suddenly becomes confused"),
        ("fever and a rash that doesn't go away when I press it", "does not fade when pressed"),
    ],
)
async def test_the_danger_is_named_then_115(healthbot, message: str, named: str) -> None:
    chat = Transcript(healthbot)
    await chat.say(message)
    first, second = chat.replies[0].text.splitlines()[:2]
    assert named in first
    assert "115" in second
