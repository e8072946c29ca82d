"""The satisfaction survey (`/danhgia`): short, one question per message, 1-5 with big buttons.

Asked after a check-up the staff marked as attended (an invitation through the outbox) or on
request; a resident is asked at most once per `survey.interval_days`. Answers are stored without
who gave them (`storage.survey`); an unfinished survey resumes where it stopped (`/danhgia` or any
earlier button). The questions follow the sections of the Ministry of Health's outpatient form;
see docs/satisfaction.md for what is and is not confirmed about the form and its scoring.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.context import Context
from bot.i18n import gettext_for, normalize_locale
from bot.model import Button, Outbound
from bot.router import Router
from storage import outbox, survey
from storage.models import SurveyInvitation

router = Router()
router.keyword("danhgia", "danh gia", "khao sat", "survey")


def _(text: str) -> str:
    """Mark for extraction; translated where shown."""
    return text


# One question per section of the outpatient form (Decision 3869/QĐ-BYT, Mẫu số 2), in our own
# plain words for a commune station; the form's own item texts are not reproduced (see the doc).
QUESTIONS: tuple[tuple[str, str], ...] = (
    ("A", _("Getting to the station and finding your way there (signs, opening hours, phone)?")),
    ("B", _("Clear information and simple procedures (registration, waiting, what to do next)?")),
    ("C", _("The station's facilities (waiting area, seats, clean toilets, drinking water)?")),
    ("D", _("The staff's manner and competence?")),
    ("E", _("The result of the care you received?")),
)
SCALE = (
    (5, _("5 – Very satisfied")), (4, _("4 – Satisfied")), (3, _("3 – Neutral")),
    (2, _("2 – Dissatisfied")), (1, _("1 – Very dissatisfied")),
)  # fmt: skip


TRIGGERS = ("checkup", "request", "vaccination")  # what led to a survey (SurveyResponse.trigger)


def _since(settings: Settings, now: datetime) -> datetime:
    return now - timedelta(days=settings.survey.interval_days)


@router.command("danhgia", "survey", groups=False)
async def survey_command(ctx: Context) -> None:
    await begin(ctx, "request")


@router.button("sv")
async def survey_button(ctx: Context) -> None:
    if ctx.inbound.chat_kind != "private":
        return
    verb, _sep, rest = ctx.args.partition(":")
    if verb == "start":
        await begin(ctx, rest if rest in TRIGGERS else "request")
    elif verb == "a":
        question, _sep, score = rest.partition(":")
        await record(ctx, question, int(score) if score.isdigit() else 0)


async def begin(ctx: Context, trigger: str) -> None:
    _ = ctx._
    person = ctx.contact.person
    invitation = await survey.latest_invitation(ctx.session, person.id, _since(ctx.settings, ctx.now))
    if invitation is not None and invitation.finished:
        ctx.reply(_("Thank you, you answered the survey recently. We ask at most once every "
                    "{days} days.").format(days=ctx.settings.survey.interval_days),
                  [[Button(_("Main menu"), "menu")]])
        return
    if invitation is None:
        invitation = await survey.invite(ctx.session, person.id, ctx.now, ctx.station_id)
    if invitation.response_id is None:
        await survey.start(ctx.session, invitation, trigger, ctx.now)
        ctx.reply(_("Thank you for helping the station improve. {count} short questions; "
                    "your answers are anonymous.").format(count=len(QUESTIONS)))
    await ask_next(ctx, invitation)


async def ask_next(ctx: Context, invitation: SurveyInvitation) -> None:
    _ = ctx._
    response = await survey.open_response(ctx.session, invitation)
    answered = response.answers if response is not None else {}
    for n, (qid, text) in enumerate(QUESTIONS, 1):
        if qid not in answered:
            ctx.reply(_("Question {n}/{count}: how satisfied are you with").format(
                n=n, count=len(QUESTIONS)) + "\n" + _(text),
                [[Button(_(label), f"sv:a:{qid}:{score}")] for score, label in SCALE])
            return


async def record(ctx: Context, question: str, score: int) -> None:
    _ = ctx._
    invitation = await survey.latest_invitation(
        ctx.session, ctx.contact.person.id, _since(ctx.settings, ctx.now))
    known = {qid for qid, _text in QUESTIONS}
    if invitation is None or invitation.response_id is None or question not in known \
            or not 1 <= score <= 5:
        ctx.reply(_("This survey is finished. Thank you!"), [[Button(_("Main menu"), "menu")]])
        return
    response = await survey.open_response(ctx.session, invitation)
    answered = set(response.answers) if response is not None else set()
    last = (answered | {question}) >= known
    await survey.answer(ctx.session, invitation, question, score, last, ctx.now)
    if last:
        ctx.reply(_("Thank you! Your answers help the station serve residents better. For "
                    "anything to fix, send /gopy."), [[Button(_("Main menu"), "menu")]])
        return
    await ask_next(ctx, invitation)


async def invite_after_visit(
    session: AsyncSession, settings: Settings, person_id: int, now: datetime, key: str,
    trigger: str = "checkup",
) -> bool:
    """After a recorded visit: invite once (outbox, quiet hours kept), unless asked recently."""
    if not await survey.may_ask(session, person_id, now, settings.survey.interval_days):
        return False
    from bot.checkups.messages import private_chat_of

    row = await private_chat_of(session, person_id)
    if row is None:
        return False
    channel, chat_id, locale, station_id = row
    _ = gettext_for(normalize_locale(locale or settings.station.default_language))
    from scheduler.broadcasts import quiet_hours  # the quiet hours of ordinary broadcasts

    await survey.invite(session, person_id, now, station_id or 1)
    thanks = (_("Thank you for coming to the station. Would you answer {count} short questions "
                "about it? It takes a minute and is anonymous.") if trigger == "checkup" else
              _("Thank you for having your child vaccinated. Would you answer {count} short "
                "questions about the service? It takes a minute and is anonymous."))
    message = Outbound(text=thanks.format(count=len(QUESTIONS)),
                       buttons=((Button(_("Answer the survey"), f"sv:start:{trigger}"),),))
    return await outbox.enqueue(
        session, dedupe_key=f"survey-invite:{key}", channel=channel, chat_id=chat_id,
        payload=message.to_payload(), not_before=quiet_hours(settings).release_time(now))
