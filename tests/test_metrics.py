"""GET /metrics: what a province's Prometheus reads from each worker, checked against what happened."""

from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from bot.app import build_web_app
from bot.model import WEB, Outbound
from scheduler.dispatcher import Dispatcher
from scheduler.pacing import ChannelLimits
from scheduler.sender import SendResult
from storage import outbox
from tests.conftest import TEST_START
from tests.test_feedback_flow import file_feedback
from tests.transcript import Transcript


class Accepting:
    """A sender that accepts every message (the outcome counts are what is tested here)."""

    async def send(self, chat_id: str, message: Outbound, *, chat_kind: str = "private"
                   ) -> SendResult:
        return SendResult(message_id="1")


async def scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    res = await client.get("/metrics")
    assert res.status == 200 and res.headers["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(await res.text()):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


async def test_metrics_follow_what_the_bot_did(healthbot, services, clock) -> None:  # noqa: ANN001
    client = TestClient(TestServer(build_web_app(healthbot)))
    await client.start_server()
    try:
        for text in ("/start", "sốt xuất huyết", "cảm ơn"):
            assert (await client.post("/api/message", json={"text": text})).status == 200
        async with services.db.sessions() as session, session.begin():
            for i in range(3):
                await outbox.enqueue(session, dedupe_key=f"m:{i}", channel="telegram",
                                     chat_id=str(900 + i), payload=Outbound("x").to_payload(),
                                     not_before=TEST_START)
        clock.advance(minutes=2)
        before = await scrape(client)
        assert before[("healthbot_inbound_total", (("channel", "web"),))] == 3
        assert before[("healthbot_handling_seconds_count", (("channel", "web"),))] == 3
        assert before[("healthbot_outbox_depth", (("status", "pending"),))] == 3
        assert before[("healthbot_outbox_oldest_due_seconds", ())] == 120
        assert before[("healthbot_tickets_overdue", ())] == 0

        await file_feedback(Transcript(healthbot, WEB, "web", "r-metrics"), photo=False)
        dispatcher = Dispatcher(services.db, {"telegram": Accepting(), "web": Accepting()},
                                clock, "w1", limits={"telegram": ChannelLimits()})
        services.extras["dispatcher"] = dispatcher
        await dispatcher.drain()
        clock.advance(days=10)  # long past the ticket's acceptance and resolution deadlines
        after = await scrape(client)
    finally:
        await client.close()
    assert after[("healthbot_outbox_sends_total", (("outcome", "sent"),))] == dispatcher.stats["sent"] >= 3
    assert after[("healthbot_outbox_sends_total", (("outcome", "failed"),))] == 0
    assert after[("healthbot_outbox_depth", (("status", "pending"),))] == 0
    assert after[("healthbot_outbox_oldest_due_seconds", ())] == 0
    assert after[("healthbot_tickets_overdue", ())] == 1
    assert after[("healthbot_inbound_total", (("channel", "web"),))] > 3  # the feedback turns
