"""The console's unanswered questions (issue 18, point 4): grouped by similar wording, with
counts, anonymised; a group exported as a library entry for the content maintainers, or answered
by staff to the residents who asked.

Grouping: each question's content words (its matching form, `content.normalize.normalize`,
without the function words "có", "không", "ở"... of `content.normalize.FUNCTION_WORDS`, which
would make "trạm có bán kính lão không" and "trạm có bán thuốc cảm không" look alike) are
compared with the groups found so far (rapidfuzz `token_set_ratio`, the overlap whatever the
order); at `SIMILAR` or more it joins the closest group, else it starts one. Questions are taken oldest
first, so a group's first question is its stable key (its id).

Anonymised: staff see the words with phone numbers, dates and ids masked (`bot.log_privacy`),
never a name, chat or platform id.

"Answered by staff" reaches a resident only when the question is at most `ANSWER_WINDOW` old (7
days: Zalo OA refuses to write to a user silent for 7 days, and an answer a week late helps
little) and their private chat is still reachable (active, not blocked); group questions are
never answered in the group. The reply goes through the outbox, once per question (dedupe key).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import yaml
from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import gettext_for, normalize_locale
from bot.log_privacy import redact
from bot.model import Outbound
from content.normalize import FUNCTION_WORDS, normalize
from storage import outbox, unanswered
from storage.models import Chat, UnansweredQuestion

SIMILAR = 75  # token_set_ratio (0–100) at which two questions are "the same question"
ANSWER_WINDOW = timedelta(days=7)
LIST_WINDOW = timedelta(days=90)  # what the page lists: the retention of the message log
SAMPLES = 10  # sample questions per group in the export
MAX_ANSWER_CHARS = 1500


@dataclass
class Group:
    key: int  # the id of its first question
    label: str  # its first question, anonymised
    form: str  # its first question's matching form
    ids: list[int] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)  # distinct anonymised wordings
    locales: dict[str, list[str]] = field(default_factory=dict)
    first_at: datetime | None = None
    last_at: datetime | None = None

    @property
    def count(self) -> int:
        return len(self.ids)


def anonymised(text: str) -> str:
    return redact(" ".join(text.split()))


def content_form(text: str) -> str:
    """The words that carry a question's meaning, in matching form."""
    form = normalize(text)
    return " ".join(w for w in form.split() if w not in FUNCTION_WORDS) or form or \
        text.strip().lower()


def group_questions(rows: list[UnansweredQuestion], similar: int = SIMILAR) -> list[Group]:
    """Groups of similar questions, the largest first (then the most recent)."""
    groups: list[Group] = []
    forms: list[str] = []
    for row in sorted(rows, key=lambda r: r.id):
        form = content_form(row.text)
        best = process.extractOne(form, forms, scorer=fuzz.token_set_ratio,
                                  score_cutoff=similar) if forms else None
        if best is None:
            group = Group(key=row.id, label=anonymised(row.text), form=form)
            groups.append(group)
            forms.append(form)
        else:
            group = groups[best[2]]
        group.ids.append(row.id)
        wording = anonymised(row.text)
        if wording.lower() not in (s.lower() for s in group.samples):
            group.samples.append(wording)
            group.locales.setdefault(normalize_locale(row.locale), []).append(wording)
        group.first_at = min(filter(None, (group.first_at, row.created_at)))
        group.last_at = max(filter(None, (group.last_at, row.created_at)))
    return sorted(groups, key=lambda g: (-g.count, -g.ids[-1]))


async def open_groups(session: AsyncSession, now: datetime,
                      stations: Collection[int] | None) -> list[Group]:
    rows = await unanswered.since(session, now - LIST_WINDOW, stations=stations)
    return group_questions(rows)


async def rows_of(session: AsyncSession, ids: Collection[int],
                  stations: Collection[int] | None) -> list[UnansweredQuestion]:
    """The open questions among `ids` that belong to `stations` (a forged id is ignored)."""
    if not ids:
        return []
    stmt = select(UnansweredQuestion).where(UnansweredQuestion.id.in_(list(ids)),
                                            UnansweredQuestion.status == unanswered.OPEN)
    if stations is not None:
        stmt = stmt.where(UnansweredQuestion.station_id.in_(list(stations)))
    return list((await session.execute(stmt.order_by(UnansweredQuestion.id))).scalars())


def library_snippet(group: Group, *, today: date, station: str) -> str:
    """A draft library entry (content/library/*.yaml's entry format) with the sample questions
    filled in; the maintainers write the answer, its sources and the review date."""
    questions = {loc: group.locales[loc][:SAMPLES] for loc in ("vi", "en") if loc in group.locales}
    entry = {
        "id": "TOPIC.new-entry",
        "kind": "question",
        "title": {"vi": "TODO", "en": "TODO"},
        "text": {"vi": "TODO", "en": "TODO"},
        "questions": questions or {"vi": group.samples[:SAMPLES]},
        "sources": [{"issuer": "TODO", "title": "TODO", "url": "TODO", "date": "TODO"}],
        "reviewed_on": "TODO",
        "status": "draft",
    }
    header = (f"# {group.count} unanswered question(s) at {station}, "
              f"{today:%d/%m/%Y}: add under `entries:` of a topic file, write the answer from an\n"
              f"# official source (docs/content.md), then set status: approved.\n")
    body = yaml.safe_dump([entry], allow_unicode=True, sort_keys=False, width=100)
    return header + body


def library_file(groups: list[Group], *, today: date, station: str) -> str:
    return "\n".join(library_snippet(g, today=today, station=station) for g in groups)


@dataclass(frozen=True)
class AnswerOutcome:
    sent: int  # residents the answer was queued for
    too_old: int  # asked before the answer window
    unreachable: int  # asked in a group, or their chat blocked / gone


async def answer(session: AsyncSession, rows: list[UnansweredQuestion], text: str, *,
                 station_name: str, by: str, now: datetime) -> AnswerOutcome:
    """Queue the staff's answer to each resident who asked (see the module docstring) and mark
    every question of the group answered."""
    sent = old = unreachable_count = 0
    for row in rows:
        if now - row.created_at > ANSWER_WINDOW:
            old += 1
            continue
        chat = (await session.execute(select(Chat).where(
            Chat.channel == row.channel, Chat.external_id == row.chat_id))).scalar_one_or_none()
        if (row.chat_kind != "private" or chat is None or not chat.active
                or chat.unreachable_reason is not None):
            unreachable_count += 1
            continue
        _ = gettext_for(row.locale)
        heading = _("{station} answers the question you asked: “{question}”").format(
            station=station_name, question=row.text[:200])
        queued = await outbox.enqueue(
            session, dedupe_key=f"unanswered:{row.id}:answer", channel=row.channel,
            chat_id=row.chat_id, payload=Outbound(text=f"{heading}\n\n{text}").to_payload(),
            priority=outbox.PRIORITY_REPLY, not_before=now)
        sent += int(queued)
    await unanswered.mark(session, [r.id for r in rows], unanswered.ANSWERED, by=by, at=now)
    return AnswerOutcome(sent, old, unreachable_count)
