"""Stations as data (issue 21): which station an inbound belongs to, and that station's settings.

One installation serves one or many health stations. Station 1 is `[station]` + `[[areas]]` of the
configuration (so a single-station config is unchanged); `[[stations]]` adds stations 2, 3...
Every resident, chat, ticket, broadcast, outbox row and log row carries a `station_id`.

- `settings_for(settings, station_id)` is the station's view of the settings: its own name, phone,
  hours, areas, plan region and ticket staff chat, all else shared. Conversations read it as
  `ctx.settings`, so every reply names the resident's own station.
- `parse_start(settings, param)` reads a deep link (`/start NGHIADO_TDP1`) of a shared provincial
  bot: a station code, optionally followed by `_` and one of its area codes.
- `may_act_on(member, station_id)` is the one scoping rule: staff act on their stations only,
  province staff on all; `reach` is the stations a member's broadcast goes to.
  `only_stations(stmt, model, stations)` is its query side: the rows of some stations (the report,
  the digest).
- `own_bot(settings, station_id, channel)`: a station's own Telegram bot / Zalo Bot, if any;
  `own_zalo_oa` its own Zalo OA; `sender_key` names its inbox and outbox sender (`telegram@2`,
  `zalo_oa@2`, also the OA's key in `oauth_tokens`).
- `find_stations` / `names_a_ward`: the ward search by name, without diacritics.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from content.normalize import normalize
from core.config import (
    Area,
    Settings,
    StaffMember,
    Station,
    StationEntry,
    Telegram,
    ZaloBot,
    ZaloOA,
)

if TYPE_CHECKING:
    from storage.models import BroadcastRecord, Ticket


class StaffContext(Protocol):
    """What the scoping helpers read of a conversation context (`bot.context.Context`)."""

    services: Any

    def staff_member(self) -> StaffMember | None: ...

DEFAULT_STATION = 1

_views: dict[int, tuple[Settings, dict[int, Settings]]] = {}


def station_ids(settings: Settings) -> list[int]:
    """Every configured station id, station 1 first."""
    return [DEFAULT_STATION, *(entry.id for entry in settings.stations)]


def entry_for(settings: Settings, station_id: int) -> StationEntry | None:
    return next((e for e in settings.stations if e.id == station_id), None)


def settings_for(settings: Settings, station_id: int) -> Settings:
    """The settings as station `station_id` sees them (station 1, or unknown ids: unchanged)."""
    if station_id == DEFAULT_STATION or not settings.stations:
        return settings
    cached = _views.get(id(settings))
    if cached is None or cached[0] is not settings:
        cached = (settings, {})
        _views[id(settings)] = cached
    view = cached[1].get(station_id)
    if view is None:
        entry = entry_for(settings, station_id)
        view = settings if entry is None else _view(settings, entry)
        cached[1][station_id] = view
    return view


def _view(settings: Settings, entry: StationEntry) -> Settings:
    base = settings.station
    station: Station = dataclasses.replace(
        base,
        code=entry.code,
        name=entry.name,
        ward=entry.ward or entry.name,
        address=entry.address or base.address,
        phone=entry.phone or base.phone,
        hours_vi=entry.hours_vi or base.hours_vi,
        hours_en=entry.hours_en or base.hours_en,
        map_url=entry.map_url,
        region=entry.region or base.region,
        info_reviewed_on=entry.info_reviewed_on or base.info_reviewed_on,
        library=entry.library,
    )
    feedback = dataclasses.replace(settings.feedback, staff_chat=entry.staff_chat,
                                   categories=[dataclasses.replace(c, staff_chat="")
                                               for c in settings.feedback.categories])
    return dataclasses.replace(settings, station=station, areas=list(entry.areas),
                               feedback=feedback)


def station_by_code(settings: Settings, code: str) -> int | None:
    wanted = code.strip().upper()
    if wanted and wanted == settings.station.code.upper():
        return DEFAULT_STATION
    return next((e.id for e in settings.stations if e.code.upper() == wanted), None)


def parse_start(settings: Settings, param: str) -> tuple[int | None, Area | None]:
    """A deep-link parameter as (station id, area): ``NGHIADO``, ``NGHIADO_TDP1``; anything
    else is no station (the caller reads it as an area code of the resident's station)."""
    if not settings.stations:
        return None, None
    head, _sep, tail = param.strip().partition("_")
    station_id = station_by_code(settings, head)
    if station_id is None:
        return None, None
    area = settings_for(settings, station_id).area(tail) if tail else None
    return station_id, area


def own_bot(settings: Settings, station_id: int, channel: str) -> Any:
    """The station's own bot on `channel` ("telegram", "zalo_bot") as the shared table would
    describe it: its token, webhook and API address, the rest shared. None: the shared bot."""
    entry = entry_for(settings, station_id)
    own = getattr(entry, channel, None) if entry is not None else None
    if own is None or not own.token:
        return None
    shared = getattr(settings, channel)
    named = {"bot_username": own.bot_username} if hasattr(own, "bot_username") else {}
    return dataclasses.replace(shared, token=own.token, webhook_url=own.webhook_url,
                               webhook_secret=own.webhook_secret,
                               api_base_url=own.api_base_url or shared.api_base_url, **named)


def own_telegram(settings: Settings, station_id: int) -> Telegram | None:
    return own_bot(settings, station_id, "telegram")


def own_zalo_bot(settings: Settings, station_id: int) -> ZaloBot | None:
    return own_bot(settings, station_id, "zalo_bot")


def own_zalo_oa(settings: Settings, station_id: int) -> ZaloOA | None:
    """The station's own Zalo OA as [zalo_oa] would describe it (empty URLs: [zalo_oa]'s);
    None: its residents use the shared OA."""
    entry = entry_for(settings, station_id)
    if entry is None or not entry.zalo_oa.app_id:
        return None
    own, shared = entry.zalo_oa, settings.zalo_oa
    return ZaloOA(app_id=own.app_id, app_secret=own.app_secret,
                  oa_secret_key=own.oa_secret_key, oa_id=own.oa_id,
                  oauth_base_url=own.oauth_base_url or shared.oauth_base_url,
                  api_base_url=own.api_base_url or shared.api_base_url,
                  redirect_uri=own.redirect_uri or shared.redirect_uri,
                  group_ids=list(own.group_ids))


def bot_view(settings: Settings, station_id: int) -> Settings:
    """What a station's own bot serves: the station's settings and only the staff who act on
    it (its command menus are set for them and its staff group, not the whole province's)."""
    view = settings_for(settings, station_id)
    return dataclasses.replace(view, staff=[m for m in settings.staff
                                            if may_act_on(m, station_id)])


def stations_with_own_bot(settings: Settings, channel: str = "telegram") -> list[int]:
    """The stations that run their own bot on `channel` ("telegram", "zalo_bot", "zalo_oa")."""
    if channel == "zalo_oa":
        return [e.id for e in settings.stations if e.zalo_oa.app_id]
    if channel not in ("telegram", "zalo_bot"):
        return []
    return [e.id for e in settings.stations if getattr(e, channel).token]


def sender_key(channel: str, station_id: int | None) -> str:
    """The key of a channel's sender (and inbox) for a station's own bot: ``telegram@2``."""
    return channel if station_id is None else f"{channel}@{station_id}"


# Words around a ward's own name, as people type them (already folded, no diacritics).
WARD_WORDS = ("tram y te", "tram", "phuong", "xa", "thi tran", "dac khu", "ward", "commune",
              "health station", "station")
WARD_LIST_LIMIT = 6


@functools.lru_cache(maxsize=8192)
def _own_name(text: str) -> str:
    """A ward's own name, folded, without "trạm y tế", "phường", "xã"...: "an khanh"."""
    words = normalize(text)
    changed = True
    while changed:
        changed = False
        for word in WARD_WORDS:
            if words.startswith(word + " "):
                words, changed = words[len(word) + 1:], True
    return words.strip()


def find_stations(settings: Settings, query: str, *, fuzzy: bool = True) -> list[int]:
    """Stations whose ward or name matches what a resident typed, without diacritics or with:
    the exact own name first ("an khanh" = "Phường An Khánh"), then names that contain it, then
    (with `fuzzy`) near spellings. At most WARD_LIST_LIMIT."""
    wanted = _own_name(query)
    if not wanted:
        return []
    exact: list[int] = []
    partial: list[int] = []
    names: dict[int, set[str]] = {}
    for station_id in station_ids(settings):
        view = settings_for(settings, station_id).station
        names[station_id] = {_own_name(view.ward), _own_name(view.name)} - {""}
        if wanted in names[station_id]:
            exact.append(station_id)
        elif any(f" {wanted} " in f" {name} " for name in names[station_id]):
            partial.append(station_id)
    found = exact + partial
    if not found and fuzzy:
        from rapidfuzz import fuzz

        scored = sorted(((max(fuzz.ratio(wanted, n) for n in ns), sid)
                         for sid, ns in names.items() if ns), reverse=True)
        found = [sid for score, sid in scored if score >= 80]
    return found[:WARD_LIST_LIMIT]


def names_a_ward(settings: Settings, text: str) -> list[int]:
    """The stations a free message names, when it plainly is a ward: its exact own name of two
    words or more ("an khanh"), or a ward word and a name ("phuong an khanh"); else [] (e.g.
    "phuong phap ...": "phương pháp" starts a question, not a ward)."""
    folded = normalize(text)
    wanted = _own_name(folded)
    if not wanted or not settings.stations:
        return []
    if wanted == folded and len(wanted.split()) < 2:
        return []  # one bare word ("mau") is more likely a question than the ward "Mẫu"
    found = find_stations(settings, folded, fuzzy=False)
    if wanted != folded:  # "phuong ...": a ward word leads
        return found
    return [sid for sid in found
            if wanted in {_own_name(settings_for(settings, sid).station.ward),
                          _own_name(settings_for(settings, sid).station.name)}]


def may_act_on(member: StaffMember | None, station_id: int) -> bool:
    """The scoping rule: a staff member acts on the stations they work for; province on all."""
    return member is not None and (member.province or station_id in member.stations)


def only_stations(stmt: Select[Any], model: Any,
                  stations: int | Iterable[int] | None) -> Select[Any]:
    """`stmt` keeping the rows of `stations` (one id or several; None: every station) when
    `model`'s table has a station column (tables without one are shared by all stations)."""
    column = getattr(model, "station_id", None)
    if stations is None or column is None:
        return stmt
    if isinstance(stations, int):
        return stmt.where(column == stations)
    return stmt.where(column.in_(list(stations)))


def member_scope(ctx: StaffContext) -> list[int] | None:
    """The stations the staff member behind `ctx` sees; None when not staff."""
    member = ctx.staff_member()
    return None if member is None else scope_of(member, ctx.services.settings)


def visible(ctx: StaffContext, ticket: Ticket | None) -> Ticket | None:
    """The ticket when the staff member behind `ctx` may act on its station, else None (the
    ticket of another station is answered as "not found": its existence is not shown)."""
    if ticket is None or may_act_on(ctx.staff_member(), ticket.station_id):
        return ticket
    return None


def broadcast_stations(record: BroadcastRecord) -> list[int]:
    """The stations a staff broadcast reaches (its audience's list; older rows: its station)."""
    listed = (record.audience or {}).get("stations")
    return [int(i) for i in listed] if isinstance(listed, list) else [record.station_id or 1]


def may_decide(member: StaffMember | None, record: BroadcastRecord | None) -> bool:
    """Approving, rejecting or cancelling a broadcast needs every station it reaches."""
    return record is None or all(may_act_on(member, s) for s in broadcast_stations(record))


def scope_of(member: StaffMember, settings: Settings) -> list[int]:
    """The stations a member sees (province staff: every configured station)."""
    return station_ids(settings) if member.province else list(member.stations)


def reach(settings: Settings, member: StaffMember, chosen: object = None) -> list[int]:
    """The stations a member's broadcast reaches: `chosen` (a list of ids, kept to the stations
    the member acts on) when given, else every station of theirs (`scope_of`)."""
    if isinstance(chosen, list) and chosen:
        picked = [s for s in stations_in((int(i) for i in chosen), settings)
                  if may_act_on(member, s)]
        if picked:
            return picked
    return scope_of(member, settings)


def stations_in(ids: Iterable[int], settings: Settings) -> list[int]:
    known = set(station_ids(settings))
    return [i for i in dict.fromkeys(ids) if i in known]


async def sync_stations(session: AsyncSession, settings: Settings) -> None:
    """Write the configured stations' public facts into the `stations` table (start-up)."""
    from storage.models import StationRecord

    wanted = {DEFAULT_STATION: settings_for(settings, DEFAULT_STATION)}
    wanted.update({e.id: settings_for(settings, e.id) for e in settings.stations})
    rows = {r.id: r for r in (await session.execute(select(StationRecord))).scalars()}
    for station_id, view in wanted.items():
        row = rows.get(station_id) or StationRecord(id=station_id)
        row.code = view.station.code
        row.name = view.station.name
        row.address = view.station.address
        row.phone = view.station.phone
        row.hours = {"vi": view.station.hours_vi, "en": view.station.hours_en}
        row.areas = [{"code": a.code, "name": a.name} for a in view.areas]
        row.region = view.station.region
        if station_id not in rows:
            session.add(row)
