"""A local fake Web Push service (the role FCM / Mozilla autopush play) for tests over real HTTP.

A test makes a browser-like subscription with `subscribe()` (a fresh P-256 key pair and auth
secret, exactly what a browser's PushManager creates) and hands its JSON to the bot. When the bot
pushes, the fake does what a real push service and browser do together:

- checks the request: POST, `Content-Encoding: aes128gcm`, a `TTL` header, and a VAPID
  `Authorization: vapid t=<JWT>, k=<public key>` whose ES256 signature verifies with `k`, whose
  `aud` is this service's origin, whose `exp` is in the future and at most 24 h away, and whose
  `sub` is a mailto: or https: contact (RFC 8292); a bad signature gets 403 like FCM;
- decrypts the body with the subscription's private key and auth secret (RFC 8291), so a test
  reads the payload the resident's phone would show;
- answers 201, or 404 / 410 for a subscription the test marked gone (`gone(sub, status)`).
"""

from __future__ import annotations

import base64
import json
import os
import time
from dataclasses import dataclass
from typing import Any

import http_ece
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.fakes.telegram_api import FakeApiServer


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class FakeSubscription:
    id: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    endpoint: str
    gone_status: int | None = None

    def json(self) -> dict[str, Any]:
        """What `PushSubscription.toJSON()` gives the page."""
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "keys": {"p256dh": b64url(point), "auth": b64url(self.auth)},
        }


@dataclass
class PushDelivery:
    subscription_id: str
    payload: dict[str, Any]
    ttl: int
    vapid_sub: str
    vapid_key: str  # the application server's public key, as the browser would compare it


class FakePushService(FakeApiServer):
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.subscriptions: dict[str, FakeSubscription] = {}
        self.deliveries: list[PushDelivery] = []
        self.refused: list[tuple[str, int, str]] = []  # (subscription id, status, why)
        super().__init__(host, port)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/push/{sub_id}", self._push)

    def subscribe(self) -> FakeSubscription:
        sub_id = b64url(os.urandom(12))
        sub = FakeSubscription(
            sub_id,
            ec.generate_private_key(ec.SECP256R1()),
            os.urandom(16),
            f"{self.base_url}/push/{sub_id}",
        )
        self.subscriptions[sub_id] = sub
        return sub

    def gone(self, sub: FakeSubscription, status: int = 410) -> None:
        sub.gone_status = status

    def delivered_to(self, sub: FakeSubscription) -> list[PushDelivery]:
        return [d for d in self.deliveries if d.subscription_id == sub.id]

    async def _refuse(self, sub_id: str, status: int, why: str) -> web.Response:
        self.refused.append((sub_id, status, why))
        await self.record("push", {"subscription": sub_id, "refused": why}, status)
        return web.json_response({"code": status, "message": why}, status=status)

    async def _push(self, request: web.Request) -> web.Response:
        sub_id = request.match_info["sub_id"]
        sub = self.subscriptions.get(sub_id)
        body = await request.read()
        if sub is None:
            return await self._refuse(sub_id, 404, "no such subscription")
        if sub.gone_status is not None:
            return await self._refuse(sub_id, sub.gone_status, "subscription expired")
        if request.headers.get("Content-Encoding") != "aes128gcm":
            return await self._refuse(sub_id, 400, "Content-Encoding must be aes128gcm")
        ttl = request.headers.get("TTL", "")
        if not ttl.isdigit():
            return await self._refuse(sub_id, 400, "missing TTL")
        try:
            claims, key = self._check_vapid(request.headers.get("Authorization", ""))
        except ValueError as exc:
            return await self._refuse(sub_id, 403, str(exc))
        try:
            plain = http_ece.decrypt(
                body, private_key=sub.private_key, auth_secret=sub.auth, version="aes128gcm"
            )
            payload = json.loads(plain.decode("utf-8"))
        except Exception as exc:  # noqa: BLE001 - any failure is the test's finding
            return await self._refuse(sub_id, 400, f"cannot decrypt: {type(exc).__name__}")
        self.deliveries.append(PushDelivery(sub_id, payload, int(ttl), claims["sub"], key))
        await self.record("push", {"subscription": sub_id, "payload": payload}, 201)
        return web.Response(status=201)

    def _check_vapid(self, header: str) -> tuple[dict[str, Any], str]:
        scheme, _, params = header.partition(" ")
        if scheme.lower() != "vapid":
            raise ValueError("Authorization must use the vapid scheme")
        fields = dict(p.strip().split("=", 1) for p in params.split(",") if "=" in p)
        token, key = fields.get("t", ""), fields.get("k", "")
        try:
            head_b64, claims_b64, sig_b64 = token.split(".")
            header_json = json.loads(unb64url(head_b64))
            claims = json.loads(unb64url(claims_b64))
            raw_sig = unb64url(sig_b64)
            point = unb64url(key)
            public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"malformed VAPID header: {type(exc).__name__}") from None
        if header_json.get("alg") != "ES256" or len(raw_sig) != 64:
            raise ValueError("VAPID JWT must be ES256")
        der = encode_dss_signature(int.from_bytes(raw_sig[:32]), int.from_bytes(raw_sig[32:]))
        try:
            public.verify(der, f"{head_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise ValueError("VAPID signature does not verify") from None
        if claims.get("aud") != self.base_url:
            raise ValueError("VAPID aud is not this push service's origin")
        exp = int(claims.get("exp", 0))
        if not time.time() < exp <= time.time() + 24 * 3600:
            raise ValueError("VAPID exp must be in the next 24 hours")
        if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
            raise ValueError("VAPID sub must be a mailto: or https: contact")
        return claims, key
