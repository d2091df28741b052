"""OMOP urgency evidence, diagnosis shapes, and unknown staying unknown end to end."""

from __future__ import annotations

import datetime as dt
import warnings

import pyarrow.compute as pc

from _support.omop import write_csv
from riskstrat.exceptions import DataQualityWarning
from riskstrat.features import build_features, make_labels
from riskstrat.sources import load_omop

PERSON = """person_id,gender_concept_id,year_of_birth,month_of_birth,day_of_birth
1,8532,1940,5,17
2,8507,1950,6,1
3,8507,1945,1,1
"""
OBSERVATION_PERIOD = """observation_period_id,person_id,observation_period_start_date,observation_period_end_date
1,1,2000-01-01,2023-01-01
2,2,2000-01-01,2023-01-01
3,3,2000-01-01,2023-01-01
"""
VISITS = """visit_occurrence_id,person_id,visit_concept_id,visit_start_date,visit_end_date,visit_source_value,admitted_from_source_value
1,1,9203,2021-03-01,2021-03-05,,
2,1,9201,2021-03-02,2021-03-04,,
3,1,9201,2021-04-01,2021-04-03,Emergency admission,
4,1,9201,2021-05-01,2021-05-03,ENC-0042,
5,1,9201,2021-06-01,2021-06-03,,Elective
6,2,9201,2022-06-01,2022-06-03,,
7,2,9203,2021-07-09,2021-07-09,,
8,2,9201,2021-07-10,2021-07-12,,
"""
# 1 ER visit running past the admission day of 2: not "ended on the admission day
# or the day before", so 2 is not made emergency by it; 3 emergency in words;
# 4 an encounter id (no evidence); 5 elective in words; 6 unknown, in the label
# window; 7 ER visit ending the day before 8: after_er_visit.


