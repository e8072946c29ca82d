"""The report's check-ups and survey part (issue 20 feeding issue 17): sessions held, people booked
and examined per area and per priority group, and the residents' satisfaction survey rate."""

from __future__ import annotations

from typing import Any

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
     _("Bookings of those sessions not cancelled / bookings the staff marked as come. Per area: "
       "the resident's area at booking. Per priority group: the age reached in the session's "
       "year from the birth year given (elderly from 60, Law on the Elderly 2009; children under "
       "16, Law on Children 2016).")),
    (_("Survey satisfaction rate"),
     _("Answers scored 4 or 5 among all answers of the surveys completed in the period (1–5 "
       "scale, questions after the Ministry of Health outpatient form, Decision 3869/QĐ-BYT); "
       "target at least 90 %. See docs/satisfaction.md.")),
]


def checkups_part(figures: Any, locale: str, area: Any) -> tuple[Group | None, list[str],
                                                                  list[tuple[str, str]]]:
    """(the group of tables, the shortcomings it shows, its definitions)."""
    _ = gettext_for(locale)  # noqa: F811 - the catalog, inside; a marker outside
    cov, sv = figures.checkups, figures.survey
    if cov is None or sv is None:
        return None, [], []
    label, value = _("Figure"), _("Value")
    group = Group("checkups", _("Check-ups and satisfaction"), [
        Table(_("Free check-ups"), [label, value, _("Share")], [TEXT, INT, PCT], [
            [_("Check-up sessions held"), cov.sessions_held, None],
            [_("People booked"), cov.booked, None],
            [_("People examined"), cov.came, share(cov.came, cov.booked)]]),
        Table(_("Check-ups per area"), [_("Area"), _("People booked"), _("People examined")],
              [TEXT, INT, INT], [[area(k if k != "-" else ""), b, c]
                                 for k, (b, c) in cov.by_area.items()]),
        Table(_("Check-ups per priority group"),
              [_("Priority group"), _("People booked"), _("People examined")], [TEXT, INT, INT],
              [[_(AGE_GROUPS[k]), b, c] for k, (b, c) in cov.by_group.items()]),
        Table(_("Residents' satisfaction survey"), [label, value, _("Share")], [TEXT, INT, PCT], [
            [_("Surveys completed"), sv.responses, None],
            [_("Answers"), sv.answers, None],
            [_("Answers satisfied (4–5)"), sv.satisfied, sv.rate],
            [_("Surveys with every answer satisfied"), sv.all_satisfied,
             share(sv.all_satisfied, sv.responses)],
            [_("Target"), None, sv.target]]),
    ])
    shortcomings = []
    if sv.rate is not None and sv.rate < sv.target:
        shortcomings.append(_("The residents' survey satisfaction rate was {rate}, below the "
                              "target of {target}.").format(rate=percent(sv.rate, locale),
                                                            target=percent(sv.target, locale)))
    return group, shortcomings, [(_(a), _(b)) for a, b in DEFINITIONS]
