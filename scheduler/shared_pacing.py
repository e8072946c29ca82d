"""Pacing shared by every worker through Redis: N dispatchers on one bot token keep ONE limit.

The in-process `scheduler.pacing.ChannelPacer` keeps its GCRA buckets in memory, so two
dispatchers on the same token would each send at the full rate: twice Telegram's limit. Here the
same buckets (one per bot token, one per chat) live in Redis and a Lua script reserves a slot in
both atomically, on the Redis server's clock, so every worker draws from the same schedule.

- Keys: ``healthbot:pace:<namespace>:all`` and ``...:chat:<chat id>``; the namespace names the
  channel and a digest of the bot's token (never the token), so two stations with their own bots
  are paced apart and two workers of one bot together. Each key expires once its bucket is idle.
- The script answers "wait this long" (microseconds), which the caller turns into its own
  monotonic time: clocks of different machines never need to agree.
- Redis unreachable: the pacer logs once and falls back to its in-process buckets (the limit is
  then per worker again) until Redis answers, so messages keep going out.

With no Redis configured `healthbot run` keeps the in-process pacer (one worker).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

from scheduler.pacing import IDLE_INTERVALS, SECONDS_PER_MINUTE, ChannelLimits, ChannelPacer

log = logging.getLogger(__name__)

MICROS = 1_000_000
KEY_PREFIX = "healthbot:pace"
# A bucket key outlives its last reservation by this much (then the bucket is simply full again).
KEY_SLACK_MS = 60_000
# After a Redis error, try Redis again this many seconds later (meanwhile: in-process buckets).
RETRY_REDIS_SECONDS = 5.0
MAX_REMEMBERED_GAPS = 4096

# KEYS[1] channel bucket, KEYS[2] chat bucket; ARGV: channel interval, chat interval (µs, 0 = no
# limit), reserve (1) or only look (0). Returns {wait µs, µs since this chat's previous slot or -1}.
GCRA_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local all_interval = tonumber(ARGV[1])
local chat_interval = tonumber(ARGV[2])
local at = now
local chat_tat = 0
if chat_interval > 0 then
  chat_tat = tonumber(redis.call('GET', KEYS[2]) or '0')
  if chat_tat > at then at = chat_tat end
end
if ARGV[3] ~= '1' then
  return {at - now, -1}
end
if all_interval > 0 then
  local all_tat = tonumber(redis.call('GET', KEYS[1]) or '0')
  if all_tat > at then at = all_tat end
  local next_tat = at + all_interval
  local ttl = math.floor((next_tat - now) / 1000) + tonumber(ARGV[4])
  redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', ttl)
end
local gap = -1
if chat_interval > 0 then
  if chat_tat > 0 then gap = at - (chat_tat - chat_interval) end
  local next_tat = at + chat_interval
  local ttl = math.floor((next_tat - now) / 1000) + tonumber(ARGV[4])
  redis.call('SET', KEYS[2], string.format('%.0f', next_tat), 'PX', ttl)
end
return {at - now, gap}
"""


# KEYS[1] a bucket; ARGV: pause (µs), slack (ms). The bucket's next slot moves to now + pause.
PAUSE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local until_at = now + tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < until_at then
  local ttl = math.floor((until_at - now) / 1000) + tonumber(ARGV[2])
  redis.call('SET', KEYS[1], string.format('%.0f', until_at), 'PX', ttl)
