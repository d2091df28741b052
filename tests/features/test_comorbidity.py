"""Charlson and Elixhauser from ICD-10 (Quan 2005): known codes in and out, score."""

from __future__ import annotations

import datetime as dt

import pytest

from _support.canonical import tables_from_rows
from riskstrat.features import CHARLSON, ELIXHAUSER, build_features, expand_codes

AS_OF = dt.date(2022, 4, 1)


def _codes(*codes, when=dt.date(2021, 1, 1)):
    t = tables_from_rows(
        patients=[
            {"patient_id": "p", "birth_date": dt.date(1950, 1, 1), "sex": "male"}
        ],
        admissions=[
            {
                "patient_id": "p",
                "admission_date": when,
                "discharge_date": when,
                "emergency": True,
                "primary_diagnosis": codes[0],
                "secondary_diagnoses": list(codes[1:]),
            }
        ],
    )
    return build_features(t, as_of=AS_OF).to_pylist()[0]


def test_lists_have_the_published_conditions():
    assert len(CHARLSON) == 17 and len(ELIXHAUSER) == 31
    assert CHARLSON["metastatic_solid_tumour"] == 6
    assert CHARLSON["diabetes_with_complication"] == 2


@pytest.mark.parametrize(
    ("code", "charlson", "elixhauser"),
    [
        ("I500", "congestive_heart_failure", "congestive_heart_failure"),
        ("I214", "myocardial_infarction", None),
        ("I252", "myocardial_infarction", None),
        ("J449", "chronic_pulmonary_disease", "chronic_pulmonary_disease"),
        ("F03X", "dementia", None),
        ("G309", "dementia", None),
        ("N184", "renal_disease", "renal_failure"),
        ("I639", "cerebrovascular_disease", None),
        ("E119", "diabetes_without_complication", "diabetes_uncomplicated"),
        ("E112", "diabetes_with_complication", "diabetes_complicated"),
        ("C349", "any_malignancy", "solid_tumour_without_metastasis"),
        ("C787", "metastatic_solid_tumour", "metastatic_cancer"),
        ("I10X", None, "hypertension_uncomplicated"),
        ("I489", None, "cardiac_arrhythmias"),
        ("F329", None, "depression"),
        ("E86X", None, "fluid_and_electrolyte_disorders"),
    ],
)
def test_known_codes_map_to_their_conditions(code, charlson, elixhauser):
    f = _codes("R074", code)
    cci = {c for c in CHARLSON if f[f"cci_{c}"]}
    elix = {c for c in ELIXHAUSER if f[f"elix_{c}"]}
    assert cci == ({charlson} if charlson else set())
    assert elix == ({elixhauser} if elixhauser else set())


@pytest.mark.parametrize("code", ["R074", "I20", "J18", "K358", "E12", "C44", "Z00"])
def test_codes_outside_the_lists(code):
    f = _codes(code)
    assert f["cci_score"] == 0 and f["elix_count"] == 0


def test_charlson_score_with_hierarchy():
    # CHF 1 + metastatic 6 (any malignancy not added) + complicated diabetes 2
    # (uncomplicated not added) = 9
    f = _codes("I500", "C349", "C787", "E119", "E112")
    assert f["cci_any_malignancy"] and f["cci_metastatic_solid_tumour"]
    assert f["cci_score"] == 1 + 6 + 2
    assert f["elix_count"] == 5


def test_lookback_is_730_days():
    assert _codes("I500", when=dt.date(2020, 4, 1))["cci_congestive_heart_failure"]
    assert not _codes("I500", when=dt.date(2020, 3, 31))["cci_congestive_heart_failure"]
    assert not _codes("I500", when=AS_OF)["cci_congestive_heart_failure"]


def test_expand_codes_rejects_bad_ranges():
    assert expand_codes("F00-F03") == ["F00", "F01", "F02", "F03"]
    with pytest.raises(ValueError, match="bad code range"):
        expand_codes("F00-G03")


# One representative ICD-10 code per condition, written out by hand from Quan et
# al. 2005 (Med Care 43:1130, table 1), with every condition each code belongs to.
KNOWN = {
    "I219": ({"myocardial_infarction"}, set()),
    "I500": ({"congestive_heart_failure"}, {"congestive_heart_failure"}),
    "I739": ({"peripheral_vascular_disease"}, {"peripheral_vascular_disorders"}),
    "G459": ({"cerebrovascular_disease"}, set()),
    "F019": ({"dementia"}, set()),
    "J449": ({"chronic_pulmonary_disease"}, {"chronic_pulmonary_disease"}),
    "M069": ({"rheumatic_disease"}, {"rheumatoid_arthritis_collagen_vascular"}),
    "K259": (
        {"peptic_ulcer_disease"},
        {"peptic_ulcer_disease_excluding_bleeding"},
    ),
    "B182": ({"mild_liver_disease"}, {"liver_disease"}),
    "E119": ({"diabetes_without_complication"}, {"diabetes_uncomplicated"}),
    "E112": ({"diabetes_with_complication"}, {"diabetes_complicated"}),
    "G819": ({"hemiplegia_or_paraplegia"}, {"paralysis"}),
    "N185": ({"renal_disease"}, {"renal_failure"}),
    "C189": ({"any_malignancy"}, {"solid_tumour_without_metastasis"}),
    "K721": ({"moderate_or_severe_liver_disease"}, {"liver_disease"}),
    "C787": ({"metastatic_solid_tumour"}, {"metastatic_cancer"}),
    "B24X": ({"aids_hiv"}, {"aids_hiv"}),
    "I489": (set(), {"cardiac_arrhythmias"}),
    "I350": (set(), {"valvular_disease"}),
    "I269": (set(), {"pulmonary_circulation_disorders"}),
    "I10X": (set(), {"hypertension_uncomplicated"}),
    "I129": (set(), {"hypertension_complicated"}),
    "G20X": (set(), {"other_neurological_disorders"}),
    "E039": (set(), {"hypothyroidism"}),
    "C819": ({"any_malignancy"}, {"lymphoma"}),
    "D689": (set(), {"coagulopathy"}),
    "E669": (set(), {"obesity"}),
    "E43X": (set(), {"weight_loss"}),
    "E871": (set(), {"fluid_and_electrolyte_disorders"}),
    "D500": (set(), {"blood_loss_anaemia"}),
    "D519": (set(), {"deficiency_anaemia"}),
    "F102": (set(), {"alcohol_abuse"}),
    "F112": (set(), {"drug_abuse"}),
    "F209": (set(), {"psychoses"}),
    "F329": (set(), {"depression"}),
}


def test_every_condition_has_a_hand_checked_code():
    assert set().union(*(c for c, _ in KNOWN.values())) == set(CHARLSON)
    assert set().union(*(e for _, e in KNOWN.values())) == set(ELIXHAUSER)


@pytest.mark.parametrize("code", sorted(KNOWN))
def test_each_condition_from_its_code(code):
    charlson, elixhauser = KNOWN[code]
    f = _codes(code)
    assert {c for c in CHARLSON if f[f"cci_{c}"]} == charlson
    assert {c for c in ELIXHAUSER if f[f"elix_{c}"]} == elixhauser
    assert f["elix_count"] == len(elixhauser)
    assert f["cci_score"] == sum(CHARLSON[c] for c in charlson)
