"""The red-flag layer: a resident's text is checked for danger before states, menus and matching.

`answer_red_flag(ctx)` is called by the engine for every text message, whatever the
conversation state. When `content.red_flags.detect()` recognises danger it replies with the
library entry that says what to do now (source and review date included), led by a short line
naming the danger for the kinds answered by the general "call 115" entry, and returns True so
nothing else handles the message. The conversation state is kept: a resident interrupted in the
feedback flow or a menu can carry on after. See docs/safety.md.
"""

from __future__ import annotations

import logging

from bot.context import Context
from bot.i18n import Gettext, gettext_for
from bot.model import Button
from content.library import Library
from content.matching import MatchResult
from content.red_flags import RedFlag, detect, looks_english
from content.render import render_entry
from storage import report_facts

log = logging.getLogger(__name__)
COMMAND_PREFIX = "/"
# States whose step takes the resident's own words (a complaint, an addition to a ticket, a
# comment on a rating). A complaint may tell of a past emergency ("hôm qua con tôi co giật mà
# trạm không có ai"): the danger answer comes first, then the step takes the text as usual, so
# such feedback can be sent at all.
WORDS_KEPT_STATES = frozenset({"feedback.describe", "feedback.add", "feedback.comment"})


def headline(_: Gettext, kind: str) -> str:
    """The line that names the danger before the general emergency entry ('' for other kinds)."""
    if kind == "not_breathing":
        return _("Trouble breathing or turning blue is an emergency.")
    if kind == "unconscious":
        return _("Someone who has fainted or cannot be woken needs help now.")
    if kind == "pregnancy_bleeding":
        return _("Bleeding or severe pain in pregnancy needs a hospital now.")
    if kind == "head_injury":
        return _("A head injury with vomiting, drowsiness or confusion is an emergency.")
    if kind == "emergency_now":
        return _("This sounds like an emergency.")
    if kind == "child_fever_danger":
        return _("A child with a fever and a sign like these needs a hospital now.")
    if kind == "meningitis_rash":
        return _("A fever with a rash that does not fade when pressed is an emergency.")
    if kind == "sudden_confusion":
        return _("Someone who suddenly becomes confused needs help now.")
    if kind == "fall_cannot_get_up":
        return _("Someone who has fallen and cannot get up needs help now.")
    return ""


def red_flag_in(text: str) -> RedFlag | None:
    """The danger in a message, reading a command's words too ("/hoi con bi co giat")."""
    if text.startswith(COMMAND_PREFIX):
        text = text.partition(" ")[2]
    return detect(text)


def red_flag_match(library: Library, text: str) -> MatchResult | None:
    """The red-flag entry as a match (for `healthbot ask`), or None when there is no danger."""
    flag = red_flag_in(text)
    if flag is None or not library.has_entry(flag.entry_id):
        return None
    entry = library.entry(flag.entry_id)
    return MatchResult(topic=entry.topic_id, entry=entry, score=1.0)


async def answer_red_flag(ctx: Context) -> bool:
    """Answer danger first; True when that answer is all (nothing else may handle the message).

    False when there was no danger, or when the danger answer has been given and the current
    step still takes the words (`WORDS_KEPT_STATES`).
    """
    inbound = ctx.inbound
    if inbound.button or not inbound.text:
        return False
    if ctx.staff_member() is not None and (
        ctx.state or inbound.chat_kind == "group" or inbound.text.startswith(COMMAND_PREFIX)
    ):
        # Staff writing a broadcast, an alert or an answer to a ticket describe other people's
        # danger ("bé co giật đã chuyển viện"): their words must reach the residents.
        return False
    flag = red_flag_in(inbound.text)
    if flag is None:
        return False
    library = ctx.services.library
    if not library.has_entry(flag.entry_id):  # the library and red_flags.yaml disagree
        log.error("red-flag entry %s missing from the library", flag.entry_id)
        return False
    # No text or kind in the log: what a resident says about their health is personal data.
    log.info("red flag answered on %s", inbound.channel)
    await report_facts.record(ctx.session, report_facts.QUESTION, channel=inbound.channel,
                              at=ctx.now, topic=library.entry(flag.entry_id).topic_id,
                              outcome=report_facts.RED_FLAG, station_id=ctx.station_id)
    locale = "en" if flag.english and looks_english(inbound.text) else ctx.locale
    _ = gettext_for(locale)
    entry = library.entry(flag.entry_id)
    answer = render_entry(
        entry,
        locale,
        ctx.settings.station.info(),
        base_salary=ctx.settings.bhyt.base_salary,
        today=ctx.now.date(),
        library=library,
    )
    lead = headline(_, flag.kind)
    text = f"{lead}\n{answer.text}" if lead else answer.text
    words_kept = ctx.state in WORDS_KEPT_STATES
    if ctx.state and not words_kept:
        text += "\n\n" + _("When you are ready, you can carry on where you left off.")
    rows = [[Button(title, f"e:{fid}")] for fid, title in answer.followups[:2]]
    rows.append([Button(_("Main menu"), "menu")])
    ctx.reply(text, rows, source=answer.source_line, topic=entry.topic_id)
    return not words_kept
