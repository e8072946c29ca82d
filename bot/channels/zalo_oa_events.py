"""Zalo OA webhook events: signature check over the raw body, and event -> `Inbound`.

Signature (zalo-api.md 2.6 [C]): header `X-ZEvent-Signature: mac=<hex>` with
`hex = sha256(app_id + raw_body + timestamp + OA secret key)`, where `app_id` is OUR configured app
id (the payload must carry the same) and `timestamp` is the payload's field (Unix ms). The hash is
taken over the bytes exactly as received: re-serialising the JSON would change them.

The signature is checked on the RAW body before it is parsed: the timestamp is read from the bytes
(`"timestamp": "…"`), so a body nobody signed (deeply nested, huge, garbage) is never parsed and
costs one hash; the parsed event must then carry that same timestamp.

Freshness: Zalo retries an event it got no 200 for after 30 s, 5, 15, 30 min and 1 h [S], with the
first timestamp [I]. A bot that was down for a while must still take those retries, so a signed
event up to `MAX_EVENT_AGE` old is accepted (the `msg_id` dedupe in the inbox makes a replay
harmless); only clearly stale ones, or ones from the future beyond `MAX_FUTURE_SKEW`, are refused.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import re
from datetime import datetime, timedelta
from typing import Any

from bot.channels.zalo_oa_send import BUTTON_PAYLOAD_PREFIX, CHANNEL
from bot.inbound_scrub import strict_json
from bot.model import Inbound, Location

SIGNATURE_HEADER = "X-ZEvent-Signature"
MAX_EVENT_AGE = timedelta(hours=6)  # Zalo's retries end ~1 h 50 min after the first try [S]
MAX_FUTURE_SKEW = timedelta(minutes=5)  # clocks differ a little; more is not Zalo
_TIMESTAMP = re.compile(rb'"timestamp"\s*:\s*"?(\d{1,16})"?')
MAX_TIMESTAMP_CANDIDATES = 4
MAX_BUTTON_DATA = 64
GROUP_PREFIX = "user_send_group_"


class RefusedEvent(Exception):
    """The event must not be processed; `status` is the HTTP answer, `reason` is safe to log."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def expected_signature(app_id: str, raw_body: bytes, timestamp: str, oa_secret_key: str) -> str:
    payload = app_id.encode() + raw_body + timestamp.encode() + oa_secret_key.encode()
    return hashlib.sha256(payload).hexdigest()


def verified_event(
    raw_body: bytes, header: str, *, app_id: str, oa_secret_key: str, now: datetime
) -> dict[str, Any]:
    """The parsed event if it is signed by Zalo for our app and recent; else `RefusedEvent`."""
    given = header.strip().removeprefix("mac=").strip().lower().encode("utf-8", "replace")
    if not oa_secret_key or not given:
        raise RefusedEvent(401, "bad signature")
    found = itertools.islice(_TIMESTAMP.finditer(raw_body), MAX_TIMESTAMP_CANDIDATES)
    candidates = [m.group(1).decode() for m in found]
    timestamp = next(
        (t for t in [*candidates, ""]
         if hmac.compare_digest(given, expected_signature(app_id, raw_body, t,
                                                          oa_secret_key).encode())),
        None,
    )
    if timestamp is None:
        raise RefusedEvent(401, "bad signature")
    try:  # signed by Zalo: only now is it parsed
        event = strict_json(raw_body)
    except (ValueError, RecursionError):
        raise RefusedEvent(400, "body is not JSON") from None
    if not isinstance(event, dict):
        raise RefusedEvent(400, "body is not an object")
    if str(event.get("timestamp") or "") != timestamp:
        raise RefusedEvent(401, "signed over another timestamp")
    if str(event.get("app_id") or "") != app_id:
        raise RefusedEvent(401, "event for another app")
    try:
        sent_at = datetime.fromtimestamp(int(timestamp) / 1000, tz=now.tzinfo)
    except (ValueError, OverflowError, OSError):
        raise RefusedEvent(403, "no usable timestamp") from None
    if now - sent_at > MAX_EVENT_AGE or sent_at - now > MAX_FUTURE_SKEW:
        raise RefusedEvent(403, "stale or future timestamp")
    return event


def _id(part: Any) -> str:
    return str(part.get("id") or "") if isinstance(part, dict) else ""


def event_key(event: dict[str, Any]) -> str | None:
    """What identifies a delivery for dedupe: the message id, else name + sender + timestamp."""
    message = event.get("message")
    if isinstance(message, dict) and message.get("msg_id"):
        return str(message["msg_id"])
    who = _id(event.get("sender")) or _id(event.get("follower"))
    if who and event.get("timestamp"):
        return f"{event.get('event_name')}:{who}:{event.get('timestamp')}"
    return None


def to_inbound(event: dict[str, Any], oa_id: str) -> Inbound | None:
    """A resident's event -> `Inbound`; None for anything to ignore (echoes, other OAs, receipts)."""
    name = str(event.get("event_name") or "")
    if name in ("follow", "unfollow"):
        user = _id(event.get("follower"))
        if not user or (oa_id and str(event.get("oa_id") or oa_id) != oa_id):
            return None
        return Inbound(channel=CHANNEL, chat_id=user, user_id=user,
                       event="unblocked" if name == "follow" else "blocked")
    if not name.startswith("user_send_"):
        return None  # oa_send_* echoes, user_received_message, user_seen_message, anonymous_*
    sender, recipient = _id(event.get("sender")), _id(event.get("recipient"))
    message = _dict(event.get("message"))
    if not sender or not recipient:
        return None
    group = name.startswith(GROUP_PREFIX)
    if not group and oa_id and recipient != oa_id:
        return None  # meant for another OA
    kind = name.removeprefix(GROUP_PREFIX if group else "user_send_")
    text = message.get("text")
    text = text if isinstance(text, str) else ""
    button = _button(text)
    attachments = message.get("attachments")
    first = _dict(attachments[0]) if isinstance(attachments, list) and attachments else {}
    payload = _dict(first.get("payload"))
    photo = str(payload.get("url")) if kind == "image" and payload.get("url") else None
    location = _location(payload) if kind == "location" else None
    return Inbound(
        channel=CHANNEL,
        chat_id=recipient if group else sender,
        user_id=sender,
        chat_kind="group" if group else "private",
        text="" if button else text,
        button=button,
        message_id=str(message.get("msg_id") or "") or None,
        reply_to_message_id=str(message.get("quote_msg_id") or "") or None,
        photo=photo,
        location=location,
        # No mentions are documented for OA groups: there the bot answers commands and buttons.
        addressed=not group or text.startswith("/") or button is not None,
    )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _button(text: str) -> str | None:
    """A tapped `oa.query` button comes back as the resident's text carrying our payload."""
    if not text.startswith(BUTTON_PAYLOAD_PREFIX):
        return None
    data = text.removeprefix(BUTTON_PAYLOAD_PREFIX).strip()
    if data and data.isascii() and len(data.encode()) <= MAX_BUTTON_DATA:
        return data
    return None


def _location(payload: dict[str, Any]) -> Location | None:
    coordinates = payload.get("coordinates")
    if not isinstance(coordinates, dict):
        return None
    try:
        latitude, longitude = float(coordinates["latitude"]), float(coordinates["longitude"])
    except (KeyError, TypeError, ValueError):
        return None
    if -90 <= latitude <= 90 and -180 <= longitude <= 180:
        return Location(latitude, longitude)
    return None
