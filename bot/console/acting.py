"""Acting from the console with the chat's own domain functions (bot.feedback.handling).

Those functions take a conversation `Context`; `staff_context` builds one for a signed-in staff
member acting on one station: the inbound comes from the "console" channel (no platform chat, no
reply is sent anywhere: the console shows the confirmation), the session is the caller's, and the
station is the ticket's, so `ctx.settings` names the right station in what residents read.
Everything the functions enqueue (answers, closing notes) goes through the outbox in the same
transaction, to whatever channel the resident used.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import StaffMember
from bot.context import Context, Services
from bot.model import Capabilities, Inbound
from storage.models import Chat, Identity, Person
from storage.people import Contact, SavedState

CHANNEL = "console"
CONSOLE = Capabilities(buttons=False, max_text=4000, groups=False, name=CHANNEL, media=False,
                       replies=False)


def staff_context(services: Services, session: AsyncSession, member: StaffMember,
                  station_id: int, locale: str) -> Context:
    inbound = Inbound(channel=CHANNEL, chat_id=member.name, user_id=member.name,
                      chat_kind="group")
    # Transient rows (never added to the session): a "group" of the ticket's station, so
    # ctx.station_id and ctx.settings are that station's.
    chat = Chat(channel=CHANNEL, external_id=member.name, kind="group", station_id=station_id)
    contact = Contact(person=Person(station_id=station_id),
                      identity=Identity(channel=CHANNEL, external_id=member.name),
                      chat=chat, state=SavedState(id=0, state="", data={}))
    return Context(inbound=inbound, caps=CONSOLE, services=services, session=session,
                   contact=contact, locale=locale)
