"""The seam between the outbox dispatcher and the channels: `Sender` and the one send-error table.

Each channel adapter provides a `Sender` for its platform. A failed send raises `SendError` with a
`kind` from one shared table (after RapidPro's courier):

- `retry`: network, 5xx, rate limit, a token being refreshed: try again, after `retry_after` if set;
- `stop`: the RECIPIENT cannot be written to (blocked, kicked, chat not found, outside Zalo's 7-day
  window): mark the chat unreachable and never retry;
- `message`: the platform refused THIS MESSAGE (a bad parameter, an unsupported message type, bad
  markup): fail the message, and leave the chat alone: the next message may well go out;
- `migrated`: the group became a supergroup: resend once to `new_chat_id`.

`SEND_ERRORS` is that table, platform error code (or description) → kind and reason, for every
channel; each channel's classifier looks codes up here instead of keeping its own list, and
`tests/test_send_errors.py` sends through the fakes once per entry. docs/zalo.md and
docs/telegram.md print the same table for people.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from core.model import Outbound

SendErrorKind = Literal["retry", "stop", "message", "migrated"]


class SendError(Exception):
    def __init__(
        self,
        kind: SendErrorKind,
        reason: str,
        *,
        retry_after: float | None = None,
        new_chat_id: str | None = None,
    ) -> None:
        super().__init__(f"{kind}: {reason}")
        self.kind = kind
        self.reason = reason
        self.retry_after = retry_after
        self.new_chat_id = new_chat_id

    @property
    def blames_chat(self) -> bool:
        """True when the chat itself cannot be written to (mark it); False for the message's fault."""
        return self.kind in ("stop", "migrated")


@dataclass(frozen=True)
class ErrorRule:
    """What one platform error means for the sender."""

    kind: SendErrorKind
    reason: str
    retry_after: float | None = None

    def error(self) -> SendError:
        return SendError(self.kind, self.reason, retry_after=self.retry_after)


MINUTE = 60.0
HOUR = 3600.0
ZALO_WINDOW = "zalo_window"  # the reason the Zalo OA adapter and the dispatcher share

# Keys: an int is the platform's error code; a str is a lower-case fragment of the description
# (Telegram reports most refusals as 400/403 with a descriptive text, so the text is the key).
SEND_ERRORS: dict[str, dict[int | str, ErrorRule]] = {
    "telegram": {
        "bot was blocked by the user": ErrorRule("stop", "blocked"),
        "user is deactivated": ErrorRule("stop", "deactivated"),
        "bot was kicked": ErrorRule("stop", "removed"),
        "bot is not a member": ErrorRule("stop", "removed"),
        "chat not found": ErrorRule("stop", "not_found"),
        "have no rights to send": ErrorRule("stop", "no_rights"),
        "not enough rights": ErrorRule("stop", "no_rights"),
        403: ErrorRule("stop", "forbidden"),
        400: ErrorRule("message", "bad_request"),  # bad markup, a bad file: our own message
        401: ErrorRule("retry", "invalid token", retry_after=MINUTE),
    },
    # The Bot Platform documents no codes or strings (zalo-api.md 1.1): HTTP-like codes [I].
    "zalo_bot": {
        "chat not found": ErrorRule("stop", "not_found"),
        "blocked": ErrorRule("stop", "blocked"),
        401: ErrorRule("retry", "invalid token", retry_after=MINUTE),
        403: ErrorRule("stop", "blocked"),
        404: ErrorRule("stop", "not_found"),
        429: ErrorRule("retry", "rate limited", retry_after=5.0),
        400: ErrorRule("message", "bad_request"),
    },
    # Zalo OA Open API (zalo-api.md 2.7). Negative codes in `{"error": N, "message": …}`.
    "zalo_oa": {
        -32: ErrorRule("retry", "rate limited", retry_after=10.0),
        -100: ErrorRule("retry", "zalo unknown error", retry_after=5.0),
        -124: ErrorRule("retry", "token refused", retry_after=5 * MINUTE),
        -201: ErrorRule("message", "invalid parameter"),
        -211: ErrorRule("retry", "out of quota", retry_after=HOUR),
        -213: ErrorRule("stop", ZALO_WINDOW),
        -216: ErrorRule("retry", "token refused", retry_after=5 * MINUTE),
        -217: ErrorRule("stop", "zalo_refused"),
        -219: ErrorRule("retry", "app disabled", retry_after=HOUR),
        -220: ErrorRule("retry", "token refused", retry_after=5 * MINUTE),
        -221: ErrorRule("retry", "oa not verified", retry_after=HOUR),
        -223: ErrorRule("retry", "api not granted", retry_after=HOUR),
        -224: ErrorRule("retry", "oa package needed", retry_after=HOUR),
        -227: ErrorRule("stop", "zalo_inactive"),
        -230: ErrorRule("stop", ZALO_WINDOW),
        -232: ErrorRule("stop", ZALO_WINDOW),
        -233: ErrorRule("message", "message type not supported"),
        -234: ErrorRule("retry", "promotion at night", retry_after=HOUR),
        -237: ErrorRule("stop", "removed"),
        -240: ErrorRule("message", "api version retired"),
        -244: ErrorRule("stop", "zalo_refused"),
        -320: ErrorRule("retry", "no zalo cloud account", retry_after=HOUR),
        -321: ErrorRule("retry", "zalo cloud account out of money", retry_after=HOUR),
        -403: ErrorRule("stop", "removed"),
    },
}
DEFAULT_RETRY = ErrorRule("retry", "error", retry_after=5.0)


def rule_for(channel: str, code: int | None, description: str = "") -> ErrorRule | None:
    """The table's rule for an error: a description fragment first (more specific), then the code."""
    table = SEND_ERRORS.get(channel, {})
    text = description.lower()
    for key, rule in table.items():
        if isinstance(key, str) and key in text:
            return rule
    if code is not None:
        return table.get(code)
    return None


def classify_code(channel: str, code: int | None, description: str = "") -> SendError:
    """The `SendError` for a platform error; unknown 4xx-like codes are the message's fault on
    channels with HTTP-like codes, anything else is retried."""
    rule = rule_for(channel, code, description)
    if rule is not None:
        return rule.error()
    if channel != "zalo_oa" and code is not None and 400 <= code < 500:
        return SendError("message", f"bad request ({code})")
    suffix = f" {code}" if code is not None else ""
    return SendError("retry", f"{DEFAULT_RETRY.reason}{suffix}", retry_after=DEFAULT_RETRY.retry_after)


@dataclass(frozen=True)
class SendResult:
    message_id: str | None = None


class Sender(Protocol):
    """Sends one message to one chat of one channel; raises `SendError` on failure."""

    channel: str

    async def send(
        self, chat_id: str, message: Outbound, *, chat_kind: str = "private"
    ) -> SendResult: ...
