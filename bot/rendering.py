"""Fit outbound messages to a channel: source lines, numbered menus, splitting long text.

Channels without buttons (Zalo Bot) get "Gõ 1 để…" numbered menus; the numbers are remembered in
the conversation state so a reply of "2" means the second option on every channel.
"""

from __future__ import annotations

from dataclasses import replace

from bot.i18n import Gettext
from bot.model import Button, Capabilities, Outbound

MENU_KEY = "menu"


def split_text(text: str, limit: int) -> list[str]:
    """Split at paragraph, then line, then word boundaries so every part is ≤ limit characters."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for sep_chunk in _chunks(text, limit):
        if not current:
            current = sep_chunk
        elif len(current) + 2 + len(sep_chunk) <= limit:
            current = f"{current}\n\n{sep_chunk}"
        else:
            parts.append(current)
            current = sep_chunk
    if current:
        parts.append(current)
    return parts


def _chunks(text: str, limit: int) -> list[str]:
    out: list[str] = []
    for para in text.split("\n\n"):
        if len(para) <= limit:
            out.append(para)
            continue
        for piece in _hard_split(para, limit):
            out.append(piece)
    return out


def _hard_split(para: str, limit: int) -> list[str]:
    pieces: list[str] = []
    rest = para
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def with_source(message: Outbound, _: Gettext) -> Outbound:
    """Put the source line into the text itself, so every channel shows it the same way."""
    if not message.source or message.source in message.text:
        return message
    return replace(message, text=f"{message.text}\n\n{message.source}")


def fit(
    messages: list[Outbound], caps: Capabilities, _: Gettext
) -> tuple[list[Outbound], list[str] | None]:
    """Adapt replies to a channel. Returns the messages and, if a numbered menu was drawn, its data."""
    messages = [with_source(m, _) for m in messages]
    buttons: list[Button] = [b for m in messages for b in m.all_buttons()]
    numbered = bool(buttons) and (not caps.buttons or len(buttons) > caps.max_buttons)
    # Typed numbers work on every channel, so remember the options even where buttons show.
    menu: list[str] | None = [b.data for b in buttons] if buttons else None
    if numbered:
        lines = [_("Reply with a number:")]
        lines += [f"{i}. {b.label}" for i, b in enumerate(buttons, start=1)]
        last = messages[-1]
        messages = [replace(m, buttons=()) for m in messages[:-1]]
        messages.append(replace(last, text=f"{last.text}\n\n" + "\n".join(lines), buttons=()))
    out: list[Outbound] = []
    for message in messages:
        parts = split_text(message.text, caps.max_text)
        for i, part in enumerate(parts):
            last_part = i == len(parts) - 1
            out.append(
                replace(
                    message,
                    text=part,
                    buttons=message.buttons if last_part else (),
                    image=message.image if i == 0 else None,
                )
            )
    return out, menu


def pick_numbered(text: str, menu: list[str] | None) -> str | None:
    """The button data behind a typed menu number, if the text is one."""
    if not menu:
        return None
    candidate = text.strip().rstrip(".")
    if candidate.isdigit() and 1 <= int(candidate) <= len(menu):
        return menu[int(candidate) - 1]
    return None
