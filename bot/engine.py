"""The conversation engine: one `Inbound` in, the replies out, state saved in between.

Every channel adapter calls `HealthBot.handle(inbound, caps)`. It opens one database transaction,
finds or creates the person and chat, dispatches to a router handler, fits the replies to the
channel and commits, so a restart never loses where a resident was.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import replace

from sqlalchemy.exc import DBAPIError

from bot.context import Context, Services
from bot.conversations.start import move_to_station
from bot.i18n import gettext_for, normalize_locale
from bot.inbound_scrub import scrub, storable_ids, without_lone_surrogates
from bot.model import Capabilities, Inbound, Outbound
from bot.permissions import permit
from bot.rendering import MENU_KEY, fit, pick_numbered
from bot.router import Router
from bot.safety import answer_red_flag
from content.normalize import normalize
from storage import inbox, people
from storage.health import DatabaseUnavailable, FaultLog, describe, is_database_fault

log = logging.getLogger(__name__)

# The longest text a resident may send in one message (a feedback description may be this long).
MAX_INBOUND_CHARS = 4000
COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]+)?(?:\s+(.*))?$", re.S)
_CONTROL = {c: None for c in range(32) if chr(c) not in "\n\t"}


def clean_text(text: str) -> str:
    """NFC, no control characters, trimmed: Vietnamese typed on old phones is often decomposed."""
    return unicodedata.normalize("NFC", text).translate(_CONTROL).strip()


class HealthBot:
    """Routes inbounds to conversations; safe to share between channels and tasks."""

    def __init__(self, services: Services, router: Router) -> None:
        self.services = services
        self.router = router
        self.db_faults = FaultLog(log, "handling messages (database)")

    async def handle(
        self, inbound: Inbound, caps: Capabilities, *, update_key: str | None = None
    ) -> list[Outbound]:
        """Answer one inbound message in one transaction.

        With `update_key` (the platform's update id) a redelivered update gets no answer: the key
        is recorded in the same transaction as the handling, so a crash before the commit leaves
        neither, and the redelivery is then answered.
        """
        inbound, update_key = without_lone_surrogates(inbound), scrub(update_key)
        if not storable_ids(inbound):
            log.warning("%s update ignored: a chat or user id no platform sends", inbound.channel)
            return []
        inbound = replace(inbound, text=clean_text(inbound.text or ""))
        if (
            inbound.event is None
            and inbound.chat_kind == "group"
            and not inbound.addressed
            and not inbound.button
        ):
            return []  # in groups the bot speaks only when spoken to
        try:
            try:
                replies = await self._handle_once(inbound, caps, update_key)
            except DBAPIError as exc:
                if not exc.connection_invalidated:
                    raise
                # The database dropped a pooled connection (a restart, a failover): the pool has
                # discarded it and its siblings; the transaction never committed, so try once more.
                log.warning("database connection lost; handling the %s update again",
                            inbound.channel)
                replies = await self._handle_once(inbound, caps, update_key)
        except Exception as exc:
            if not is_database_fault(exc):
                raise
            # Down or read-only, every message fails alike: one log line per condition, not one
            # traceback per message; the caller answers "unavailable" (web 503, webhook retry).
            self.db_faults.failed(exc, with_traceback=True)
            raise DatabaseUnavailable(describe(exc)) from None
        self.db_faults.recovered()
        return replies

    async def _handle_once(
        self, inbound: Inbound, caps: Capabilities, update_key: str | None
    ) -> list[Outbound]:
        now = self.services.clock()
        async with self.services.db.sessions() as session:
            async with session.begin():
                if update_key is not None and not await people.mark_processed(
                    session, inbound.channel, update_key, now=now
                ):
                    log.info("%s redelivery skipped", inbound.channel)
                    return []
                contact = await people.open_contact(
                    session,
                    inbound.channel,
                    inbound.chat_id,
                    inbound.user_id,
                    inbound.chat_kind,
                    inbound.display_name,
                    now=now,
                    locale=normalize_locale(
                        inbound.locale_hint
                        if inbound.locale_hint == "en"
                        else self.services.settings.station.default_language
                    ),
                )
                ctx = Context(
                    inbound=inbound,
                    caps=caps,
                    services=self.services,
                    session=session,
                    contact=contact,
                    locale=normalize_locale(contact.person.locale),
                )
                if inbound.station_id is not None:  # came through a station's own bot
                    move_to_station(ctx, inbound.station_id)
                try:
                    async with session.begin_nested():
                        if inbound.event is not None:
                            await self._event(ctx)
                        else:
                            await self._dispatch(ctx)
                except Exception:
                    log.exception("handler failed for a %s update", inbound.channel)
                    ctx.replies.clear()
                    contact.state.restore()
                    if inbound.event is None:
                        await self._apologise(ctx)
                if not ctx.replies and inbound.event is None:
                    await self._fallback(ctx)
                _ = gettext_for(ctx.locale)
                replies, menu = fit(ctx.replies, caps, _)
                if menu is not None:
                    ctx.update_data(**{MENU_KEY: menu})
                log_rows = [
                    people.log_entry(
                        "in",
                        None if inbound.button else inbound.text[:MAX_INBOUND_CHARS],
                        {"button": inbound.button} if inbound.button else None,
                        user_id=inbound.user_id,
                    )
                ]
                log_rows += [
                    people.log_entry(
                        "out",
                        reply.text,
                        {"buttons": [[[b.label, b.data] for b in row] for row in reply.buttons]},
                        reply.topic,
                    )
                    for reply in replies
                ]
                if not ctx.forget_exchange:
                    await people.log_messages(session, inbound.channel, inbound.chat_id, log_rows,
                                              station_id=ctx.station_id)
                await people.save_state(session, contact.state, now)
                if update_key is not None and replies:  # an inbox row sends them after a crash
                    await inbox.keep_replies(session, inbound.channel, update_key,
                                             [reply.to_payload() for reply in replies])
        return replies

    async def _event(self, ctx: Context) -> None:
        handler = self.router.events.get(ctx.inbound.event or "")
        if handler is not None:
            await handler(ctx)

    async def _dispatch(self, ctx: Context) -> None:
        inbound, router, _ = ctx.inbound, self.router, ctx._
        if await answer_red_flag(ctx):  # danger first, in every state (docs/safety.md)
            return
        if len(inbound.text) > MAX_INBOUND_CHARS:
            ctx.reply(
                _(
                    "Your message is too long ({count} characters). Please send at most {limit} "
                    "characters. In an emergency, call 115 now."
                ).format(count=len(inbound.text), limit=MAX_INBOUND_CHARS)
            )
            return
        button = inbound.button or pick_numbered(inbound.text, ctx.data.get(MENU_KEY))
        if button:
            prefix, _sep, arg = button.partition(":")
            if prefix == "cmd":  # a menu button that does what a command does
                await self._command(ctx, arg, "")
                return
            handler = router.buttons.get(prefix)
            if handler is None:
                ctx.reply(_("That button is no longer valid. Here is the menu again."))
                await self._menu(ctx)
                return
            if not permit(ctx, router.button_actions.get(prefix), arg):
                return
            ctx.args = arg
            await handler(ctx)
            return
        match = COMMAND.match(inbound.text)
        name = match.group(1).lower() if match else None
        if name is None and inbound.text:
            folded = normalize(inbound.text)
            name = router.keywords.get(folded)
        if name is not None:
            await self._command(ctx, name, (match.group(2) or "").strip() if match else "")
            return
        entry = router.state_entry(ctx.state) if ctx.state else None
        if entry is not None:
            if permit(ctx, entry[1]):
                await entry[0](ctx)
            return
        if (inbound.photo or inbound.location) and router.media_handler is not None:
            await router.media_handler(ctx)
            return
        if inbound.text:
            for probe in router.text_probes:
                if await probe(ctx):
                    return
        if inbound.text and router.text_handler is not None:
            await router.text_handler(ctx)

    async def _command(self, ctx: Context, name: str, args: str) -> None:
        _ = ctx._
        command = self.router.commands.get(name)
        if command is None:
            ctx.reply(_("I don't know the command /{name}.").format(name=name))
            await self._help(ctx)
            return
        if command.action is not None:
            if not permit(ctx, command.action, args, command=True):
                return
        elif command.staff_only and ctx.staff_member() is None:
            log.warning(
                "refused staff command /%s from a non-staff %s user", name, ctx.inbound.channel
            )
            ctx.reply(_("Sorry, this command is only for the health station's staff."))
            return
        if ctx.inbound.chat_kind == "group" and not command.groups:
            ctx.reply(_("Please use this command in a private chat with me."))
            return
        ctx.clear_state()
        ctx.args = args
        await command.handler(ctx)

    async def _menu(self, ctx: Context) -> None:
        handler = self.router.commands.get("menu")
        if handler is not None:
            await handler.handler(ctx)

    async def _help(self, ctx: Context) -> None:
        handler = self.router.commands.get("trogiup")
        if handler is not None:
            await handler.handler(ctx)

    async def _fallback(self, ctx: Context) -> None:
        """Never leave a message unanswered: say we did not understand, show the menu and phone."""
        _ = ctx._
        ctx.reply(
            _(
                "Sorry, I did not understand. Please choose from the menu, or call the health station at {phone}."
            ).format(phone=ctx.settings.station.phone)
        )
        await self._menu(ctx)

    async def _apologise(self, ctx: Context) -> None:
        _ = ctx._
        ctx.reply(
            _(
                "Sorry, something went wrong on our side. Please try again, or call the health "
                "station at {phone}. In an emergency call 115."
            ).format(phone=ctx.settings.station.phone)
        )
