"""Which channels of this worker are up, and why the others are not: read by `/readyz` and
`/metrics` (docs/deploy.md, "Health check").

A channel is named as its outbox sender: `telegram`, `zalo_bot`, `zalo_oa` for the shared ones,
`telegram@2`, `zalo_bot@2`, `zalo_oa@3` for a station's own (issue 21). A reason is one of the
fixed words below, never an error's text: a platform error may carry the token in its URL.
"""

from __future__ import annotations

import logging

from bot.context import Services

log = logging.getLogger(__name__)

UP = "up"
TOKEN_REJECTED = "token_rejected"  # the platform refused the token (Telegram/Zalo Bot 401, OAuth)
TOKEN_EXPIRED = "token_expired"  # a trial Zalo OA's token ran out (it has no refresh token)
FAILED_TO_START = "failed_to_start"  # any other reason a station's channel did not start
WEBHOOK_LOST = "webhook_lost"  # Telegram posts this bot's updates nowhere, or to another URL
WEBHOOK_FAILING = "webhook_failing"  # Telegram's posts to our webhook fail; updates are waiting
REASONS = (TOKEN_REJECTED, TOKEN_EXPIRED, FAILED_TO_START, WEBHOOK_LOST, WEBHOOK_FAILING)


class ChannelHealth:
    """Each started channel's state in this worker: "up" or a reason from `REASONS`."""

    def __init__(self) -> None:
        self.states: dict[str, str] = {}

    def up(self, name: str) -> None:
        if self.states.get(name) not in (None, UP):
            log.info("%s is up again", name)
        self.states[name] = UP

    def down(self, name: str, reason: str) -> None:
        if self.states.get(name) != reason:  # logged once per change, not per poll
            log.error("%s is down: %s", name, reason)
        self.states[name] = reason

    def problems(self) -> dict[str, str]:
        """The channels that are not up, by name."""
        return {name: state for name, state in sorted(self.states.items()) if state != UP}


def channel_health(services: Services) -> ChannelHealth:
    """This worker's one `ChannelHealth` (in `services.extras`)."""
    health = services.extras.setdefault("channel_health", ChannelHealth())
    assert isinstance(health, ChannelHealth)
    return health
