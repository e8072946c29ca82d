"""Health topics by menu, and questions answered from the content library (`/hoi`, free text)."""

from __future__ import annotations

from bot.context import Context
from bot.i18n import gettext_for
from bot.model import Button
from bot.router import Router
from content.library import TOPIC_IDS
from content.normalize import is_not_a_question, normalize, question_language
from content.render import render_entry
from storage import report_facts, unanswered

router = Router()
router.keyword("hoi", "hoi dap", "dat cau hoi", "ask", "question")
router.keyword("chude", "chu de", "topics", "topic", "thong tin suc khoe")

# Topics reached by their own flows, not listed as reading topics in the browse menu.
NOT_BROWSED = {"feedback"}
ASK_STATE = "ask"
# State data: the language of the resident's last question written in whole sentences. Answers
# keep it until the resident writes whole sentences in the other language or chooses one; a
# drug name or a short reply ("paracetamol", "ok") does not switch it.
REPLY_LANGUAGE = "reply_lang"
# Menu order: the library's canonical order (diseases first, station and emergency last).
TOPIC_ORDER = {topic_id: i for i, topic_id in enumerate(TOPIC_IDS)}


@router.command("chude", "topics")
async def topics(ctx: Context) -> None:
    await browse_topics(ctx)


@router.button("topics")
async def browse_topics(ctx: Context) -> None:
    library = ctx.library
    ordered = sorted(library.topics.values(), key=lambda t: TOPIC_ORDER.get(t.id, len(TOPIC_ORDER)))
    rows = [
        [Button(topic.title(ctx.locale), f"t:{topic.id}")]
        for topic in ordered
        if topic.id not in NOT_BROWSED and any(e.approved for e in topic.entries)
    ]
    rows.append([Button(ctx._("Main menu"), "menu")])
    ctx.reply(ctx._("Which topic would you like to read about?"), rows)


@router.button("t")
async def topic(ctx: Context) -> None:
    library = ctx.library
    chosen = library.topics.get(ctx.args)
    if chosen is None:
        await browse_topics(ctx)
        return
    rows = [[Button(e.title(ctx.locale), f"e:{e.id}")] for e in chosen.entries if e.approved]
    rows.append([Button(ctx._("Other topics"), "topics"), Button(ctx._("Main menu"), "menu")])
    ctx.reply(chosen.title(ctx.locale), rows, topic=chosen.id)


@router.button("e")
async def entry_button(ctx: Context) -> None:
    await show_entry(ctx, ctx.args)


async def show_entry(ctx: Context, entry_id: str, locale: str | None = None) -> None:
    """Render one library entry with its source line and follow-up buttons.

    `locale` overrides the resident's language for this answer (a question asked in English).
    """
    library = ctx.library
    if not library.has_entry(entry_id) or not library.entry(entry_id).approved:
        await not_found(ctx)
        return
    entry = library.entry(entry_id)
    locale = locale or ctx.data.get(REPLY_LANGUAGE) or ctx.locale
    answer = render_entry(
        entry,
        locale,
        ctx.settings.station.info(),
        base_salary=ctx.settings.bhyt.base_salary,
        today=ctx.now,  # the Vietnamese day is taken from the aware clock
        library=library,
    )
    _ = gettext_for(locale)  # every label in the answer's language, not half in another
    rows = [[Button(title, f"e:{fid}")] for fid, title in answer.followups[:3]]
    if locale != ctx.locale:  # answered in the language asked; offer to keep it
        rows.insert(0, [Button("English" if locale == "en" else "Tiếng Việt", f"lang:{locale}")])
    if entry.topic_id == "feedback":  # the feedback topic leads straight into the flow
        rows.insert(0, [Button(_("Send feedback now"), "cmd:gopy")])
    rows.append([Button(_("Main menu"), "menu")])
    ctx.reply(answer.text, rows, source=answer.source_line, topic=entry.topic_id)


