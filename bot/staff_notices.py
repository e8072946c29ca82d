"""Notes to staff about things residents did: a rating (and its comment) goes to the ticket's
staff chat, as a reply to the ticket's card where the channel allows, so staff see it at once
instead of only in `healthbot tickets --json` and the spreadsheet."""

from __future__ import annotations

from bot.context import Context
from bot.feedback import notices
from bot.i18n import gettext_for
from storage.models import Ticket

STARS = "⭐"


async def rating_to_staff(ctx: Context, ticket: Ticket) -> None:
    """The resident's stars for a closed ticket, posted to its staff chat once."""
    _ = gettext_for(notices.staff_locale(ctx.services))
    stars = int(ticket.rating or 0)
    text = _("{stars} The resident rated {code}: {rating}/5.").format(
        stars=STARS * stars, code=ticket.code, rating=stars)
    if ticket.assignee:
        text += "\n" + _("Handled by {name}.").format(name=ticket.assignee)
    await notices.send_to_staff_chat(ctx.services, ctx.session, ticket, text,
                                     f"ticket:{ticket.id}:rating")


async def comment_to_staff(ctx: Context, ticket: Ticket) -> None:
    """The resident's comment on their rating, posted to the ticket's staff chat once."""
    _ = gettext_for(notices.staff_locale(ctx.services))
    text = _("Comment on {code} ({rating}/5): “{comment}”").format(
        code=ticket.code, rating=int(ticket.rating or 0), comment=ticket.rating_comment or "")
    await notices.send_to_staff_chat(ctx.services, ctx.session, ticket, text,
                                     f"ticket:{ticket.id}:rating-comment")
