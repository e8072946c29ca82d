"""The shipped library: every answer renders with a source, BHYT rates, the vaccine schedule."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from content.library import DEFAULT_LIBRARY_DIR, TOPIC_IDS, Library, LibraryError, load_library
from content.render import render_entry
from content.station import StationInfo
from content.vaccination import doses_due, load_schedule

STATION = StationInfo(
    name="Trạm Y tế phường Thử Nghiệm", ward="Phường Thử Nghiệm",
    address="12 Đường Hoa Sữa", phone="024 3999 0000",
    hours={"vi": "7:30–16:30, thứ Hai đến thứ Sáu", "en": "7:30–16:30, Monday to Friday"},
    map_url="https://maps.example/tram", updated_on=dt.date(2026, 10, 1),
)
REQUIRED_MESSAGES = [
    "dengue.prevention", "dengue.warning-signs", "hfmd.prevention", "hfmd.warning-signs",
    "measles.prevention", "flu.prevention", "food-safety.basics", "food-safety.tet",
    "food-safety.action-month", "health-check.day-7-4", "vaccination.vitamin-a",
    "vaccination.schedule", "school-health.back-to-school", "tobacco-alcohol.no-tobacco-day",
    "bhyt.renewal", "bhyt.rates", "station-info.contact", "emergency.call-115",
]
DATE_IN_LINE = re.compile(r"\d{2}/\d{2}/\d{4}$")


def _plain(text: str) -> str:
    return text.replace("\xa0", " ")  # Babel puts a no-break space before ₫


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library()


def test_topics_are_exactly_the_agreed_ones(library: Library) -> None:
    assert sorted(library.topics) == sorted(TOPIC_IDS)


@pytest.mark.parametrize("entry_id", REQUIRED_MESSAGES)
def test_campaign_messages_exist(library: Library, entry_id: str) -> None:
    assert library.entry(entry_id).approved


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_every_entry_renders_with_source_and_review_date(library: Library, locale: str) -> None:
    for entry in library.entries():
        answer = render_entry(entry, locale, STATION, library=library)
        assert answer.text.strip(), entry.id
        assert "{" not in answer.text and "}" not in answer.text, entry.id
        label = "Nguồn: " if locale == "vi" else "Source: "
        assert answer.source_line.startswith(label), entry.id
        assert len(answer.source_line) > len(label) + 15, entry.id
        assert DATE_IN_LINE.search(answer.source_line), entry.id
        assert all(title for _, title in answer.followups), entry.id


def test_station_answers_cite_the_station_dated_by_config(library: Library) -> None:
    answer = render_entry(library.entry("station-info.contact"), "vi", STATION, library=library)
    assert "024 3999 0000" in answer.text and "12 Đường Hoa Sữa" in answer.text
    assert "7:30–16:30, thứ Hai đến thứ Sáu" in answer.text
    assert answer.source_line.startswith("Nguồn: Trạm Y tế phường Thử Nghiệm")
    assert answer.source_line.endswith("Cập nhật: 01/10/2026")


def test_station_without_map_link_leaves_the_map_line_out(library: Library) -> None:
    bare = StationInfo(name="Trạm Y tế xã Thử", ward="Xã Thử", address="Thôn 1",
                       phone="0200 000 000", hours={"vi": "7:00–17:00"})
    text = render_entry(library.entry("station-info.contact"), "vi", bare).text
    assert "Bản đồ" not in text and "0200 000 000" in text and "Thôn 1" in text
    with_map = render_entry(library.entry("station-info.contact"), "vi", STATION).text
    assert "Bản đồ: https://maps.example/tram" in with_map


def test_loading_a_broken_library_names_file_entry_and_field(tmp_path: Path) -> None:
    source = (DEFAULT_LIBRARY_DIR / "flu.yaml").read_text(encoding="utf-8")
    (tmp_path / "flu.yaml").write_text(
        source.replace("reviewed_on: 2026-11-29", "reviewed_on: last week", 1), encoding="utf-8")
    with pytest.raises(LibraryError) as error:
        load_library(tmp_path)
    assert "flu.yaml" in str(error.value) and "flu.about" in str(error.value)
    assert "reviewed_on" in str(error.value)


def test_emergency_gives_115_first(library: Library) -> None:
    for locale in ("vi", "en"):
        text = render_entry(library.entry("emergency.call-115"), locale, STATION).text
        assert "115" in text.splitlines()[0]


def test_vaccination_answers_send_people_to_the_station(library: Library) -> None:
    for entry in library.topics["vaccination"].entries:
        for locale in ("vi", "en"):
            text = render_entry(entry, locale, STATION).text
            assert STATION.name in text and STATION.phone in text, (entry.id, locale)


def test_bhyt_rates_entry_shows_babel_money(library: Library) -> None:
    day = dt.date(2026, 11, 22)  # Decree 161/2026 in force
    vi = _plain(render_entry(library.entry("bhyt.rates"), "vi", STATION, today=day).text)
    for amount in ("1.366.200 ₫", "956.340 ₫", "819.720 ₫", "683.100 ₫", "546.480 ₫"):
        assert amount in vi
    en = _plain(render_entry(library.entry("bhyt.rates"), "en", STATION, today=day).text)
    assert "₫1,366,200" in en and "₫546,480" in en


def test_vaccination_schedule_flags_unverified_rows() -> None:
    schedule = {d.id: d for d in load_schedule()}
    assert schedule["hepb_birth"].target_age_days == 0 and not schedule["hepb_birth"].unverified
    assert schedule["measles_1"].target_age_days == 270
    assert schedule["hpv"].unverified and schedule["pcv_1"].unverified
    assert all(d.basis for d in schedule.values())


def test_doses_due_for_a_two_month_old() -> None:
    due = {d.id for d in doses_due(dt.date(2026, 1, 10), dt.date(2026, 3, 12))}
    assert {"hepb_birth", "bcg", "penta_1", "opv_1", "rota_1"} <= due
    assert "penta_2" not in due and "pcv_1" not in due  # not yet due; unverified left out
    with_unverified = {d.id for d in doses_due(dt.date(2026, 1, 10), dt.date(2026, 3, 12),
                                               include_unverified=True)}
    assert "pcv_1" in with_unverified


def test_rotavirus_is_not_due_after_six_months() -> None:
    due = {d.id for d in doses_due(dt.date(2026, 1, 1), dt.date(2026, 8, 1))}
    assert "rota_1" not in due and "ipv_1" in due
