"""The communication plan as data: campaign files in ``content/plans/*.yaml``, loaded and validated.

A campaign says *what* (topic, library messages to rotate), *when* (a date window: fixed dates, a
yearly day-month range, or anchored to the Vietnamese lunar calendar; and a rhythm inside it),
*to whom* (audience) and *where* (regions). This module only reads and checks the files; turning a
plan into dated occurrences is ``scheduler.occurrences``. Pure: no database, no network.

The types are in ``scheduler.plan_model``, one campaign's parsing in ``scheduler.plan_parse``; both
are importable from here.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from scheduler.plan_model import (  # noqa: F401  (re-exported)
    CAMPAIGN_FIELDS,
    ID_CHARS,
    LANGUAGES,
    LUNAR_ANCHORS,
    MINUTES_PER_DAY,
    REGIONS,
    STAFF_MESSAGE_PREFIX,
    STAFF_TOPIC,
    TOPICS,
    WEEKDAYS,
    Audience,
    Campaign,
    FixedWindow,
    LunarPoint,
    LunarWindow,
    Rhythm,
    Window,
    YearlyWindow,
)
from scheduler.plan_parse import parse_campaign  # noqa: F401  (re-exported)

DEFAULT_PLAN_DIR = Path(__file__).resolve().parent.parent / "content" / "plans"
DEFAULT_REGION = "north"
PLAN_FILE_GLOB = "*.yaml"
TOP_LEVEL_FIELDS = frozenset({"version", "description", "campaigns"})


class PlanError(ValueError):
    """The plan files are invalid; ``problems`` lists each one (file, campaign, field, expected)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("Invalid plan:\n" + "\n".join(f"- {p}" for p in self.problems))


@dataclass(frozen=True)
class Plan:
    """The campaigns that apply to one station's region (drafts left out unless asked for)."""

    campaigns: tuple[Campaign, ...]
    region: str
    files: tuple[Path, ...] = ()

    def campaign(self, campaign_id: str) -> Campaign:
        for campaign in self.campaigns:
            if campaign.id == campaign_id:
                return campaign
        raise KeyError(campaign_id)


def plan_files(path: Path | None) -> list[Path]:
    """The plan's YAML files; ``path`` is one file or a directory (default: the shipped plan)."""
    path = DEFAULT_PLAN_DIR if path is None else Path(path)
    if path.is_dir():
        return sorted(path.glob(PLAN_FILE_GLOB))
    return [path]


def _read_all(path: Path | None) -> tuple[list[Campaign], list[Path], list[str]]:
    problems: list[str] = []
    campaigns: list[Campaign] = []
    files = plan_files(path)
    if not files:
        problems.append(f"{path}: no plan files ({PLAN_FILE_GLOB}) found")
    seen: dict[str, Path] = {}
    for file in files:
        label = str(file)
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            problems.append(f"{label}: file not found")
            continue
        except yaml.YAMLError as exc:
            problems.append(f"{label}: not valid YAML: {exc}")
            continue
        if data is None:
            continue  # an empty file is allowed (e.g. a station's emptied regional file)
        if not isinstance(data, dict) or not isinstance(data.get("campaigns"), list):
            problems.append(f"{label}: expected a mapping with a 'campaigns:' list at the top")
            continue
        for key in data:
            if key not in TOP_LEVEL_FIELDS:
                problems.append(
                    f"{label}: unknown top-level field {key!r}; "
                    f"expected one of {', '.join(sorted(TOP_LEVEL_FIELDS))}"
                )
        for index, raw in enumerate(data["campaigns"]):
            name = raw.get("id") if isinstance(raw, dict) else None
            if isinstance(name, str) and name in seen:
                problems.append(
                    f"{label}: campaign {name!r}, field 'id': expected a unique id, "
                    f"already used in {seen[name]}"
                )
                continue
            if isinstance(name, str):
                seen[name] = file
            campaign = parse_campaign(raw, label, index, problems)
            if campaign is not None:
                campaigns.append(campaign)
    return campaigns, files, problems


def check_plan(path: Path | None = None, library_entry_ids: set[str] | None = None) -> list[str]:
    """Every problem in the plan files (empty list: the plan is valid).

    With ``library_entry_ids`` it also reports message ids that the content library lacks.
    """
    campaigns, _files, problems = _read_all(path)
    if library_entry_ids is not None:
        from scheduler.report_reminders import STAFF_MESSAGES, is_staff_message

        for campaign in campaigns:
            for message_id in campaign.messages:
                if message_id.startswith(STAFF_MESSAGE_PREFIX):
                    if not is_staff_message(message_id):
                        problems.append(
                            f"{campaign.source}: campaign {campaign.id!r}, field 'messages': "
                            f"expected one of {', '.join(sorted(STAFF_MESSAGES))}, "
                            "or staff:checkup:<area code>, "
                            f"got {message_id!r}"
                        )
                elif message_id not in library_entry_ids:
                    problems.append(
                        f"{campaign.source}: campaign {campaign.id!r}, field 'messages': "
                        f"expected ids of library entries, {message_id!r} is not in the library"
                    )
    return problems


def load_plan(
    path: Path | None = None, region: str = DEFAULT_REGION, include_drafts: bool = False
) -> Plan:
    """Load and validate the plan; keep the campaigns for ``region``; raise PlanError if invalid."""
    if region not in REGIONS:
        raise PlanError([f"region: expected one of {', '.join(REGIONS)}, got {region!r}"])
    campaigns, files, problems = _read_all(path)
    if problems:
        raise PlanError(problems)
    chosen = tuple(
        c
        for c in campaigns
        if (not c.regions or region in c.regions) and (include_drafts or not c.draft)
    )
    return Plan(campaigns=chosen, region=region, files=tuple(files))


def main_check(argv: list[str] | None = None, library_entry_ids: set[str] | None = None) -> int:
    """``healthbot plan check [PATH]``: print problems; exit status 0 when the plan is valid."""
    parser = argparse.ArgumentParser(prog="healthbot plan check", description=main_check.__doc__)
    parser.add_argument("path", nargs="?", type=Path, help="plan file or folder")
    parser.add_argument("--path", dest="path_option", type=Path, help="same as PATH")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    path = args.path_option or args.path
    problems = check_plan(path, library_entry_ids)
    if problems:
        print(f"Kế hoạch có {len(problems)} lỗi / The plan has {len(problems)} problem(s):")
        for problem in problems:
            print(f"- {problem}")
        return 1
    campaigns, _files, _ = _read_all(path)
    print(f"Kế hoạch hợp lệ / The plan is valid: {len(campaigns)} campaign(s).")
    if library_entry_ids is None:
        print("(Chưa đối chiếu mã tin với thư viện / message ids not checked against the library.)")
    return 0


__all__ = [
    "Audience",
    "Campaign",
    "DEFAULT_PLAN_DIR",
    "FixedWindow",
    "LunarPoint",
    "LunarWindow",
    "LANGUAGES",
    "Plan",
    "PlanError",
    "REGIONS",
    "Rhythm",
    "TOPICS",
    "Window",
    "YearlyWindow",
    "check_plan",
    "load_plan",
    "main_check",
    "plan_files",
]
