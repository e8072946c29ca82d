"""Per-channel pacing for the outbox dispatcher: token buckets at each platform's limits.

A `ChannelPacer` holds one bucket for the whole channel (Telegram: 30 msg/s) and one per chat
(Telegram: 1 msg/s in a private chat, 20 msg/min in a group). Buckets are GCRA reservations: a
caller asks for the next free slot, gets a send time and sleeps until then, so a broadcast runs at
the limit without tripping it and without drifting (slots are absolute times, not sleeps added up).

Time here is `time.monotonic` (real seconds; pacing is about the platform's real clock), injected
for tests. Pauses after a 429 live in the dispatcher, on its (injectable) wall clock, next to the
rows' `not_before`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from core.config import Settings

# Telegram Bot FAQ ("My bot is hitting limits"), also telegram.constants.FloodLimit.
TELEGRAM_MESSAGES_PER_SECOND = 30.0
TELEGRAM_GROUP_MESSAGES_PER_MINUTE = 20.0
TELEGRAM_PRIVATE_MESSAGES_PER_SECOND = 1.0
# Zalo documents no per-chat rate; one message a second per chat is the polite Telegram figure.
ZALO_PRIVATE_MESSAGES_PER_SECOND = 1.0
ZALO_GROUP_MESSAGES_PER_MINUTE = 20.0
SECONDS_PER_MINUTE = 60.0
# Chat buckets idle for this long are forgotten (their next message is never held by them).
IDLE_CHAT_SECONDS = 120.0
PRUNE_EVERY = 1024
# A chat whose previous message went more than this many intervals earlier was not near its limit.
IDLE_INTERVALS = 2


@dataclass(frozen=True)
class ChannelLimits:
    """Rates for one channel; None means no limit. ``scale`` multiplies every rate (benchmarks)."""

    overall_per_second: float | None = None
    private_per_second: float | None = None
    group_per_minute: float | None = None
    scale: float = 1.0

    def scaled(self, factor: float) -> ChannelLimits:
        return ChannelLimits(
            self.overall_per_second, self.private_per_second, self.group_per_minute,
            self.scale * factor,
        )


TELEGRAM_LIMITS = ChannelLimits(
    TELEGRAM_MESSAGES_PER_SECOND,
    TELEGRAM_PRIVATE_MESSAGES_PER_SECOND,
    TELEGRAM_GROUP_MESSAGES_PER_MINUTE,
)
UNLIMITED = ChannelLimits()


def channel_limits(settings: Settings | None = None) -> dict[str, ChannelLimits]:
    """The limits of every channel we know; Zalo's overall rate comes from the configuration."""
    zalo_rate = settings.broadcast.zalo_messages_per_second if settings else 5.0
    zalo = ChannelLimits(zalo_rate, ZALO_PRIVATE_MESSAGES_PER_SECOND, ZALO_GROUP_MESSAGES_PER_MINUTE)
    return {"telegram": TELEGRAM_LIMITS, "zalo_bot": zalo, "zalo_oa": zalo, "web": UNLIMITED}


class Bucket:
    """GCRA token bucket: ``rate`` per second with a burst of ``burst`` messages."""

    def __init__(self, rate: float, burst: int = 1) -> None:
        self.interval = 1.0 / rate
        self.tolerance = (burst - 1) * self.interval
        self.tat = 0.0  # theoretical arrival time of the next conforming message
        self.last_slot = float("-inf")
        self.gap = float("inf")  # seconds between the last two reserved slots

    def ready_at(self, at: float) -> float:
        """Earliest time >= ``at`` a message would conform (nothing is reserved)."""
        return max(at, self.tat - self.tolerance)

    def reserve(self, at: float) -> float:
        """Reserve the first slot at or after ``at``; returns its time."""
        slot = self.ready_at(at)
        self.tat = max(self.tat, slot) + self.interval
        self.gap, self.last_slot = slot - self.last_slot, slot
        return slot

    def idle_since(self, now: float) -> bool:
        return self.tat <= now


class ChannelPacer:
    """Overall and per-chat buckets for one channel, plus 429 pauses."""

    def __init__(self, limits: ChannelLimits, now: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.now = now
        s = limits.scale
        rate = limits.overall_per_second
        self.overall = Bucket(rate * s) if rate else None
        self.chats: dict[str, Bucket] = {}
        self._since_prune = 0

    def _chat_rate(self, chat_kind: str) -> float | None:
        lim = self.limits
        if chat_kind == "group":
            per_minute = lim.group_per_minute
            return per_minute * lim.scale / SECONDS_PER_MINUTE if per_minute else None
        return lim.private_per_second * lim.scale if lim.private_per_second else None

    def _chat_bucket(self, chat_id: str, chat_kind: str) -> Bucket | None:
        bucket = self.chats.get(chat_id)
        if bucket is None:
            rate = self._chat_rate(chat_kind)
            if rate is None:
                return None
            bucket = self.chats[chat_id] = Bucket(rate)
        return bucket

    def chat_ready_at(self, chat_id: str, chat_kind: str) -> float:
        """When this chat may next receive a message; reserves nothing."""
        at = self.now()
        bucket = self._chat_bucket(chat_id, chat_kind)
        return bucket.ready_at(at) if bucket else at

    def reserve(self, chat_id: str, chat_kind: str) -> float:
        """Reserve a send slot for this chat; returns the monotonic time to send at.

        The caller must hold the chat's lock from here until the send, so two messages to one chat
        never reserve the same slot.
        """
        at = self.chat_ready_at(chat_id, chat_kind)
        if self.overall is not None:
            at = self.overall.reserve(at)
        bucket = self._chat_bucket(chat_id, chat_kind)
        if bucket is not None:
            bucket.reserve(at)
        self._maybe_prune()
        return at

    def chat_was_idle(self, chat_id: str, chat_kind: str) -> bool:
        """True when this chat has a limit and we sent it nothing within its interval: a 429 for
        it then cannot be its own limit, only the channel's overall one."""
        bucket = self.chats.get(chat_id)
        if bucket is None:
            return self._chat_rate(chat_kind) is not None
        return bucket.gap > IDLE_INTERVALS * bucket.interval

    def _maybe_prune(self) -> None:
        self._since_prune += 1
        if self._since_prune < PRUNE_EVERY:
            return
        self._since_prune = 0
        cutoff = self.now() - IDLE_CHAT_SECONDS
        self.chats = {c: b for c, b in self.chats.items() if not b.idle_since(cutoff)}
