"""Routers: how conversations declare the commands, buttons, keywords and states they handle.

Each feature module exposes one `Router`; `bot.conversations.main_router()` includes them all. Button
data is `<prefix>` or `<prefix>:<arg>`, short ASCII (it travels in Telegram's 64-byte callback data).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.permissions import ActionRule

if TYPE_CHECKING:
    from bot.context import Context

Handler = Callable[["Context"], Awaitable[None]]
Probe = Callable[["Context"], Awaitable[bool]]


@dataclass
class Command:
    handler: Handler
    staff_only: bool = False
    groups: bool = True  # may be used in group chats
    action: ActionRule = None  # what it does, checked against `bot.permissions` by the engine


@dataclass
class Router:
    commands: dict[str, Command] = field(default_factory=dict)
    buttons: dict[str, Handler] = field(default_factory=dict)
    states: dict[str, Handler] = field(default_factory=dict)
    keywords: dict[str, str] = field(default_factory=dict)  # folded text -> command name
    events: dict[str, Handler] = field(default_factory=dict)
    button_actions: dict[str, ActionRule] = field(default_factory=dict)
    state_actions: dict[str, ActionRule] = field(default_factory=dict)
    text_handler: Handler | None = None
    media_handler: Handler | None = None
    # Looks at free text (no state, no command) before the text handler; True = it answered.
    text_probes: list[Probe] = field(default_factory=list)

    def command(
        self, *names: str, staff_only: bool = False, groups: bool = True, action: ActionRule = None
    ) -> Callable[[Handler], Handler]:
        """Register a handler for `/name` (Vietnamese word first, English aliases after)."""

        def register(fn: Handler) -> Handler:
            for name in names:
                self.commands[name.lower()] = Command(fn, staff_only or bool(action), groups,
                                                      action)
            return fn

        return register

    def button(self, prefix: str, action: ActionRule = None) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.buttons[prefix] = fn
            if action is not None:
                self.button_actions[prefix] = action
            return fn

        return register

    def state(self, name: str, action: ActionRule = None) -> Callable[[Handler], Handler]:
        """Handle free text while a user is in this state (or a sub-state `name.step`)."""

        def register(fn: Handler) -> Handler:
            self.states[name] = fn
            if action is not None:
                self.state_actions[name] = action
            return fn

        return register

    def keyword(self, command: str, *phrases: str) -> None:
        """Plain words that mean a command ("menu", "gop y"), compared after folding."""
        for phrase in phrases:
            self.keywords[phrase] = command

    def event(self, name: str) -> Callable[[Handler], Handler]:
        """Handle a platform event (bot added to a group, user blocked the bot, group migrated)."""

        def register(fn: Handler) -> Handler:
            self.events[name] = fn
            return fn

        return register

    def text(self, fn: Handler) -> Handler:
        self.text_handler = fn
        return fn

    def probe(self, fn: Probe) -> Probe:
        """Free text this feature may recognise (e.g. a ward's name) before it is a question."""
        self.text_probes.append(fn)
        return fn

    def media(self, fn: Handler) -> Handler:
        self.media_handler = fn
        return fn

    def include(self, other: Router) -> None:
        for table in ("commands", "buttons", "states", "keywords", "events", "button_actions",
                      "state_actions"):
            mine, theirs = getattr(self, table), getattr(other, table)
            clash = set(mine) & set(theirs)
            if clash:
                raise ValueError(f"two routers register the same {table}: {sorted(clash)}")
            mine.update(theirs)
        self.text_handler = other.text_handler or self.text_handler
        self.text_probes.extend(other.text_probes)
        self.media_handler = other.media_handler or self.media_handler

    def state_handler(self, state: str) -> Handler | None:
        found = self.state_entry(state)
        return found[0] if found else None

    def state_entry(self, state: str) -> tuple[Handler, ActionRule] | None:
        """The handler of a state (or its nearest parent) and the action it performs."""
        while state:
            if state in self.states:
                return self.states[state], self.state_actions.get(state)
            state = state.rpartition(".")[0]
        return None
