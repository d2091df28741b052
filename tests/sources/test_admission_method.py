"""Admission method decides emergency; unknown methods are rejected, not guessed."""

from __future__ import annotations

import pytest

from _support.canonical import PATIENTS, load_quietly, write_folder
from riskstrat.exceptions import SchemaError
from riskstrat.sources._admission_method import CDS_ADMISSION_METHODS, method_group


@pytest.mark.parametrize(
    ("code", "group"),
    [
        ("11", "elective"),
        ("13", "elective"),
        ("21", "emergency"),
        ("22", "emergency"),  # GP direct: an emergency with no A&E visit
        ("2B", "emergency"),
        ("2d", "emergency"),
        ("31", "maternity"),
        ("81", "other"),
        ("99", "unknown"),
        (" Emergency ", "emergency"),
        ("waiting list", "elective"),
        ("19", None),
        ("ae", None),
    ],
)
def test_method_groups(code, group):
    import pyarrow as pa

    assert method_group(pa.array([code])).to_pylist() == [group]


def test_every_cds_code_has_a_group():
    assert set(CDS_ADMISSION_METHODS.values()) == {
        "elective",
        "emergency",
        "maternity",
        "other",
        "unknown",
    }


def test_the_method_decides_emergency_and_an_unknown_method_is_rejected(tmp_path):
    # Without an emergency column: the method alone decides; 99 is unknown.
    adm = (
        "patient_id,admission_date,admission_method\n"
        "p1,2021-01-10,22\n"  # GP-direct emergency, no A&E
        "p1,2021-02-10,12\n"
        "p1,2021-03-10,31\n"
        "p1,2021-04-10,99\n"
        "p1,2021-05-10,\n"
        "p1,2021-06-10,45\n"
    )
    folder = write_folder(tmp_path / "d", {"patients": PATIENTS, "admissions": adm})
    # No discharge dates: every stay is open and would hold the later ones.
    t = load_quietly(folder, join_spells=False)
    got = [(r["admission_method"], r["emergency"]) for r in t.admissions.to_pylist()]
    assert got == [
        ("22", True),
        ("12", False),
        ("31", False),
        ("99", None),
        (None, None),
    ]
    rej = t.rejects.to_pylist()
    assert [(r["row"], r["column"], r["rule"], r["value"]) for r in rej] == [
        (6, "admission_method", "not_allowed", "45")
    ]


def test_a_known_method_overrides_the_emergency_column(tmp_path):
    adm = (
        "patient_id,admission_date,emergency,admission_method\n"
        "p1,2021-01-10,false,21\n"
        "p1,2021-02-10,true,99\n"
        "p1,2021-03-10,,\n"
    )
    folder = write_folder(tmp_path / "d", {"patients": PATIENTS, "admissions": adm})
    t = load_quietly(folder, join_spells=False)  # open stays, kept apart
    assert t.admissions["emergency"].to_pylist() == [True, True, None]


def test_neither_emergency_nor_method_is_a_schema_error(tmp_path):
    adm = "patient_id,admission_date\np1,2021-01-10\n"
    folder = write_folder(tmp_path / "d", {"patients": PATIENTS, "admissions": adm})
    with pytest.raises(SchemaError, match="emergency"):
        load_quietly(folder)
