"""Check-up coverage over a year, per area and per priority group, as staff read it (issue 20):
the same text for `/dskham baophu` in the chat and `healthbot checkups coverage`. The counts are
distinct people (`storage.checkups.person_key`); the visits (bookings marked as come) and the
sessions held are separate lines."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.checkups.messages import area_names
from bot.checkups.shares import (
    TARGET,
    TARGET_LINE,
    VISITS_LINE,
    area_rows,
    share_json,
    share_text,
    shares,
)
from bot.config import Settings
from bot.i18n import TIMEZONE, gettext_for
from bot.report.checkups_group import AGE_GROUPS
from storage import checkups


async def year_coverage(session: AsyncSession, year: int,
                        station_id: int | None = 1) -> checkups.Coverage:
    start = datetime(year, 1, 1, tzinfo=TIMEZONE)
    end = datetime(year + 1, 1, 1, tzinfo=TIMEZONE)
    return await checkups.coverage_of(session, start, end, station_id=station_id)


def coverage_text(settings: Settings, cov: checkups.Coverage, year: int, locale: str,
                  station_id: int | None = 1) -> str:
    _ = gettext_for(locale)
    result = shares(settings, cov, station_id)
    lines = [_("Check-ups in {year}: people booked and examined per area").format(year=year),
             _(TARGET_LINE).format(target=f"{TARGET * 100:.0f} %")]
    rows = area_rows(cov, result)
    for code, booked, came, share in rows:
        name = area_names(settings, [code], locale) if code != "-" else _("no area given")
        text = _("{booked} booked, {came} came").format(booked=booked, came=came)
        lines.append(f"  {name}: {text}" + (f" · {share_text(share, locale)}" if share else ""))
    if not rows:
        lines.append("  " + _("none yet"))
    lines.append(_("In total: {came} examined").format(came=cov.came) + " · "
                 + share_text(result.total, locale))
    lines.append(_("Per priority group:"))
    for group, (booked, came) in cov.by_group.items():
        share = result.groups.get(group)
        lines.append(f"  {_(AGE_GROUPS[group])}: " + _("{booked} booked, {came} came").format(
            booked=booked, came=came) + (f" · {share_text(share, locale)}" if share else ""))
    if not cov.by_group:
        lines.append("  " + _("none yet"))
    lines.append(_("Sessions held: {count}").format(count=cov.sessions_held))
    lines.append(_(VISITS_LINE).format(visits=cov.visits))
    return "\n".join(lines)


def coverage_json(settings: Settings, cov: checkups.Coverage, year: int,
                  station_id: int | None = 1) -> dict[str, object]:
    result = shares(settings, cov, station_id)
    return {"year": year, "sessions_held": cov.sessions_held, "visits": cov.visits,
            "target_percent": round(TARGET * 100, 1),
            "total": {"booked": cov.booked, "came": cov.came, **share_json(result.total)},
            "areas": {a: {"booked": b, "came": c, **share_json(share)}
                      for a, b, c, share in area_rows(cov, result)},
            "groups": {g: {"booked": b, "came": c, **share_json(result.groups.get(g))}
                       for g, (b, c) in cov.by_group.items()}}
