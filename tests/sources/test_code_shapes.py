"""Code systems are declared and checked against their shape; never defaulted."""

from __future__ import annotations

import pyarrow as pa
import pytest

from _support.canonical import PATIENTS, load_quietly, write_folder
from riskstrat.exceptions import SchemaError
from riskstrat.sources._code_shapes import (
    DIAGNOSIS_SHAPES,
    DRUG_SHAPES,
    infer_system,
    wrong_shape,
)

ADM = "patient_id,admission_date,emergency,primary_diagnosis,secondary_diagnoses"


def _load(tmp_path, adm=None, rx=None, **kw):
    files = {"patients": PATIENTS, "admissions": adm or f"{ADM}\np1,2021-01-10,1,,\n"}
    if rx is not None:
        files["prescriptions"] = rx
    return load_quietly(write_folder(tmp_path / "d", files), **kw)


@pytest.mark.parametrize(
    ("code", "system", "fits"),
    [
        ("K590", "icd10", True),
        ("I10X", "icd10", True),
        ("C10E7", "icd10", False),  # Read: oropharyngeal cancer if read as ICD-10
        ("C10E7", "read", True),
        ("4280", "icd10", False),  # ICD-9 heart failure
        ("4280", "icd9", True),
        ("E870", "icd9", True),
        ("22298006", "snomed", True),
        ("K590", "snomed", False),
    ],
)
def test_diagnosis_shapes(code, system, fits):
    bad = wrong_shape(pa.array([code]), pa.array([system]), DIAGNOSIS_SHAPES)
    assert bad.tolist() == [not fits]


@pytest.mark.parametrize(
    ("codes", "system"),
    [
        (["0205051R0", "0212000B0AAABAB"], "bnf"),
        (["C09AA05", "A10BA02"], "atc"),
        (["1191", "197361"], "rxnorm"),
        (["00021433580"], None),  # NDC: no system's shape
        (["317896006", "1191"], None),  # dm+d and RxNorm mixed
    ],
)
def test_drug_system_inferred_only_when_one_fits(codes, system):
    assert infer_system(pa.array(codes), DRUG_SHAPES) == system


def test_icd9_and_read_codes_declared_as_icd10_are_rejected(tmp_path):
    adm = (
        f"{ADM},diagnosis_code_system\n"
        "p1,2021-01-10,1,E86.0,,icd10\n"
        "p1,2021-02-10,1,C10E7,,icd10\n"  # Read code declared ICD-10
        "p1,2021-03-10,1,K59.0,428.0,icd10\n"  # an ICD-9 secondary
        "p1,2021-04-10,1,E870,,icd9\n"  # ICD-9 fluid disorder: kept, as ICD-9
        "p1,2021-05-10,1,C10E7,,read\n"
    )
    t = _load(tmp_path, adm, join_spells=False)  # open stays, kept apart
    rej = [(r["row"], r["column"], r["rule"]) for r in t.rejects.to_pylist()]
    assert rej == [
        (2, "primary_diagnosis", "unparseable"),
        (3, "secondary_diagnoses", "unparseable"),
    ]
    assert "diagnosis_code_system" in t.rejects["message"][0].as_py()
    assert t.admissions["diagnosis_code_system"].to_pylist() == [
        "icd10",
        "icd9",
        "read",
    ]


def test_undeclared_diagnoses_are_icd10_and_misfits_rejected(tmp_path, caplog):
    adm = f"{ADM}\np1,2021-01-10,1,E86,I10X|K59.0\np1,2021-02-10,1,E86,428.0\n"
    t = _load(tmp_path / "a", adm)
    assert t.admissions["diagnosis_code_system"].to_pylist() == ["icd10"]
    rej = [(r["row"], r["column"], r["rule"]) for r in t.rejects.to_pylist()]
    assert rej == [(2, "secondary_diagnoses", "unparseable")]
    assert "declare the system" in caplog.text


def test_prescriptions_without_a_system_are_not_taken_as_bnf(tmp_path):
    rx = "patient_id,issue_date,drug_code\np1,2021-02-01,00021433580\n"
    with pytest.raises(SchemaError, match="drug_code_system"):
        _load(tmp_path / "a", rx=rx)
    bnf = "patient_id,issue_date,drug_code\np1,2021-02-01,0205051R0\n"
    t = _load(tmp_path / "b", rx=bnf)
    assert t.prescriptions["drug_code_system"].to_pylist() == ["bnf"]
    t = _load(tmp_path / "c", rx=rx, drug_code_system="dmd")
    assert [r["rule"] for r in t.rejects.to_pylist()] == ["unparseable"]


def test_ndc_codes_declared_bnf_are_rejected(tmp_path):
    rx = (
        "patient_id,issue_date,drug_code,drug_code_system\n"
        "p1,2021-02-01,0205051R0,bnf\n"
        "p1,2021-02-02,00021433580,bnf\n"
    )
    t = _load(tmp_path, rx=rx)
    assert t.prescriptions.num_rows == 1
    (r,) = t.rejects.to_pylist()
    assert (r["row"], r["column"], r["rule"]) == (2, "drug_code", "unparseable")


def test_features_use_icd10_only(tmp_path):
    import datetime as dt

    from riskstrat.features import build_features

    adm = (
        f"{ADM},diagnosis_code_system\n"
        "p1,2021-01-10,1,E870,,icd9\n"  # ICD-9: must not switch on fluid disorders
        "p1,2021-02-10,1,E860,,icd9\n"  # ICD-9: must not be dehydration
        "p1,2021-03-10,1,I10X,,icd10\n"
    )
    t = _load(tmp_path, adm, join_spells=False)  # open stays, kept apart
    (x,) = [
        r
        for r in build_features(t, as_of=dt.date(2021, 6, 1)).to_pylist()
        if r["patient_id"] == "p1"
    ]
    assert x["elix_fluid_and_electrolyte_disorders"] is False
    assert x["frail_dehydration_12m"] is False
    assert x["elix_hypertension_uncomplicated"] is True
