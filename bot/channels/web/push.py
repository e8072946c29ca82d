"""Web Push for the web chat: the station's VAPID key and sending through pywebpush.

The key pair is made on first use and kept in the database (`web_push_keys`), so every worker and
every restart signs with the same key and browsers' subscriptions stay valid. Payloads are
encrypted (RFC 8291, aes128gcm) and signed (RFC 8292) by pywebpush; it is blocking (requests), so
each push runs in a worker thread. A push service answering 404 or 410 means the subscription is
gone: it is deleted and never tried again.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush

from storage import web as web_store
from storage.db import Database

log = logging.getLogger(__name__)

PUSH_TIMEOUT = 10.0  # seconds for one push service request
PUSH_TTL = 24 * 3600  # the push service may hold a notification this long for an offline phone
BODY_CHARS = 140  # a notification shows a short preview; the page has the whole message
GONE = (404, 410)


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def new_key_pair() -> tuple[str, str]:
    """A fresh VAPID key: (private key PEM, public key as base64url uncompressed point)."""
    vapid = Vapid02()
    vapid.generate_keys()
    pem = vapid.private_pem().decode("ascii")
    point = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return pem, _b64url(point)


def notification(text: str, title: str) -> dict[str, Any]:
    """The JSON the service worker shows: a title and the first line(s) of the message."""
    body = " ".join(text.split())
    if len(body) > BODY_CHARS:
        body = body[: BODY_CHARS - 1].rstrip() + "…"
    return {"title": title, "body": body, "url": "/"}


class WebPush:
    """Sends notifications to a visitor's subscribed browsers."""

    def __init__(self, db: Database, clock: Callable[[], datetime], contact: str) -> None:
        self.db = db
        self.clock = clock
        self.contact = contact  # VAPID "sub": how a push service can reach the station
        self._key: tuple[str, str] | None = None
        self._lock = asyncio.Lock()

    async def key(self) -> tuple[str, str]:
        """The (private PEM, public key) pair, made and stored on first use."""
        if self._key is None:
            async with self._lock:
                if self._key is None:
                    async with self.db.sessions() as session, session.begin():
                        stored = await web_store.vapid_key(session)
                        if stored is None:
                            pem, public = new_key_pair()
                            stored = await web_store.store_vapid_key(
                                session, pem, public, self.clock()
                            )
                    self._key = stored
        return self._key

    async def public_key(self) -> str:
        return (await self.key())[1]

    async def notify(self, chat_id: str, payload: dict[str, Any]) -> int:
        """Push `payload` to every subscription of the visitor; returns how many took it."""
        async with self.db.sessions() as session:
            targets = await web_store.push_targets(session, chat_id)
        if not targets:
            return 0
        pem, _public = await self.key()
        data = json.dumps(payload, ensure_ascii=False)
        delivered = 0
        for target in targets:
            status = await asyncio.to_thread(self._send, target, data, pem)
            if status in GONE:
                async with self.db.sessions() as session, session.begin():
                    await web_store.drop_subscription(session, target.endpoint)
                log.info("a web push subscription is gone (%s); removed", status)
            elif status is not None and 200 <= status < 300:
                delivered += 1
            else:
                log.warning("web push failed with %s", status)
        return delivered

    def _send(self, target: web_store.PushTarget, data: str, pem: str) -> int | None:
        info = {"endpoint": target.endpoint, "keys": {"p256dh": target.p256dh, "auth": target.auth}}
        try:
            response = webpush(
                info,
                data=data,
                vapid_private_key=Vapid02.from_pem(pem.encode("ascii")),
                vapid_claims={"sub": self.contact},  # a fresh dict: webpush adds aud and exp
                timeout=PUSH_TIMEOUT,
                ttl=PUSH_TTL,
            )
        except WebPushException as exc:
            return exc.response.status_code if exc.response is not None else None
        except Exception as exc:  # noqa: BLE001 - network trouble: the page still has the message
            log.warning("web push could not reach the push service: %s", type(exc).__name__)
            return None
        return int(getattr(response, "status_code", 0)) or None
