"""Pacing at the platform limits, on a fake monotonic clock: the slots a broadcast gets."""

from __future__ import annotations

from scheduler.pacing import TELEGRAM_LIMITS, Bucket, ChannelLimits, ChannelPacer


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_private_chat_gets_one_message_a_second() -> None:
    ticks = Ticks()
    pacer = ChannelPacer(TELEGRAM_LIMITS, ticks)
    slots = [pacer.reserve("42", "private") for _ in range(3)]
    assert slots == [100.0, 101.0, 102.0]


def test_group_gets_twenty_a_minute() -> None:
    ticks = Ticks()
    pacer = ChannelPacer(TELEGRAM_LIMITS, ticks)
    slots = [pacer.reserve("-42", "group") for _ in range(21)]
    assert slots[1] - slots[0] == 3.0
    assert sum(1 for s in slots if s < slots[0] + 60) == 20  # never 21 in any minute


def test_many_chats_share_thirty_a_second_without_drift() -> None:
    ticks = Ticks()
    pacer = ChannelPacer(TELEGRAM_LIMITS, ticks)
    slots = [pacer.reserve(str(i), "private") for i in range(301)]
    assert abs(slots[300] - slots[0] - 10.0) < 1e-6  # 300 intervals of 1/30 s
    assert sum(1 for s in slots if s < slots[0] + 1 - 1e-9) == 30  # float sums: 1e-9


def test_waiting_for_a_chat_is_seen_before_reserving() -> None:
    ticks = Ticks()
    pacer = ChannelPacer(TELEGRAM_LIMITS, ticks)
    pacer.reserve("-7", "group")
    assert pacer.chat_ready_at("-7", "group") == 103.0  # the dispatcher defers if too long
    assert pacer.chat_ready_at("8", "private") == 100.0


def test_a_429_for_an_idle_chat_means_the_channel_limit() -> None:
    ticks = Ticks()
    pacer = ChannelPacer(TELEGRAM_LIMITS, ticks)
    pacer.reserve("1", "private")
    assert pacer.chat_was_idle("1", "private")  # first message to it: not its own limit
    ticks.now += 1
    pacer.reserve("1", "private")
    assert not pacer.chat_was_idle("1", "private")  # pushed at 1 msg/s: maybe its own limit
    unlimited = ChannelPacer(ChannelLimits(), ticks)
    assert unlimited.reserve("1", "private") == ticks.now
    assert not unlimited.chat_was_idle("1", "private")


def test_scaling_multiplies_every_rate() -> None:
    bucket = Bucket(30.0 * 5)
    assert abs(bucket.reserve(0) - 0) < 1e-9 and abs(bucket.reserve(0) - 1 / 150) < 1e-9
    scaled = TELEGRAM_LIMITS.scaled(5)
    pacer = ChannelPacer(scaled, Ticks())
    assert pacer.reserve("1", "private") == 100.0 and pacer.reserve("1", "private") == 100.2
