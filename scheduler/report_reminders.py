"""Staff-only reminders of report deadlines (báo cáo 6 tháng / báo cáo năm), sent by the plan.

A staff campaign in `content/plans/*.yaml` has `topic: staff`, `audience: {staff: true}` and a
message `staff:report-6-months` or `staff:report-yearly`. Its window runs from the reminder day to
the deadline (e.g. 03-06 .. 10-06: a week before 10/6), so a station moves the deadline or the
lead time by editing two dates. The text names the deadline (the window's last day) and the days
left, in the staff chat's language (Babel catalog `content.po`). Recipients are the staff chats
(`scheduler.broadcasts.staff_recipients`), never residents.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from core.config import Settings
from core.i18n import gettext_for, local_date
from core.model import Outbound
from scheduler.occurrences import campaign_windows
from scheduler.plan import Campaign


def _n(text: str) -> str:
    """Mark a string for the catalog; it is translated when the message is rendered."""
    return text


# Built-in staff messages: id -> the report's name (English source string of the catalog).
STAFF_MESSAGES: dict[str, str] = {
    "staff:report-6-months": _n("the 6-month report"),
    "staff:report-yearly": _n("the yearly report"),
}


# A yearly check-up schedule per area (issue 20): `staff:checkup:<AREA>` (or `staff:checkup:*`
# for every area); the window runs from the reminder day to the day the session should be held.
CHECKUP_PREFIX = "staff:checkup:"
AREA_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$|^\*$")


def checkup_area(message_id: str) -> str | None:
    """The area code of a check-up reminder (`*`: every area); None for other messages."""
    if not message_id.startswith(CHECKUP_PREFIX):
        return None
    code = message_id.removeprefix(CHECKUP_PREFIX)
    return code.upper() if AREA_CODE.match(code) else None


def is_staff_message(message_id: str) -> bool:
    return message_id in STAFF_MESSAGES or checkup_area(message_id) is not None


def deadline_of(campaign: Campaign, day: date) -> date:
    """The deadline a reminder sent on `day` is about: the last day of its window."""
    for start, end in campaign_windows(campaign, day, day):
        if start <= day <= end:
            return end
    return day


def staff_message(
    settings: Settings, message_id: str, deadline: date, today: date
) -> Callable[[str], Outbound]:
    """A per-language renderer of one report-deadline reminder."""

    area_code = checkup_area(message_id)
    if area_code is not None:
        return checkup_message(settings, area_code, deadline, today)

    def render(locale: str) -> Outbound:
        _ = gettext_for(locale)
        text = _(
            "Staff reminder from {station}: {report} is due on {date} ({days} days left)."
        ).format(
            station=settings.station.name,
            report=_(STAFF_MESSAGES[message_id]),
            date=local_date(deadline, locale),
            days=(deadline - today).days,
        )
        # The report itself (issue 17): the files for the period the deadline is about.
        period = (str(deadline.year) if message_id == "staff:report-yearly"
                  else f"{deadline.year}-H{1 if deadline.month <= 6 else 2}")
        text += "\n" + _("Send /baocao {period} to get the report files (DOCX and XLSX)."
                          ).format(period=period)
        return Outbound(text=text, topic="staff")

    return render


def checkup_message(
    settings: Settings, area_code: str, day: date, today: date
) -> Callable[[str], Outbound]:
    """A per-language renderer of the plan's reminder to create an area's check-up session."""

    def render(locale: str) -> Outbound:
        _ = gettext_for(locale)
        found = settings.area(area_code) if area_code != "*" else None
        area = found.name if found else (_("every area") if area_code == "*" else area_code)
        text = _("Staff reminder from {station}: the plan holds the free yearly check-up for "
                 "{area} on {date} ({days} days left). Create the session so residents are "
                 "invited:").format(station=settings.station.name, area=area,
                                    date=local_date(day, locale), days=(day - today).days)
        text += f"\n/taokham {day:%d/%m/%Y} 07:30-11:00; " + _("place") + f"; {area_code}; " \
            + _("places per 30 minutes")
        return Outbound(text=text, topic="staff")

    return render
