"""Unknown stays unknown: feature groups a source cannot support are null."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from _support.canonical import tables_from_rows
from riskstrat.features import build_features, make_labels
from riskstrat.features._prepare import unknown_groups
from riskstrat.sources._mapping import (
    TABLES_SCHEMA,
    MappingReport,
    assess_features,
    with_report,
)

D = dt.date
AS_OF = D(2022, 4, 1)


def _tables(emergency=None, primary=None, **kw):
    """p1 with one admission; p2 with none (and no diagnosis anywhere)."""
    return tables_from_rows(
        patients=[
            {"patient_id": "p1", "birth_date": D(1940, 1, 1), "sex": "female"},
            {"patient_id": "p2", "birth_date": D(1940, 1, 1), "sex": "male"},
        ],
        admissions=[
            {
                "patient_id": "p1",
                "admission_date": D(2022, 1, 10),
                "discharge_date": D(2022, 1, 12),
                "emergency": emergency,
                "primary_diagnosis": primary,
            },
            {
                "patient_id": "p1",
                "admission_date": D(2022, 6, 10),
                "discharge_date": D(2022, 6, 12),
                "emergency": emergency,
                "primary_diagnosis": primary,
            },
        ],
        extract_date=D(2023, 6, 1),
        **kw,
    )


def _rows(t):
    return {r["patient_id"]: r for r in build_features(t, as_of=AS_OF).to_pylist()}


def test_all_urgency_unknown_gives_null_emergency_features_for_everyone():
    x = _rows(_tables(emergency=None, primary="I500"))
    for pid in ("p1", "p2"):  # p2 has no admission, yet cannot be told 0
        assert x[pid]["em_admissions_12m"] is None
        assert x[pid]["em_bed_days_24m"] is None
        assert x[pid]["elective_admissions_12m"] is None
        assert x[pid]["days_since_last_em_admission"] is None
    assert x["p1"]["admissions_12m"] == 1
    assert x["p1"]["unknown_urgency_admissions_12m"] == 1
    assert x["p2"]["admissions_12m"] == 0  # any-urgency counts stay known


def test_no_diagnosis_at_all_gives_null_comorbidity_and_frailty():
    x = _rows(_tables(emergency=True, primary=None))
    for pid in ("p1", "p2"):
        assert x[pid]["cci_score"] is None and x[pid]["elix_count"] is None
        assert x[pid]["cci_congestive_heart_failure"] is None
        assert x[pid]["frail_any_12m"] is None and x[pid]["frail_fall_12m"] is None
    assert x["p1"]["em_admissions_12m"] == 1  # known urgency: still counted


def test_diagnoses_present_give_zero_where_there_were_none():
    x = _rows(_tables(emergency=True, primary="I500"))
    assert x["p1"]["cci_congestive_heart_failure"] is True
    assert x["p1"]["cci_score"] == 1
    assert x["p2"]["cci_score"] == 0 and x["p2"]["frail_any_12m"] is False


def test_the_mapping_report_decides_for_source_tables():
    # Diagnoses and urgency known, but the adapter says no death table: the
    # death label is unknown (not false) and composite is unknown unless an
    # emergency admission makes it true.
    t = _tables(emergency=True, primary="I500")
    report = MappingReport(
        source="omop",
        tables=TABLES_SCHEMA.empty_table(),
        features=assess_features(t, {"death": ("not_computable", "no death table")}),
    )
    st = with_report(t, report)
    assert unknown_groups(st) >= {"death"}
    y = {r["patient_id"]: r for r in make_labels(st, as_of=AS_OF).to_pylist()}
    assert y["p1"]["death"] is None and y["p1"]["composite"] is True
    assert y["p2"]["death"] is None and y["p2"]["composite"] is None
    assert make_labels(t, as_of=AS_OF)["death"].null_count == 0


def test_bnf_chapters_null_when_no_code_is_bnf():
    t = _tables(
        emergency=True,
        primary="I500",
        prescriptions=[
            {
                "patient_id": "p1",
                "issue_date": D(2022, 3, 1),
                "drug_code": "197361",
                "drug_code_system": "rxnorm",
            }
        ],
    )
    x = _rows(t)
    assert x["p1"]["drugs_90d"] == 1 and x["p2"]["drugs_90d"] == 0
    assert x["p1"]["bnf_chapters_90d"] is None and x["p2"]["bnf_ch01_90d"] is None


def test_unknown_groups_of_plain_tables_come_from_the_tables():
    assert "emergency_admissions" in unknown_groups(_tables(emergency=None))
    assert "emergency_admissions" not in unknown_groups(_tables(emergency=True))
    assert isinstance(build_features(_tables(), as_of=AS_OF), pa.Table)
