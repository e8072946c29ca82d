"""Check-up coverage as a share of the residents (issue 20): the target is 100 % of the residents
examined at least once a year. The population figures are the station's own (`[[areas]]`
`population`, `population_elderly`, `population_children`); where one is missing the share is
not known ("chưa có số dân"), never guessed. An examined count above the population is shown as
it is, with a warning, not capped at 100 %.

Counts are distinct people examined (`storage.checkups.person_key`: a person examined twice in the
period counts once, in the area and group of their latest visit), never visits.

- per area: people examined in the area / the area's population;
- in total: every person examined (also with no area given) / the sum of the areas' populations,
  known only when every area in scope has its population;
- per priority group: elderly and children over the sum of the areas' group figures, 16–59 over
  population − elderly − children (every area needs all three); "birth year not known" has no
  population to compare with.

Province scope (`station_id=None`): the areas of every station, the populations of areas with
the same code added up (as the counts are).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.config import Area, Settings
from core.i18n import gettext_for
from core.stations import settings_for
from storage.checkups import Coverage

TARGET = 1.0  # 100 % of the residents, at least once a year (Resolution 72-NQ/TW)


@dataclass(frozen=True)
class Share:
    examined: int
    population: int | None  # None: not entered

    @property
    def rate(self) -> float | None:
        return self.examined / self.population if self.population else None

    @property
    def over(self) -> bool:
        """More people examined than the population entered: the figure needs checking."""
        return bool(self.population) and self.examined > (self.population or 0)

    @property
    def percent(self) -> float | None:
        """The share in per cent, 1 decimal (JSON)."""
        rate = self.rate
        return None if rate is None else round(rate * 100, 1)


@dataclass
class Shares:
    total: Share
    areas: dict[str, Share] = field(default_factory=dict)
    groups: dict[str, Share] = field(default_factory=dict)  # "unknown" is never here


def scope_areas(settings: Settings, station_id: int | None) -> list[Area]:
    """The configured areas of one station, or of every station (`None`). A station's view of
    the settings cannot name station 1's areas: they are then left out (their share unknown)."""
    if station_id is not None:
        return list(settings_for(settings, station_id).areas)
    entries = settings.stations
    root = [] if any(e.code == settings.station.code for e in entries) else settings.areas
    return [*root, *(a for e in entries for a in e.areas)]


def _sum(values: list[int]) -> int | None:
    return sum(values) if values and all(values) else None


def shares(settings: Settings, cov: Coverage, station_id: int | None) -> Shares:
    areas = scope_areas(settings, station_id)
    by_code: dict[str, list[Area]] = {}
    for area in areas:
        by_code.setdefault(area.code.upper(), []).append(area)
    came = {code.upper(): c for code, (_b, c) in cov.by_area.items()}
    out = Shares(total=Share(cov.came, _sum([a.population for a in areas])))
    for code, same in by_code.items():
        out.areas[code] = Share(came.get(code, 0), _sum([a.population for a in same]))
    elderly = _sum([a.population_elderly for a in areas])
    children = _sum([a.population_children for a in areas])
    total = out.total.population
    adult = (total - elderly - children) if total and elderly and children else None
    for group, population in (("elderly", elderly), ("adult", adult), ("child", children)):
        out.groups[group] = Share(cov.by_group.get(group, (0, 0))[1], population or None)
    return out


def area_rows(cov: Coverage, result: Shares) -> list[tuple[str, int, int, Share | None]]:
    """(code, booked, came, share) for every counted area and every configured one (0 booked);
    "-" (no area given) has no share; a code no longer configured has no population."""
    rows = dict(cov.by_area)
    counted = {code.upper() for code in rows}
    rows.update({code: (0, 0) for code in result.areas if code not in counted})
    return [(code, b, c, None if code == "-" else result.areas.get(code.upper(), Share(c, None)))
            for code, (b, c) in sorted(rows.items())]


def _(text: str) -> str:
    """Mark a string for the catalog (coverage.po); translated where it is used."""
    return text


NO_POPULATION = _("no population figure")
OVER_POPULATION = _("more people examined than the population entered: please check the figure")
TARGET_LINE = _("Target: {target} of the residents examined at least once a year")
VISITS_LINE = _("Check-up visits: {visits} (a person examined twice makes two visits; the people "
                "above count once)")


def share_text(share: Share, locale: str) -> str:
    """'87,5 % of the residents (1.250)', with the warning when over; 'no population figure'."""
    from bot.report.content import number, percent

    t = gettext_for(locale)
    if share.rate is None:
        return t(NO_POPULATION)
    text = t("{share} of the residents ({population})").format(
        share=percent(share.rate, locale), population=number(share.population, locale))
    return f"{text} ⚠ {t(OVER_POPULATION)}" if share.over else text


def share_json(share: Share | None) -> dict[str, object]:
    if share is None:
        return {"population": None, "share_percent": None, "over_population": False}
    return {"population": share.population, "share_percent": share.percent,
            "over_population": share.over}
