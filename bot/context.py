"""What a conversation handler gets: the inbound, the person, their state, a translator and services.

Handlers never import a platform module; they call `ctx.reply(...)` and change `ctx.state`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings, StaffMember
from bot.i18n import Gettext, gettext_for
from bot.model import Button, Capabilities, Inbound, Outbound
from bot.stations import settings_for
from storage.db import Database
from storage.people import Contact

if TYPE_CHECKING:
    from content.library import Library
    from content.matching import Matcher


class Deliverer(Protocol):
    """Sends to a chat other than the one being answered (staff chats, other residents)."""

    async def enqueue(
        self,
        session: AsyncSession,
        *,
        channel: str,
        chat_id: str,
        message: Outbound,
        dedupe_key: str,
        priority: int = 0,
        chat_kind: str = "private",
        ticket_id: int | None = None,
    ) -> None: ...


@dataclass
class Services:
    """Long-lived dependencies, injected into every handler (tests hand in their own clock)."""

    settings: Settings
    db: Database
    library: Library
    matcher: Matcher
    clock: Callable[[], datetime]
    deliverer: Deliverer | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    # Stations with their own library entries (issue 21): station id -> (merged library, matcher)
    station_content: dict[int, tuple[Library, Matcher]] = field(default_factory=dict)


@dataclass
class Context:
    inbound: Inbound
    caps: Capabilities
    services: Services
    session: AsyncSession
    contact: Contact
    locale: str
    args: str = ""
    replies: list[Outbound] = field(default_factory=list)
    # Set by erasure: this exchange is not written to the message log (nothing of them remains).
    forget_exchange: bool = False

    @property
    def _(self) -> Gettext:  # noqa: N802 - the gettext convention
        return gettext_for(self.locale)

    @property
    def station_id(self) -> int:
        """The station this inbound belongs to (issue 21): the group's, else the resident's."""
        if self.contact.chat.kind == "group" or self.contact.person is None:
            return self.contact.chat.station_id or 1
        station_id = self.contact.person.station_id or 1
        member = self.staff_member()  # staff speak for their own station in a private chat
        if member is not None and not member.province and member.stations \
                and station_id not in member.stations:
            return member.stations[0]
        return station_id

    @property
    def library(self) -> Library:
        """The shared library, plus this station's own entries if it has any (issue 21)."""
        own = self.services.station_content.get(self.station_id)
        return self.services.library if own is None else own[0]

    @property
    def matcher(self) -> Matcher:
        own = self.services.station_content.get(self.station_id)
        return self.services.matcher if own is None else own[1]

    @property
    def settings(self) -> Settings:
        """The settings as this inbound's station sees them (bot.stations.settings_for)."""
        settings = self.services.settings
        if not settings.stations:  # one station: nothing to look up on every access
            return settings
        return settings_for(settings, self.station_id)

    @property
    def now(self) -> datetime:
        return self.services.clock()

    @property
    def state(self) -> str:
        return self.contact.state.state

    @property
    def data(self) -> dict[str, Any]:
        return dict(self.contact.state.data or {})

    def set_state(self, state: str, **data: Any) -> None:
        """Enter a state; keyword values replace the stored data (the numbered menu is kept)."""
        menu = (self.contact.state.data or {}).get("menu")
        new: dict[str, Any] = dict(data)
        if menu is not None and "menu" not in new:
            new["menu"] = menu
        self.contact.state.state = state
        self.contact.state.data = new

    def update_data(self, **data: Any) -> None:
        merged = dict(self.contact.state.data or {})
        merged.update(data)
        self.contact.state.data = merged

    def clear_state(self) -> None:
        self.set_state("")

    def reply(
        self,
        text: str,
        buttons: Sequence[Sequence[Button]] = (),
        *,
        source: str | None = None,
        topic: str | None = None,
        image: str | None = None,
    ) -> Outbound:
        out = Outbound(
            text=text,
            buttons=tuple(tuple(row) for row in buttons if row),
            source=source,
            topic=topic,
            image=image,
        )
        self.replies.append(out)
        return out

    def staff_member(self) -> StaffMember | None:
        """The configured staff member behind this inbound, if any (matched on channel id)."""
        key = {
            "telegram": "telegram_id",
            "zalo_bot": "zalo_bot_id",
            "zalo_oa": "zalo_oa_id",
            "web": "web_id",
        }.get(self.inbound.channel)
        if key is None:
            return None
        for member in self.services.settings.staff:  # every station's staff
            if getattr(member, key) and getattr(member, key) == self.inbound.user_id:
                return member
        return None
