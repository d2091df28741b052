"""Seeded end-to-end: reasons on a synthetic population agree with the features.

The counts a reason cites are read from the canonical tables by
``riskstrat.explain``; the features are built by the SQL engine. The two are
written apart, so agreement checks that each sentence names the person's real
events (and that nothing on or after ``as_of`` slipped in).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskstrat.explain import reasons
from riskstrat.features import build_features, make_labels
from riskstrat.model import RiskModel
from riskstrat.synth import make_population

AS_OF = dt.date(2023, 4, 1)
WINDOWS = {"3 months": "3m", "6 months": "6m", "12 months": "12m", "24 months": "24m"}


@pytest.fixture(scope="module")
def population():
    tables = make_population(3_000, random_state=0).tables
    feats = build_features(tables, as_of=AS_OF)
    labels = make_labels(tables, as_of=AS_OF).to_pandas().set_index("patient_id")
    y = labels.reindex(feats["patient_id"].to_pylist())["emergency_admission"]
    X = feats.drop_columns(["patient_id", "as_of"]).to_pandas()
    model = RiskModel(
        max_trees=100,
        early_stopping_rounds=20,
        min_child_samples=50,
        random_state=0,
        n_jobs=1,
    ).fit(X, y.astype(int).to_numpy())
    risk = model.predict_proba(X)[:, 1]
    top = np.lexsort((np.arange(risk.size), -risk))[:300]
    ids = [feats["patient_id"][int(i)].as_py() for i in top]
    return tables, feats, model, ids


def test_cited_counts_match_the_features(population):
    tables, feats, model, ids = population
    r = reasons(model, feats, tables, as_of=AS_OF, patient_ids=ids, top=8)
    assert set(r["patient_id"].to_pylist()) <= set(ids)
    f = {row["patient_id"]: row for row in feats.to_pylist()}
    checked = 0
    for row in r.to_pylist():
        x, text, group = f[row["patient_id"]], row["text"], row["reason_group"]
        if m := re.search(
            r"(\d+) emergency admissions? in the last (\d+ months)", text
        ):
            assert int(m[1]) == x[f"em_admissions_{WINDOWS[m[2]]}"] > 0
            checked += 1
        if m := re.search(
            r"(\d+) different medicines? in the last 90 days \((\d+) items?", text
        ):
            assert int(m[1]) == x["drugs_90d"]
            assert int(m[2]) == x["prescription_items_90d"]
            checked += 1
        if m := re.search(r"(\d+) hospital admissions? of any kind", text):
            assert int(m[1]) == x["admissions_12m"]
            checked += 1
        if group == "residence":
            assert x["care_home"] is True
        if group == "in_hospital":
            assert x["in_hospital"] is True
        if group == "frailty":
            assert x["frail_any_12m"] is True
        if row["source"] == "rule":
            assert row["rank"] == 1
            assert x["essex_priority"] is not None or x["nominated_12m"] is True
    assert checked >= 50  # the check has teeth on this population


future_event = st.tuples(
    st.integers(0, 2_999),
    st.integers(0, 400),
    st.sampled_from(["admission", "nomination", "residence", "prescription"]),
)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(events=st.lists(future_event, min_size=1, max_size=30))
def test_events_on_or_after_as_of_never_change_reasons(population, events):
    tables, feats, model, ids = population
    pid = [f"p{i:07d}" for i, _, _ in events]
    day = [AS_OF + dt.timedelta(days=d) for _, d, _ in events]
    kind = [k for _, _, k in events]

    def rows(name):
        return [(p, d) for p, d, k in zip(pid, day, kind, strict=True) if k == name]

    def extend(table, extra):
        return pa.concat_tables([table, extra.cast(table.schema)])

    adm = rows("admission")
    new = dataclasses.replace(
        tables,
        admissions=extend(
            tables.admissions,
            pa.table(
                {
                    "patient_id": [p for p, _ in adm],
                    "admission_date": [d for _, d in adm],
                    "discharge_date": [None] * len(adm),
                    "emergency": [True] * len(adm),
                    "primary_diagnosis": ["W01"] * len(adm),
                    "secondary_diagnoses": [[]] * len(adm),
                    "admission_time": [None] * len(adm),
                    "admission_method": [None] * len(adm),
                    "diagnosis_code_system": ["icd10"] * len(adm),
                }
            ),
        ),
        prescriptions=extend(
            tables.prescriptions,
            pa.table(
                {
                    "patient_id": [p for p, _ in rows("prescription")],
                    "issue_date": [d for _, d in rows("prescription")],
                    "drug_code": ["0407010H0"] * len(rows("prescription")),
                    "drug_code_system": ["bnf"] * len(rows("prescription")),
                    "drug_name": [None] * len(rows("prescription")),
                }
            ),
        ),
        residences=extend(
            tables.residences,
            pa.table(
                {
                    "patient_id": [p for p, _ in rows("residence")],
                    "start_date": [d for _, d in rows("residence")],
                    "end_date": [None] * len(rows("residence")),
                    "residence_type": ["nursing_home"] * len(rows("residence")),
                }
            ),
        ),
        nominations=extend(
            tables.nominations,
            pa.table(
                {
                    "patient_id": [p for p, _ in rows("nomination")],
                    "date": [d for _, d in rows("nomination")],
                    "reason": ["later"] * len(rows("nomination")),
                }
            ),
        ),
    )
    before = reasons(model, feats, tables, as_of=AS_OF, patient_ids=ids[:60])
    after = reasons(model, feats, new, as_of=AS_OF, patient_ids=ids[:60])
    assert before.equals(after)