@router.button("ask")
async def ask_button(ctx: Context) -> None:
    ctx.set_state(ASK_STATE)
    ctx.reply(
        ctx._('Please type your question, for example: "tre 2 thang tiem mui gi".'),
        [[Button(ctx._("Main menu"), "menu")]],  # a way back for whoever tapped it by mistake
    )


@router.command("hoi", "ask")
async def ask_command(ctx: Context) -> None:
    if not ctx.args:
        await ask_button(ctx)
        return
    await answer_question(ctx, ctx.args)


@router.state(ASK_STATE)
async def ask_state(ctx: Context) -> None:
    ctx.clear_state()
    await answer_question(ctx, ctx.inbound.text)


@router.text
async def free_text(ctx: Context) -> None:
    await answer_question(ctx, ctx.inbound.text)


async def answer_question(ctx: Context, question: str) -> None:
    """Answer from the library, or say honestly that we have no answer (never a wrong topic)."""
    typed = question.strip().rstrip(".")
    if typed.isdigit():  # a menu number that is not on the current menu: not a question
        await _not_on_menu(ctx, typed)
        return
    result = ctx.matcher.match(question, ctx.locale)
    locale = _reply_language(ctx, result.locale if result.entry else question_language(question))
    answered = result.entry is not None and result.topic is not None
    await report_facts.record(ctx.session, report_facts.QUESTION, channel=ctx.inbound.channel,
                              at=ctx.now, topic=result.topic, station_id=ctx.station_id,
                              outcome=report_facts.ANSWERED if answered else report_facts.UNANSWERED)
    if result.entry is None or result.topic is None:
        if not is_not_a_question(question):  # the console groups them (issue 18); not "ok"
            await unanswered.record(
                ctx.session, channel=ctx.inbound.channel, chat_id=ctx.inbound.chat_id,
                chat_kind=ctx.inbound.chat_kind, user_id=ctx.inbound.user_id, locale=locale,
                text=question, at=ctx.now, station_id=ctx.station_id)
            await not_found(ctx, locale)
        else:  # "cảm ơn", "ok", "thank you": a courtesy, not a question we failed to answer
            await acknowledge(ctx, "en" if _english_thanks(question) else locale)
        return
    await show_entry(ctx, result.entry.id, locale=locale)


_ENGLISH_THANKS = frozenset({"thank", "thanks", "thx"})
_ENGLISH_COURTESY = _ENGLISH_THANKS | frozenset("you so much very ok okay great bye".split())


def _english_thanks(text: str) -> bool:
    """An English thank-you ("thank you", "thanks"): too short for `question_language`."""
    words = set(normalize(text).split())
    return bool(words & _ENGLISH_THANKS) and words <= _ENGLISH_COURTESY


def _reply_language(ctx: Context, written_in: str | None) -> str:
    """The language to answer in: the question's when it is clear, else the one kept so far."""
    kept = ctx.data.get(REPLY_LANGUAGE) or ctx.locale
    if written_in is None or written_in == kept:
        return kept
    ctx.update_data(**{REPLY_LANGUAGE: written_in})
    return written_in


async def _not_on_menu(ctx: Context, number: str) -> None:
    from bot.conversations.start import main_menu_buttons  # start imports this module

    ctx.reply(
        ctx._("There is no option {number} here. Here is the menu again.").format(number=number),
        main_menu_buttons(ctx),
    )


async def acknowledge(ctx: Context, locale: str | None = None) -> None:
    _ = gettext_for(locale) if locale else ctx._
    ctx.reply(
        _(
            "All right. If you need anything else, just write to me or choose from the menu. "
            "In an emergency call 115."
        ),
        [[Button(_("Health topics"), "topics")], [Button(_("Main menu"), "menu")]],
    )


async def not_found(ctx: Context, locale: str | None = None) -> None:
    _ = gettext_for(locale) if locale else ctx._
    ctx.reply(
        _(
            "Sorry, I have no information on that yet. Please call the health station at {phone}, "
            "or choose a topic from the menu. In an emergency call 115."
        ).format(phone=ctx.settings.station.phone),
        [[Button(_("Health topics"), "topics")], [Button(_("Main menu"), "menu")]],
    )
