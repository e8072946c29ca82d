"""The report's check-ups and survey part (issue 20 feeding issue 17): sessions held, people booked
and examined per area and per priority group (distinct people, `storage.checkups.person_key`),
the visits (bookings marked as come), and the residents' satisfaction survey rate."""

from __future__ import annotations

from typing import Any

from bot.checkups.shares import NO_POPULATION, OVER_POPULATION, TARGET, Share, area_rows, shares
from bot.i18n import gettext_for
from bot.report.content import INT, PCT, TEXT, Group, Table, percent, share


def _(text: str) -> str:
    return text


AGE_GROUPS = {
    "elderly": _("Elderly (60 and over)"),
    "adult": _("Aged 16 to 59"),
    "child": _("Children (under 16)"),
    "unknown": _("Birth year not known"),
}
DEFINITIONS: list[tuple[str, str]] = [
    (_("Check-up sessions held"),
     _("Free check-up sessions starting in the period that were not cancelled.")),
    (_("People booked / examined"),
     _("Distinct people with a booking of those sessions not cancelled / of them, people the "
       "staff marked as come at least once. A person is the resident's account, the name (without "
       "diacritics, case or extra spaces) and the birth year given, so family members booked from "
       "one account count apart; after the account is erased, the name, birth year and area; once "
       "the name is erased too, each booking counts on its own. A person examined twice in the "
       "period counts once, in the area and group of their latest visit (never come: their latest "
       "booking). Per area: the resident's area at booking. Per priority group: the age reached in "
       "the session's year from the birth year given (elderly from 60, Law on the Elderly 2009; "
       "children under 16, Law on Children 2016).")),
    (_("Check-up visits"),
     _("Bookings of those sessions the staff marked as come: a person examined twice in the period "
       "makes two visits.")),
    (_("Share of residents examined"),
     _("People examined in the period / the residents entered by the station for each area "
       "([[areas]] population, population_elderly, population_children, from the ward's own "
       "figures); in total over every area, per priority group over the group's figures (16–59: "
       "population less elderly and children). The target is 100 % of the residents examined "
       "at least once a year (Resolution 72-NQ/TW). \"No population figure\": not entered, no "
       "share is computed. Above 100 %: shown as counted, with a warning to check the figure. A "
       "person examined twice in the period counts once.")),
    (_("Survey satisfaction rate"),
     _("Answers scored 4 or 5 among all answers of the surveys completed in the period (1–5 "
       "scale; the station's own questions, one per section of the Ministry of Health "
       "outpatient form, Decision 3869/QĐ-BYT; not yet checked against the Ministry's own "
       "method, see docs/satisfaction.md); target at least 90 %.")),
]


def _cells(share: Share | None, locale: str) -> list[Any]:
    """Population, share (a number, or the words when not entered), note (the warning)."""
    if share is None:
        return [None, None, ""]
    t = gettext_for(locale)
    return [share.population, t(NO_POPULATION) if share.rate is None else share.rate,
            t(OVER_POPULATION) if share.over else ""]


def checkups_part(figures: Any, locale: str, area: Any,
                  settings: Any) -> tuple[Group | None, list[str], list[tuple[str, str]]]:
    """(the group of tables, the shortcomings it shows, its definitions)."""
    _ = gettext_for(locale)  # noqa: F811 - the catalog, inside; a marker outside
    cov, sv = figures.checkups, figures.survey
    if cov is None or sv is None:
        return None, [], []
    result = shares(settings, cov, figures.station_id)
    label, value = _("Figure"), _("Value")
    counts = [_("People booked"), _("People examined")]
    against = [_("Residents"), _("Share of residents examined"), _("Note")]
    group = Group("checkups", _("Check-ups and satisfaction"), [
        Table(_("Free check-ups"), [label, value, _("Share")], [TEXT, INT, PCT], [
            [_("Check-up sessions held"), cov.sessions_held, None],
            [_("People booked"), cov.booked, None],
            [_("People examined"), cov.came, share(cov.came, cov.booked)],
            [_("Check-up visits"), cov.visits, None],
            [_("Share of residents examined"), cov.came,
             *_cells(result.total, locale)[1:2]],
            [_("Target"), None, TARGET]]),
        Table(_("Check-ups per area"), [_("Area"), *counts, *against],
              [TEXT, INT, INT, INT, PCT, TEXT],
              [[area(k if k != "-" else ""), b, c, *_cells(s, locale)]
               for k, b, c, s in area_rows(cov, result)]),
        Table(_("Check-ups per priority group"), [_("Priority group"), *counts, *against],
              [TEXT, INT, INT, INT, PCT, TEXT],
              [[_(AGE_GROUPS[k]), b, c, *_cells(result.groups.get(k), locale)]
               for k, (b, c) in cov.by_group.items()]),
        Table(_("Residents' satisfaction survey"), [label, value, _("Share")], [TEXT, INT, PCT], [
            [_("Surveys completed"), sv.responses, None],
            [_("Answers"), sv.answers, None],
            [_("Answers satisfied (4–5)"), sv.satisfied, sv.rate],
            [_("Surveys with every answer satisfied"), sv.all_satisfied,
             share(sv.all_satisfied, sv.responses)],
            [_("Target"), None, sv.target]]),
    ])
    shortcomings = []
    if result.total.rate is not None and result.total.rate < TARGET:
        shortcomings.append(_("{share} of the residents were examined, below the target of "
                              "{target}.").format(share=percent(result.total.rate, locale),
                                                  target=percent(TARGET, locale)))
    over = [area(k) for k, _b, _c, s in area_rows(cov, result) if s is not None and s.over]
    if result.total.over:
        over.append(_("In total"))
    if over:
        shortcomings.append(_("More people examined than the population entered ({areas}): "
                              "please check the population figures.").format(
                                  areas="; ".join(over)))
    if sv.rate is not None and sv.rate < sv.target:
        shortcomings.append(_("The residents' survey satisfaction rate was {rate}, below the "
                              "target of {target}.").format(rate=percent(sv.rate, locale),
                                                            target=percent(sv.target, locale)))
    return group, shortcomings, [(_(a), _(b)) for a, b in DEFINITIONS]