end
return 1
"""


def token_namespace(channel: str, token: str) -> str:
    """The Redis namespace of one bot: channel plus a short digest of its token."""
    digest = hashlib.sha256(token.encode()).hexdigest()[:16] if token else "default"
    return f"{channel}:{digest}"


class SharedChannelPacer:
    """`ChannelPacer`'s interface (awaitable) over buckets kept in Redis; see the module doc."""

    def __init__(
        self,
        redis: Any,  # redis.asyncio.Redis
        namespace: str,
        limits: ChannelLimits,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.redis = redis
        self.namespace = namespace
        self.limits = limits
        self.now = now
        self.local = ChannelPacer(limits, now)  # the fallback while Redis is away
        self._script = redis.register_script(GCRA_LUA)
        rate = limits.overall_per_second
        self._all_interval = round(MICROS / (rate * limits.scale)) if rate else 0
        self._gaps: dict[str, float] = {}  # chat -> seconds between its last two slots
        self._redis_down_until = float("-inf")

    def _chat_interval(self, chat_kind: str) -> int:
        lim = self.limits
        if chat_kind == "group":
            per_minute = lim.group_per_minute
            return round(MICROS * SECONDS_PER_MINUTE / (per_minute * lim.scale)) if per_minute else 0
        rate = lim.private_per_second
        return round(MICROS / (rate * lim.scale)) if rate else 0

    async def _call(self, chat_id: str, chat_kind: str, reserve: bool) -> tuple[float, float]:
        keys = [f"{KEY_PREFIX}:{self.namespace}:all", f"{KEY_PREFIX}:{self.namespace}:chat:{chat_id}"]
        args = [self._all_interval, self._chat_interval(chat_kind), int(reserve), KEY_SLACK_MS]
        wait, gap = await self._script(keys=keys, args=args)
        return int(wait) / MICROS, int(gap) / MICROS

    def _redis_usable(self) -> bool:
        return self.now() >= self._redis_down_until

    def _redis_failed(self, error: Exception) -> None:
        if self._redis_down_until == float("-inf") or self.now() >= self._redis_down_until:
            log.warning("shared pacing: Redis unavailable (%s); pacing this worker alone",
                        type(error).__name__)
        self._redis_down_until = self.now() + RETRY_REDIS_SECONDS

    async def chat_ready_at(self, chat_id: str, chat_kind: str) -> float:
        """When this chat may next receive a message (this worker's monotonic time)."""
        if self._redis_usable():
            try:
                wait, _gap = await self._call(chat_id, chat_kind, reserve=False)
                return self.now() + wait
            except Exception as error:  # noqa: BLE001 - any Redis failure: pace locally
                self._redis_failed(error)
        return self.local.chat_ready_at(chat_id, chat_kind)

    async def reserve(self, chat_id: str, chat_kind: str) -> float:
        """Reserve the next slot of the channel and the chat for every worker; returns when."""
        if self._redis_usable():
            try:
                wait, gap = await self._call(chat_id, chat_kind, reserve=True)
            except Exception as error:  # noqa: BLE001
                self._redis_failed(error)
            else:
                if len(self._gaps) >= MAX_REMEMBERED_GAPS:
                    self._gaps.clear()
                self._gaps[chat_id] = gap if gap >= 0 else float("inf")
                return self.now() + wait
        return self.local.reserve(chat_id, chat_kind)

    def chat_was_idle(self, chat_id: str, chat_kind: str) -> bool:
        """As `ChannelPacer.chat_was_idle`, from the gap Redis reported at the last reservation."""
        interval = self._chat_interval(chat_kind) / MICROS
        if not interval:
            return False
        gap = self._gaps.get(chat_id)
        if gap is None:
            return self.local.chat_was_idle(chat_id, chat_kind)
        return gap > IDLE_INTERVALS * interval


    async def pause(self, chat_id: str | None, seconds: float) -> None:
        """A 429 said "retry after": push the bucket (the chat's, or the whole bot's when
        ``chat_id`` is None) that far ahead for every worker, not only the one that was told."""
        suffix = "all" if chat_id is None else f"chat:{chat_id}"
        key = f"{KEY_PREFIX}:{self.namespace}:{suffix}"
        try:
            await self.redis.eval(PAUSE_LUA, 1, key, round(seconds * MICROS), KEY_SLACK_MS)
        except Exception as error:  # noqa: BLE001 - this worker still pauses by itself
            self._redis_failed(error)


class SharedPacing:
    """A pacer factory for `Dispatcher(pacer_factory=...)`: one `SharedChannelPacer` per channel."""

    def __init__(self, redis: Any, namespaces: dict[str, str] | None = None) -> None:
        self.redis = redis
        self.namespaces = namespaces or {}

    def __call__(
        self, channel: str, limits: ChannelLimits, now: Callable[[], float]
    ) -> SharedChannelPacer:
        namespace = self.namespaces.get(channel, channel)
        return SharedChannelPacer(self.redis, namespace, limits, now)


def connect_redis(url: str) -> Any:
    """A redis.asyncio client for ``url`` (no I/O until first use)."""
    from redis.asyncio import Redis

    return Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
