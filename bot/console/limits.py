"""Sign-in limits shared by every worker: wrong codes and code requests, per member and address.

Behind a load balancer each attempt may reach another worker, so the counts cannot live in one
worker's memory (3 workers would allow 3 times the guesses). They live where every worker sees
them:

- **Redis** when `[redis] url` is set (the connection the outbox pacing shares,
  `scheduler.shared_pacing.connect_redis`): one sorted set per (rule, key), trimmed to the window
  and added to by one Lua script, so a check-and-count is atomic across workers;
- else (and whenever Redis does not answer) **the database**: rows in `console_attempts`, added
  under a per-key lock (`storage.console.take_attempt`).

Keys are keyed hashes (HMAC with the cookie secret) of the member's name or the address: neither
Redis nor the table holds a name or an IP address. Times come from the bot's clock.

`take` reserves one event if the rule still allows it (None: refused): a wrong-code slot is taken
*before* the code is compared and given back (`give_back`) when the code was right, so parallel
guesses cannot overshoot the limit.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from storage import console as store

log = logging.getLogger(__name__)

REDIS_PREFIX = "healthbot:console"
RETRY_REDIS = timedelta(seconds=5)

# KEYS[1] the rule's sorted set for one key; ARGV: now ms, window ms, limit (0: none), event id,
# mode (take | count). Returns the number of events in the window after the call, or -1 (full).
TAKE_LUA = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if ARGV[5] ~= 'take' then return n end
local limit = tonumber(ARGV[3])
if limit > 0 and n >= limit then return -1 end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return n + 1
"""


@dataclass(frozen=True)
class Rule:
    kind: str  # also the table's `kind` and part of the Redis key
    limit: int
    window: timedelta


FAIL_MEMBER = Rule("fail_member", 5, timedelta(minutes=15))
FAIL_ADDRESS = Rule("fail_address", 20, timedelta(minutes=15))
CODE_MEMBER = Rule("code_member", 3, timedelta(minutes=15))
CODE_ADDRESS = Rule("code_address", 10, timedelta(minutes=15))
assert all(r.window < store.ATTEMPTS_KEPT for r in (FAIL_MEMBER, FAIL_ADDRESS, CODE_MEMBER,
                                                     CODE_ADDRESS))


@dataclass(frozen=True)
class Taken:
    """One reserved event; `count` events (this one included) are now in the window."""

    rule: Rule
    key_hash: str
    ref: str  # the Redis member, or "db:<row id>"
    count: int

    @property
    def last(self) -> bool:
        """This event used the rule's last slot."""
        return self.count >= self.rule.limit


class Limits:
    """The console's four limits over Redis (if given) or the database."""

    def __init__(self, services: Any, keys: Any, redis: Any = None) -> None:
        self.services, self.keys, self.redis = services, keys, redis
        self._script = redis.register_script(TAKE_LUA) if redis is not None else None
        self._redis_down_until = None

    def _hash(self, rule: Rule, key: str) -> str:
        return self.keys.mac("limit", f"{rule.kind}:{key}")

    def _redis_usable(self) -> bool:
        down = self._redis_down_until
        return self._script is not None and (down is None or self.services.clock() >= down)

    def _redis_failed(self, error: Exception) -> None:
        log.warning("console limits: Redis unavailable (%s); counting in the database",
                    type(error).__name__)
        self._redis_down_until = self.services.clock() + RETRY_REDIS

    async def _redis(self, rule: Rule, key_hash: str, mode: str, ref: str = "") -> int | None:
        """The script's answer, or None when Redis failed (then: the database)."""
        if not self._redis_usable():
            return None
        now_ms = int(self.services.clock().timestamp() * 1000)
        window_ms = int(rule.window.total_seconds() * 1000)
        try:
            return int(await self._script(
                keys=[f"{REDIS_PREFIX}:{rule.kind}:{key_hash}"],
                args=[now_ms, window_ms, rule.limit, ref, mode]))
        except Exception as error:  # noqa: BLE001 - any Redis failure: count in the database
            self._redis_failed(error)
            return None

    async def take(self, rule: Rule, key: str) -> Taken | None:
        """Count one event for `key` if fewer than `rule.limit` are in the window; else None."""
        key_hash = self._hash(rule, key)
        ref = uuid.uuid4().hex
        count = await self._redis(rule, key_hash, "take", ref)
        if count is not None:
            return None if count < 0 else Taken(rule, key_hash, ref, count)
        now = self.services.clock()
        async with self.services.db.sessions() as session, session.begin():
            row_id = await store.take_attempt(session, rule.kind, key_hash, now=now,
                                              since=now - rule.window, limit=rule.limit)
            if row_id is None:
                return None
            count = await store.count_attempts(session, rule.kind, key_hash, now - rule.window)
        return Taken(rule, key_hash, f"db:{row_id}", count)

    async def full(self, rule: Rule, key: str) -> bool:
        """The rule refuses `key` now (its window holds `limit` events)."""
        key_hash = self._hash(rule, key)
        count = await self._redis(rule, key_hash, "count")
        if count is None:
            now = self.services.clock()
            async with self.services.db.sessions() as session:
                count = await store.count_attempts(session, rule.kind, key_hash,
                                                   now - rule.window)
        return count >= rule.limit

    async def give_back(self, taken: Taken | None) -> None:
        """Un-count an event taken before it turned out not to count (a right code)."""
        if taken is None:
            return
        if taken.ref.startswith("db:"):
            async with self.services.db.sessions() as session, session.begin():
                await store.drop_attempt(session, int(taken.ref[3:]))
            return
        try:
            await self.redis.zrem(f"{REDIS_PREFIX}:{taken.rule.kind}:{taken.key_hash}", taken.ref)
        except Exception as error:  # noqa: BLE001 - the event stays counted: safe side
            self._redis_failed(error)


def connect(settings: Any) -> Any:
    """The Redis client for the limits, or None (no `[redis] url`: the database counts)."""
    if not settings.redis.url:
        return None
    from scheduler.shared_pacing import connect_redis

    return connect_redis(settings.redis.url)