def _load(folder, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return load_omop(folder, **kw)


def _urgency(t):
    rows = [r for r in t.mapping.mapped.to_pylist() if r["aspect"] == "urgency"]
    return {r["rule"]: r["rows"] for r in rows}


def test_source_values_in_words_and_a_bounded_er_window(tmp_path):
    t = _load(
        write_csv(
            tmp_path / "o",
            {
                "person": PERSON,
                "observation_period": OBSERVATION_PERIOD,
                "visit_occurrence": VISITS,
            },
        )
    )
    got = {
        (r["patient_id"], r["admission_date"].isoformat()): r["emergency"]
        for r in t.admissions.to_pylist()
    }
    assert got == {
        ("1", "2021-03-02"): None,  # ER visit ended after the admission day
        ("1", "2021-04-01"): True,
        ("1", "2021-05-01"): None,
        ("1", "2021-06-01"): False,
        ("2", "2022-06-01"): None,
        ("2", "2021-07-10"): True,
    }
    assert _urgency(t) == {
        "emergency_source_value": 1,
        "elective_source_value": 1,
        "after_er_visit": 1,
        "urgency_unknown": 3,
    }


def test_five_character_codes_without_a_dot_are_not_icd10(tmp_path):
    cond = """condition_occurrence_id,person_id,condition_concept_id,condition_start_date,visit_occurrence_id,condition_source_value
1,1,0,2021-04-01,3,C10E7
2,1,0,2021-04-01,3,G3011
3,1,0,2021-04-01,3,G30.1
4,1,0,2021-04-01,3,I10X
"""
    t = _load(
        write_csv(
            tmp_path / "o",
            {
                "person": PERSON,
                "visit_occurrence": VISITS,
                "condition_occurrence": cond,
            },
        )
    )
    (adm,) = [r for r in t.admissions.to_pylist() if r["emergency"] is True][:1]
    codes = {adm["primary_diagnosis"], *adm["secondary_diagnoses"]} - {None}
    assert codes == {"G301", "I10X"}
    assert adm["diagnosis_code_system"] == "icd10"
    unmapped = {
        r["reason"]: r["rows"]
        for r in t.mapping.unmapped.to_pylist()
        if r["source_table"] == "condition_occurrence"
    }
    assert unmapped == {"no_icd10": 2}


def test_unknown_urgency_and_no_conditions_give_null_features_and_labels(tmp_path):
    # Every admission of unknown urgency, no condition_occurrence, no death
    # table: emergency features and labels, comorbidities and death are unknown
    # for everyone (null), not 0 / false.
    visits = """visit_occurrence_id,person_id,visit_concept_id,visit_start_date,visit_end_date
1,1,9201,2021-03-02,2021-03-04
2,2,9201,2022-06-01,2022-06-03
"""
    t = _load(
        write_csv(
            tmp_path / "o",
            {
                "person": PERSON,
                "observation_period": OBSERVATION_PERIOD,
                "visit_occurrence": visits,
            },
        ),
        extract_date=dt.date(2023, 6, 1),
    )
    nc = set(t.mapping.not_computable)
    assert {"emergency_admissions", "comorbidities", "death"} <= nc
    as_of = dt.date(2022, 1, 1)
    x = build_features(t, as_of=as_of)
    assert x.num_rows == 3
    for name in ("em_admissions_12m", "cci_score", "elix_count", "frail_any_12m"):
        assert x[name].null_count == 3, name
    assert x["admissions_12m"].to_pylist() == [1, 0, 0]
    y = make_labels(t, as_of=as_of)
    for name in ("emergency_admission", "emergency_bed_days", "death", "composite"):
        assert y[name].null_count == 3, name
    assert pc.count(y["emergency_admission"]).as_py() == 0


def test_contiguous_visits_are_one_spell_with_the_er_diagnoses(tmp_path):
    # Person 1: ER visit 1 the day before ward visit 2, transferred the day it
    # ended to ICU visit 3 (visit 3 starts on visit 2's discharge day); visit 4
    # starts a day after visit 3 ends: a new spell. The ER visit's diagnosis
    # attaches to the spell it led to.
    visits = """visit_occurrence_id,person_id,visit_concept_id,visit_start_date,visit_end_date
1,1,9203,2021-03-01,2021-03-01
2,1,9201,2021-03-02,2021-03-05
3,1,9201,2021-03-05,2021-03-09
4,1,9201,2021-03-10,2021-03-11
"""
    cond = """condition_occurrence_id,person_id,condition_concept_id,condition_start_date,visit_occurrence_id,condition_source_value,condition_status_concept_id
1,1,0,2021-03-01,1,W19,
2,1,0,2021-03-02,2,I50.0,32902
3,1,0,2021-03-06,3,J18.9,
4,1,0,2021-03-10,4,N39.0,
"""
    files = {"person": PERSON, "visit_occurrence": visits, "condition_occurrence": cond}
    t = _load(write_csv(tmp_path / "o", files))
    got = [
        (
            r["admission_date"].isoformat(),
            r["discharge_date"].isoformat(),
            r["emergency"],
            r["primary_diagnosis"],
            r["secondary_diagnoses"],
        )
        for r in t.admissions.to_pylist()
    ]
    assert got == [
        ("2021-03-02", "2021-03-09", True, "I500", ["J189", "W19"]),
        ("2021-03-10", "2021-03-11", None, None, ["N390"]),
    ]
    mapped = {(r["aspect"], r["rule"]): r["rows"] for r in t.mapping.mapped.to_pylist()}
    assert mapped[("spell", "first_stay_of_spell")] == 2
    assert mapped[("spell", "joined_into_spell")] == 1
    assert mapped[("visit", "from_er_visit")] == 1
    x = build_features(t, as_of=dt.date(2021, 6, 1)).to_pylist()[0]
    assert x["admissions_12m"] == 2 and x["frail_fall_12m"] is True

    off = _load(write_csv(tmp_path / "p", files), join_spells=False)
    assert off.admissions.num_rows == 3
    assert {
        r["rule"] for r in off.mapping.mapped.to_pylist() if r["aspect"] == "spell"
    } == {"stay_not_joined"}


def test_long_exposures_repeat_and_administrations_are_not_prescriptions(tmp_path):
    from _support.omop import CONCEPT

    drugs = """drug_exposure_id,person_id,drug_concept_id,drug_exposure_start_date,drug_exposure_end_date,days_supply,drug_type_concept_id
1,1,1112807,2021-01-01,2021-03-31,,38000177
2,1,1112807,2021-05-01,,28,38000177
3,1,1112807,2021-06-01,2021-06-02,,38000180
4,1,1112807,2021-07-01,,,32818
5,1,1112807,2021-08-01,,56,38000177
6,1,1112807,2021-12-01,2022-12-31,,38000177
"""
    # 1: 89 days -> issues on day 0, 28, 56, 84; 2: 28 days -> one; 3, 4: given
    # in hospital -> unmapped; 5: 56 days supply -> day 0 and 28; 6: runs past
    # the extract date 2022-01-15 -> day 0 and 28 (2021-12-29) only.
    files = {"person": PERSON, "visit_occurrence": VISITS, "drug_exposure": drugs}
    files["concept"] = CONCEPT
    t = _load(write_csv(tmp_path / "o", files), extract_date=dt.date(2022, 1, 15))
    got = [r["issue_date"].isoformat() for r in t.prescriptions.to_pylist()]
    assert got == [
        "2021-01-01",
        "2021-01-29",
        "2021-02-26",
        "2021-03-26",
        "2021-05-01",
        "2021-08-01",
        "2021-08-29",
        "2021-12-01",
        "2021-12-29",
    ]
    unmapped = {
        r["reason"]: r["rows"]
        for r in t.mapping.unmapped.to_pylist()
        if r["source_table"] == "drug_exposure"
    }
    assert unmapped == {"administration_not_prescription": 2}
    issues = {
        r["rule"]: r["rows"]
        for r in t.mapping.mapped.to_pylist()
        if r["aspect"] == "issues"
    }
    assert issues == {"one_issue": 1, "repeat_issues": 3}
    longer = _load(
        write_csv(tmp_path / "p", files),
        extract_date=dt.date(2022, 1, 15),
        drug_issue_days=90,
    )
    assert longer.prescriptions.num_rows == 4
