"""Properties: events on or after as_of never change features; windows nest."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from _support.canonical import tables_from_rows
from riskstrat.features import build_features
from riskstrat.synth import make_population

AS_OF = dt.date(2022, 4, 1)
POP = make_population(
    400, start=dt.date(2020, 1, 1), end=dt.date(2023, 1, 1), random_state=5
)
IDS = POP.tables.patients["patient_id"].to_pylist()
BASE = build_features(POP.tables, as_of=AS_OF)
CODES = ["E86X", "W19X", "K590", "R11X", "N390", "I500", "C787", "J449", None]
DRUGS = ["0205051R0", "0212000B0", "0103050P0", "0407010H0", "0202020L0", "0501013B0"]

future_day = st.integers(0, 400).map(lambda d: AS_OF + dt.timedelta(days=d))


@st.composite
def future_events(draw):
    n_adm = draw(st.integers(0, 6))
    adm = []
    for _ in range(n_adm):
        start = draw(future_day)
        adm.append(
            {
                "patient_id": draw(st.sampled_from(IDS)),
                "admission_date": start,
                "discharge_date": draw(
                    st.one_of(
                        st.none(),
                        st.just(start + dt.timedelta(days=draw(st.integers(0, 30)))),
                    )
                ),
                "emergency": draw(st.sampled_from([True, False, None])),
                "primary_diagnosis": draw(st.sampled_from(CODES)),
                "secondary_diagnoses": [
                    c for c in draw(st.lists(st.sampled_from(CODES), max_size=3)) if c
                ],
                "admission_time": draw(
                    st.sampled_from([None, dt.time(2), dt.time(12), dt.time(19)])
                ),
            }
        )
    rx = [
        {
            "patient_id": draw(st.sampled_from(IDS)),
            "issue_date": draw(future_day),
            "drug_code": draw(st.sampled_from(DRUGS)),
            "drug_code_system": "bnf",
        }
        for _ in range(draw(st.integers(0, 6)))
    ]
    res = [
        {
            "patient_id": draw(st.sampled_from(IDS)),
            "start_date": draw(future_day),
            "residence_type": draw(
                st.sampled_from(["residential_home", "nursing_home"])
            ),
        }
        for _ in range(draw(st.integers(0, 3)))
    ]
    noms = [
        {"patient_id": draw(st.sampled_from(IDS)), "date": draw(future_day)}
        for _ in range(draw(st.integers(0, 3)))
    ]
    return {
        "admissions": adm,
        "prescriptions": rx,
        "residences": res,
        "nominations": noms,
    }


def _past(table: pa.Table, column: str) -> pa.Table:
    return table.filter(pc.less(table[column], pa.scalar(AS_OF, pa.date32())))


@settings(max_examples=25, deadline=None)
@given(
    extra=future_events(),
    drop_future=st.booleans(),
    reopen=st.booleans(),
    new_death=st.one_of(st.none(), future_day),
)
def test_events_on_or_after_as_of_never_change_features(
    extra, drop_future, reopen, new_death
):
    t = POP.tables
    cut = pa.scalar(AS_OF, pa.date32())
    admissions = t.admissions
    if reopen:  # a discharge on or after as_of is future: forget it
        future = pc.fill_null(
            pc.greater_equal(admissions["discharge_date"], cut), False
        )
        dis = pc.if_else(
            future, pa.scalar(None, pa.date32()), admissions["discharge_date"]
        )
        admissions = admissions.set_column(2, "discharge_date", dis)
    patients = t.patients
    if new_death is not None:  # deaths on or after as_of are future
        alive = pc.or_(
            pc.is_null(patients["death_date"]),
            pc.greater_equal(patients["death_date"], cut),
        )
        death = pc.if_else(
            alive, pa.scalar(new_death, pa.date32()), patients["death_date"]
        )
        patients = patients.set_column(6, "death_date", death)
    t = type(t)(
        patients=patients,
        admissions=admissions,
        prescriptions=t.prescriptions,
        residences=t.residences,
        nominations=t.nominations,
        enrolments=t.enrolments,
        absent=t.absent,
    )
    # Start from the real tables, optionally with every future event deleted,
    # then add arbitrary future events.
    base = {
        "admissions": _past(t.admissions, "admission_date")
        if drop_future
        else t.admissions,
        "prescriptions": _past(t.prescriptions, "issue_date")
        if drop_future
        else t.prescriptions,
        "residences": _past(t.residences, "start_date")
        if drop_future
        else t.residences,
        "nominations": _past(t.nominations, "date") if drop_future else t.nominations,
    }
    added = tables_from_rows(patients=[], **extra)
    merged = {name: pa.concat_tables([base[name], added[name]]) for name in base}
    # Deleting future discharges too: an open spell stays open as far as history goes.
    from riskstrat.sources import Tables

    new = Tables(
        patients=t.patients, enrolments=t.enrolments, absent=t.absent, **merged
    )
    assert build_features(new, as_of=AS_OF).equals(BASE)


def test_windows_nest():
    rows = BASE.to_pylist()
    for r in rows:
        assert (
            r["em_admissions_3m"]
            <= r["em_admissions_6m"]
            <= r["em_admissions_12m"]
            <= r["em_admissions_24m"]
        )
        assert (
            r["em_bed_days_3m"]
            <= r["em_bed_days_6m"]
            <= r["em_bed_days_12m"]
            <= r["em_bed_days_24m"]
        )
        assert (
            r["em_admissions_12m"]
            + r["elective_admissions_12m"]
            + r["unknown_urgency_admissions_12m"]
            == r["admissions_12m"]
        )
    assert any(r["em_admissions_24m"] for r in rows)


@settings(max_examples=10, deadline=None)
@given(days=st.integers(1, 700))
def test_windows_nest_at_any_date(days):
    rows = build_features(
        POP.tables, as_of=dt.date(2020, 1, 1) + dt.timedelta(days=days)
    ).to_pylist()
    for r in rows:
        assert (
            r["em_admissions_3m"]
            <= r["em_admissions_6m"]
            <= r["em_admissions_12m"]
            <= r["em_admissions_24m"]
        )
        assert (
            r["em_bed_days_3m"]
            <= r["em_bed_days_6m"]
            <= r["em_bed_days_12m"]
            <= r["em_bed_days_24m"]
        )
