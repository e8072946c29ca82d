"""`healthbot content check`: the shipped library passes; a broken copy fails clearly."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from content.check import check_library, format_problems, main
from tests.library_files import edit

TODAY = dt.date(2026, 11, 30)




def test_shipped_library_has_no_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--today", TODAY.isoformat()]) == 0
    assert "0 error(s)" in capsys.readouterr().out


def test_broken_copy_fails_with_file_entry_and_reason(
    library_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dengue = library_copy / "dengue.yaml"
    # duplicate id: a second entry takes the id of the first one
    edit(dengue, "  - id: dengue.season\n", "  - id: dengue.spread\n")
    # missing source
    edit(library_copy / "flu.yaml",
          "    sources:\n      - issuer: Bộ Y tế\n        title: Danh mục bệnh trong chương trình"
          " Tiêm chủng mở rộng\n        document: Thông tư 52/2025/TT-BYT\n"
          "        date: 2025-12-31\n",
          "    sources: []\n")
    # over-long text
    edit(library_copy / "measles.yaml", "      vi: |-\n        Phòng bệnh sởi:\n",
          "      vi: |-\n        Phòng bệnh sởi:" + " rất dài" * 90 + "\n")
    # broken related reference
    edit(library_copy / "bhyt.yaml", "related: [bhyt.renewal, bhyt.children, bhyt.who-pays]",
          "related: [bhyt.renewal, bhyt.no-such-entry]")

    exit_code = main(["--path", str(library_copy), "--today", TODAY.isoformat()])
    out = capsys.readouterr().out
    assert exit_code == 1
    assert "dengue.yaml" in out and "dengue.spread" in out and "duplicate entry id" in out
    assert "flu.vaccine" in out and "missing sources" in out
    assert "measles.prevention" in out and "more than 600" in out
    assert "bhyt.rates" in out and "unknown entry 'bhyt.no-such-entry'" in out
    assert "0 error(s)" not in out


def test_schema_error_names_file_entry_and_field(library_copy: Path) -> None:
    edit(library_copy / "hfmd.yaml", "    kind: message\n", "    kind: poster\n")
    problems = check_library(library_copy, TODAY)
    errors = [p for p in problems if p.severity == "error"]
    assert len(errors) == 1
    message = format_problems(errors)
    assert "hfmd.yaml" in message and "hfmd.warning-signs" in message
    assert "'kind'" in message and "poster" in message


def test_missing_english_is_a_warning_not_an_error(library_copy: Path) -> None:
    edit(library_copy / "emergency.yaml",
          "      en: |-\n        For an accident with injured people",
          "      xx: |-\n        For an accident with injured people")
    problems = check_library(library_copy, TODAY)
    assert not [p for p in problems if p.severity == "error"]
    assert ("emergency.accident", "text.en") in {(p.entry, p.field) for p in problems}


def test_emergency_entry_without_115_is_an_error(library_copy: Path) -> None:
    edit(library_copy / "emergency.yaml", "gọi 115 để cấp cứu và 113", "gọi cấp cứu và 113")
    problems = check_library(library_copy, TODAY)
    assert any(p.entry == "emergency.accident" and "115" in p.message
               and p.severity == "error" for p in problems)
