"""The Redis the multi-worker tests share their rate limits through.

`HEALTHBOT_TEST_REDIS_URL` names it (default redis://127.0.0.1:6379/8). Without a Redis there the
tests skip with the reason, unless `HEALTHBOT_REQUIRE_REDIS` is set (CI sets it): then they fail.
Each test gets its own key namespace, removed afterwards, so runs never see each other's buckets.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

REDIS_ENV = "HEALTHBOT_TEST_REDIS_URL"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/8"


@dataclass
class RedisForTest:
    url: str
    client: Any  # redis.asyncio.Redis
    namespace: str  # unique to this test: put it in every key the test makes


def redis_url() -> str:
    return os.environ.get(REDIS_ENV) or DEFAULT_REDIS_URL


async def reachable_redis() -> RedisForTest:
    """Connect, or skip (fail when HEALTHBOT_REQUIRE_REDIS is set)."""
    from redis.asyncio import Redis

    url = redis_url()
    client = Redis.from_url(url, socket_connect_timeout=1.0)
    try:
        await client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means: no Redis here
        await client.aclose()
        if os.environ.get("HEALTHBOT_REQUIRE_REDIS"):
            pytest.fail(f"Redis is required here but {url} does not answer: {exc}")
        pytest.skip(f"Redis test skipped: nothing answers at {url} (set {REDIS_ENV})")
    return RedisForTest(url, client, f"test-{uuid.uuid4().hex[:12]}")


@asynccontextmanager
async def redis_for_test() -> AsyncIterator[RedisForTest]:
    """A reachable Redis with a fresh namespace (cleaned up afterwards), or a skip."""
    server = await reachable_redis()
    try:
        yield server
    finally:
        async for key in server.client.scan_iter(match=f"*{server.namespace}*"):
            await server.client.delete(key)
        await server.client.aclose()
