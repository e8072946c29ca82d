"""Export plan occurrences as an iCalendar file staff can import into their calendars.

One VEVENT per occurrence, in Asia/Ho_Chi_Minh (a VTIMEZONE is included), with UID = the
occurrence's dedupe key so re-importing an updated export replaces events instead of doubling them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event

from scheduler.occurrences import VN_TZ, Occurrence

EVENT_LENGTH = timedelta(minutes=15)  # a broadcast is an instant; give calendars a visible slot
PRODID = "-//healthbot//communication plan//VI"


def to_ics(
    occurrences: Iterable[Occurrence], station_name: str, now: datetime | None = None
) -> bytes:
    """The occurrences as an iCalendar (RFC 5545) document."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{station_name}: kế hoạch truyền thông / communication plan")
    calendar.add("x-wr-timezone", "Asia/Ho_Chi_Minh")
    for occurrence in occurrences:
        start = occurrence.at.astimezone(VN_TZ)
        event = Event()
        event.add("uid", occurrence.dedupe_key)
        event.add("dtstamp", stamp)
        event.add("dtstart", start)
        event.add("dtend", start + EVENT_LENGTH)
        urgent = " [KHẨN / URGENT]" if occurrence.urgent else ""
        event.add("summary", f"{occurrence.topic}: {occurrence.message_id}{urgent}")
        moved = ""
        if occurrence.at != occurrence.planned_at:
            planned = occurrence.planned_at.astimezone(VN_TZ)
            moved = (
                f"\nDời vì giờ yên tĩnh, dự kiến {planned:%d/%m/%Y %H:%M}"
                f" / held by quiet hours, planned {planned:%d/%m/%Y %H:%M}"
            )
        event.add(
            "description",
            f"Chiến dịch / campaign: {occurrence.campaign_id}\n"
            f"Tin / message: {occurrence.message_id}\n"
            f"Người nhận / audience: {occurrence.audience.describe()}{moved}",
        )
        event.add("categories", [occurrence.topic])
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


__all__ = ["to_ics"]
