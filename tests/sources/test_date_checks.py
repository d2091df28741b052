"""Date checks: the marks per-person date shifting leaves, on literal tables."""

from __future__ import annotations

import datetime as dt
import warnings

import pytest

from _support.canonical import write_folder
from _support.omop import OMOP, write_csv
from riskstrat.exceptions import DataQualityWarning
from riskstrat.sources import load_omop, load_source, load_tables
from riskstrat.sources._date_checks import DATE_CHECKS, check_dates

EXTRACT = dt.date(2024, 1, 1)
ADM_HEAD = "patient_id,admission_date,discharge_date,emergency\n"


def _patients(rows: list[str]) -> str:
    head = "patient_id,birth_date,sex,death_date,registration_date,deregistration_date"
    return head + "\n" + "\n".join(rows) + "\n"


def _folder(tmp_path, patients: list[str], admissions: str = ""):
    return write_folder(
        tmp_path / "d",
        {"patients": _patients(patients), "admissions": ADM_HEAD + admissions},
    )


def _load(folder, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = load_source(folder, extract_date=EXTRACT, **kwargs)
    date_warnings = [str(w.message) for w in caught if "date check" in str(w.message)]
    return t, date_warnings


def _counts(t) -> dict[str, tuple[int, int, bool]]:
    checks, _ = check_dates(t)
    return {c.rule: (c.people, c.of_people, c.flagged) for c in checks}


# A plausible population: ages 30-90 on the extract date, events after birth.
PLAUSIBLE = [f"q{i},{1934 + 6 * i}-03-01,female,,2000-01-01," for i in range(10)]


def test_a_plausible_population_passes_every_check_and_the_summary_says_so(
    tmp_path,
):
    folder = _folder(tmp_path, PLAUSIBLE, "q1,2020-01-01,2020-01-03,true\n")
    t, said = _load(folder)
    assert said == []
    assert all(people == 0 for people, _, _ in _counts(t).values())
    (note,) = [n for n in t.mapping.notes if n.startswith("date checks")]
    assert "(reference date 2024-01-01)" in note
    for rule in DATE_CHECKS:
        assert f"{rule}: 0 of " in note


def test_someone_alive_over_110_is_warned_about_with_counts_only(tmp_path):
    people = [
        *PLAUSIBLE,
        "old,1905-01-01,male,,,",  # 118 on the extract date, no death
        "dead,1905-01-01,male,2010-01-01,,",  # died at 104: plausible
        "left,1905-01-01,female,,1990-01-01,2005-01-01",  # 100 when deregistered
    ]
    t, said = _load(_folder(tmp_path, people))
    assert _counts(t)["alive_over_110"] == (1, 13, True)
    (message,) = said
    assert "alive_over_110: 1 of 13 people (7.69%)" in message
    for secret in ("old", "1905", "dead", "left"):
        assert secret not in message.split(" - ")[0]  # the rule and counts only
    assert "Date-shifted extracts" in message


def test_many_events_before_birth_are_rejects_and_a_date_shift_warning(tmp_path):
    # Births kept, events moved back by years: the shifted rows are impossible.
    born = [f"s{i},1990-06-01,male,,," for i in range(6)]
    events = "".join(f"s{i},1985-0{i + 1}-01,1985-0{i + 1}-02,true\n" for i in range(5))
    t, said = _load(_folder(tmp_path, [*born, *PLAUSIBLE], events))
    rules = {r["rule"] for r in t.rejects.to_pylist()}
    assert rules == {"impossible_date"}
    assert t.rejects.num_rows == 5
    assert _counts(t)["event_before_birth"] == (5, 16, True)
    assert [m for m in said if "event_before_birth" in m]


def test_one_event_before_birth_is_counted_but_left_to_the_reject_warning(tmp_path):
    t, said = _load(_folder(tmp_path, PLAUSIBLE, "q9,1950-01-01,1950-01-02,true\n"))
    assert _counts(t)["event_before_birth"] == (1, 10, False)
    assert said == []


def test_events_after_death_are_counted_by_person(tmp_path):
    died = [f"x{i},1940-01-01,female,2015-01-01,," for i in range(5)]
    events = "".join(
        f"x{i},2016-01-0{i + 1},2016-01-1{i},true\nx{i},2017-01-01,2017-01-02,true\n"
        for i in range(5)
    )
    t, said = _load(_folder(tmp_path, [*died, *PLAUSIBLE], events))
    assert t.rejects.num_rows == 10  # every row after death, two per person
    assert _counts(t)["event_after_death"] == (5, 15, True)
    assert any("event_after_death: 5 of 15 people" in m for m in said)


def test_events_years_before_registration_warn_above_a_share(tmp_path):
    people = [f"r{i},1950-01-01,male,,2015-01-01," for i in range(4)] + PLAUSIBLE
    early = "".join(f"r{i},2008-01-01,2008-01-02,true\n" for i in range(2))
    recent = "r2,2012-01-01,2012-01-02,true\n"  # 3 years before: not counted
    t, said = _load(_folder(tmp_path, people, early + recent))
    assert _counts(t)["event_years_before_registration"] == (2, 14, True)
    assert any("event_years_before_registration" in m for m in said)
    t, said = _load(_folder(tmp_path / "one", people, early[: early.index("\n") + 1]))
    assert _counts(t)["event_years_before_registration"] == (1, 14, False)
    assert said == []


def test_an_age_distribution_with_many_centenarians_is_flagged(tmp_path):
    # Ages spread 0-118 as a per-person shift of birth dates would make them.
    shifted = [f"z{i},{1906 + 6 * i}-05-01,male,,," for i in range(20)]
    t, said = _load(_folder(tmp_path, shifted))
    people, alive, flagged = _counts(t)["aged_100_plus"]
    assert (people, alive, flagged) == (3, 20, False)  # fewer than 5: not judged
    more = shifted + [f"c{i},1920-0{i + 1}-01,female,,," for i in range(3)]
    t, said = _load(_folder(tmp_path / "more", more))
    assert _counts(t)["aged_100_plus"] == (6, 23, True)
    assert any("aged_100_plus: 6 of 23 people" in m for m in said)


def test_the_dead_and_the_deregistered_are_not_in_the_age_distribution(tmp_path):
    gone = [f"g{i},1915-01-01,male,2000-01-01,," for i in range(6)]
    left = [f"h{i},1915-01-01,male,,1990-01-01,2000-01-01" for i in range(6)]
    t, _ = _load(_folder(tmp_path, [*gone, *left, *PLAUSIBLE]))
    assert _counts(t)["aged_100_plus"] == (0, 10, False)
    assert _counts(t)["alive_over_110"][0] == 0


def test_without_an_extract_date_the_latest_event_is_the_reference(tmp_path):
    folder = _folder(
        tmp_path,
        ["a,1905-06-01,male,,,", *PLAUSIBLE],
        "q1,2014-01-01,2014-01-03,true\n",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        t = load_tables(folder)
    checks, reference = check_dates(t)
    assert reference == dt.date(2014, 1, 3)
    # 108 on 3 January 2014: not over 110 then, whatever the calendar says now.
    assert {c.rule: c.people for c in checks}["alive_over_110"] == 0


def test_adapters_report_the_date_checks_too(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)  # the fixture's rejects
        t = load_omop(write_csv(tmp_path / "omop", OMOP))
    assert any(n.startswith("date checks") for n in t.mapping.notes)


def test_load_tables_warns_too(tmp_path):
    with pytest.warns(DataQualityWarning, match="alive_over_110: 1 of 11 people"):
        load_tables(
            _folder(tmp_path, ["a,1900-01-01,male,,,", *PLAUSIBLE]),
            extract_date=EXTRACT,
        )
