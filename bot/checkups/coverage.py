"""Check-up coverage over a year, per area and per priority group, as staff read it (issue 20):
the same text for `/dskham baophu` in the chat and `healthbot checkups coverage`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.checkups.messages import area_names
from bot.config import Settings
from bot.i18n import TIMEZONE, gettext_for
from bot.report.checkups_group import AGE_GROUPS
from storage import checkups


async def year_coverage(session: AsyncSession, year: int,
                        station_id: int | None = 1) -> checkups.Coverage:
    start = datetime(year, 1, 1, tzinfo=TIMEZONE)
    end = datetime(year + 1, 1, 1, tzinfo=TIMEZONE)
    return await checkups.coverage_of(session, start, end, station_id=station_id)


def coverage_text(settings: Settings, cov: checkups.Coverage, year: int, locale: str) -> str:
    _ = gettext_for(locale)
    lines = [_("Check-ups in {year}: people booked and examined per area").format(year=year)]
    for code, (booked, came) in cov.by_area.items():
        name = area_names(settings, [code], locale) if code != "-" else _("no area given")
        lines.append(f"  {name}: " + _("{booked} booked, {came} came").format(
            booked=booked, came=came))
    if not cov.by_area:
        lines.append("  " + _("none yet"))
    lines.append(_("Per priority group:"))
    for group, (booked, came) in cov.by_group.items():
        lines.append(f"  {_(AGE_GROUPS[group])}: " + _("{booked} booked, {came} came").format(
            booked=booked, came=came))
    if not cov.by_group:
        lines.append("  " + _("none yet"))
    lines.append(_("Sessions held: {count}").format(count=cov.sessions_held))
    return "\n".join(lines)


def coverage_json(cov: checkups.Coverage, year: int) -> dict[str, object]:
    return {"year": year, "sessions_held": cov.sessions_held,
            "areas": {a: {"booked": b, "came": c} for a, (b, c) in cov.by_area.items()},
            "groups": {g: {"booked": b, "came": c} for g, (b, c) in cov.by_group.items()}}
