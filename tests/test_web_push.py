"""Web Push to a web resident (issue 14), for real: pywebpush encrypts and signs, the request goes
over HTTP to FakePushService, which verifies the VAPID signature and decrypts the payload with
the test subscription's keys, the way the resident's browser would.
"""

# The shared fixtures (`fake`, `stack`, `visitor`) come from tests/web_visitor.py; pytest passes
# them as parameters of the same name.
# ruff: noqa: F811
from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.channels.web.push import WebPush
from bot.model import Outbound
from storage.models import Outbox, WebMessage, WebPushSubscription
from tests.fakes.push_service import FakePushService
from tests.web_visitor import WebStack, WebVisitor, fake, staffed, visitor, web_stack  # noqa: F401


@pytest.fixture
async def push_service() -> AsyncIterator[FakePushService]:
    async with FakePushService() as server:
        yield server


@pytest.fixture
async def stack(settings, fake, clock, push_service) -> AsyncIterator[WebStack]:  # noqa: ANN001
    running_settings = staffed(settings, push_contact="mailto:tram@example.vn")
    async with web_stack(running_settings, fake, clock) as running:
        running.web.push_endpoint_prefixes = ("https://", push_service.base_url)
        yield running


async def _subscribe(visitor: WebVisitor, push_service: FakePushService):  # noqa: ANN202
    sub = push_service.subscribe()
    async with visitor.http.post(f"{visitor.url}/api/push/subscribe", json=sub.json()) as res:
        assert res.status == 200, await res.text()
    return sub


async def _count(stack: WebStack, model: type) -> int:
    async with stack.bot.services.db.sessions() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def test_staff_answer_arrives_as_a_push_naming_the_ticket(
    stack: WebStack, visitor: WebVisitor, push_service: FakePushService
) -> None:
    code = await visitor.file_feedback("Chờ lấy thuốc quá lâu")
    async with visitor.http.get(f"{visitor.url}/api/push/key") as res:
        public_key = (await res.json())["publicKey"]
    sub = await _subscribe(visitor, push_service)
    await stack.staff_says(f"/traloi {code} Trạm đã bố trí thêm người phát thuốc.")
    await stack.dispatcher.drain()
    await stack.web.sender.drain()

    (delivery,) = push_service.delivered_to(sub)
    assert code in delivery.payload["body"] and "phát thuốc" in delivery.payload["body"]
    assert stack.bot.services.settings.station.name in delivery.payload["title"]
    assert delivery.vapid_sub == "mailto:tram@example.vn"
    assert delivery.vapid_key == public_key, "signed with the key the page subscribed with"
    assert not push_service.refused


@pytest.mark.parametrize("status", [404, 410])
async def test_a_gone_subscription_is_removed_and_the_message_still_waits_on_the_page(
    stack: WebStack, visitor: WebVisitor, push_service: FakePushService, status: int
) -> None:
    await visitor.say("xin chào")
    chat_id = next(c.value for c in visitor.http.cookie_jar if c.key == "hb_web")
    gone, alive = await _subscribe(visitor, push_service), await _subscribe(visitor, push_service)
    push_service.gone(gone, status)
    async with stack.bot.services.db.sessions() as session, session.begin():
        await stack.bot.services.deliverer.enqueue(
            session,
            channel="web",
            chat_id=chat_id,
            message=Outbound(text="Nhắc: tiêm mũi 2"),
            dedupe_key="test:reminder",
        )
    await stack.dispatcher.drain()
    await stack.web.sender.drain()

    assert [d.payload["body"] for d in push_service.delivered_to(alive)] == ["Nhắc: tiêm mũi 2"]
    assert [r[1] for r in push_service.refused] == [status]
    async with stack.bot.services.db.sessions() as session:
        endpoints = (await session.execute(select(WebPushSubscription.endpoint))).scalars().all()
        (row_status,) = (await session.execute(select(Outbox.status))).scalars().all()
    assert endpoints == [alive.endpoint], "the gone subscription is deleted"
    assert row_status == "sent" and await _count(stack, WebMessage) == 1

    # The next message is not tried on the gone subscription again.
    await stack.web.sender.send(chat_id, Outbound(text="Tin thứ hai"))
    await stack.web.sender.drain()
    assert len(push_service.refused) == 1 and len(push_service.delivered_to(alive)) == 2


async def test_the_vapid_key_is_made_once_and_survives_a_restart(stack: WebStack) -> None:
    services = stack.bot.services
    first = await stack.web.push.public_key()
    restarted = WebPush(services.db, services.clock, "mailto:tram@example.vn")
    assert await restarted.public_key() == first


async def test_subscribing_needs_a_resident_who_has_written(
    stack: WebStack, visitor: WebVisitor, push_service: FakePushService
) -> None:
    sub = push_service.subscribe()
    async with visitor.http.post(f"{visitor.url}/api/push/subscribe", json=sub.json()) as res:
        assert res.status == 403
        assert "gửi một tin nhắn" in (await res.json())["error"]
    await visitor.history()  # the page's first call gives a cookie but no database row
    async with visitor.http.post(f"{visitor.url}/api/push/subscribe", json=sub.json()) as res:
        assert res.status == 403
    assert await _count(stack, WebPushSubscription) == 0
    # An endpoint that is not a push service (plain http elsewhere) is refused.
    await visitor.say("xin chào")
    bad = {**sub.json(), "endpoint": "http://10.0.0.5/admin"}
    async with visitor.http.post(f"{visitor.url}/api/push/subscribe", json=bad) as res:
        assert res.status == 400


async def test_turning_notifications_off_removes_the_subscription(
    stack: WebStack, visitor: WebVisitor, push_service: FakePushService
) -> None:
    await visitor.say("xin chào")
    sub = await _subscribe(visitor, push_service)
    async with visitor.http.post(
        f"{visitor.url}/api/push/unsubscribe", json={"endpoint": sub.endpoint}
    ) as res:
        assert res.status == 200
    assert await _count(stack, WebPushSubscription) == 0
