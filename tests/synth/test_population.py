from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from riskstrat.sources import CONTRACT, TABLE_NAMES, Tables
from riskstrat.synth import Programme, SyntheticPopulation, make_population


def test_returns_canonical_tables_and_truth(small_pop):
    assert isinstance(small_pop, SyntheticPopulation)
    assert isinstance(small_pop.tables, Tables)
    for name in TABLE_NAMES:
        assert small_pop.tables[name].schema.equals(CONTRACT[name].arrow_schema())
    counts = small_pop.tables.counts.to_pandas().set_index("table")
    assert (counts.read == counts.accepted + counts.rejected).all()
    assert counts.loc["patients", "read"] == small_pop.tables.patients.num_rows
    assert small_pop.tables.extract_date == dt.date(2024, 1, 1)
    assert small_pop.tables.rejects.num_rows == 0


def test_same_seed_gives_identical_tables_other_seed_differs():
    kw = {"start": dt.date(2022, 1, 1), "end": dt.date(2023, 1, 1)}
    a = make_population(500, random_state=3, **kw)
    b = make_population(500, random_state=3, **kw)
    c = make_population(500, random_state=4, **kw)
    for name in TABLE_NAMES:
        assert a.tables[name].equals(b.tables[name]), name
    assert not a.tables.admissions.equals(c.tables.admissions)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_patients": 0}, "n_patients.*>= 1. Got 0"),
        ({"start": "2020-01-01"}, "`start` parameter .* datetime.date"),
        ({"end": dt.date(2018, 1, 1)}, "must be after `start`"),
        (
            {"programme": Programme(start=dt.date(2030, 1, 1))},
            "programme's start .* must be within",
        ),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    args = {"n_patients": 10, **kwargs}
    with pytest.raises((ValueError, TypeError), match=match):
        make_population(**args)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"hazard_ratio": 0}, "hazard_ratio"),
        ({"uptake": 1.5}, "uptake"),
        ({"review_every_days": 0}, "review_every_days"),
        ({"rule": "anyone"}, "rule"),
    ],
)
def test_programme_validates(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Programme(start=dt.date(2020, 1, 1), **kwargs)


def _frames(pop):
    t = pop.tables
    return (
        t.patients.to_pandas().set_index("patient_id"),
        t.admissions.to_pandas(),
        t.prescriptions.to_pandas(),
    )


def test_events_respect_life_registration_and_time(small_pop):
    pat, adm, rx = _frames(small_pop)
    end = small_pop.truth.end
    assert pat.index.is_unique
    a = adm.join(pat, on="patient_id")
    assert a.patient_id.isin(pat.index).all()
    assert (a.admission_date < end).all()
    closed = a.discharge_date.notna()
    assert (a.discharge_date[closed] >= a.admission_date[closed]).all()
    assert (a.discharge_date[closed] < end).all()
    died = a.death_date.notna()
    assert (a.admission_date[died] <= a.death_date[died]).all()
    assert (a.discharge_date[died & closed] <= a.death_date[died & closed]).all()
    assert (a.admission_date >= a.registration_date).all()
    # Spells of a person never overlap.
    a = a.sort_values(["patient_id", "admission_date"])
    prev_disch = a.groupby("patient_id").discharge_date.shift()
    has_prev = prev_disch.notna()
    assert (a.admission_date[has_prev] > prev_disch[has_prev]).all()
    r = rx.join(pat, on="patient_id")
    died = r.death_date.notna()
    assert (r.issue_date[died] < r.death_date[died]).all()
    assert (r.issue_date >= r.registration_date).all()
    assert (r.drug_code_system == "bnf").all()


def test_diagnoses_include_the_seed_frail_elderly_codes(small_pop):
    adm = small_pop.tables.admissions
    em = adm.filter(pc.field("emergency"))
    primary = set(em["primary_diagnosis"].to_pylist())
    secondary = set(pc.list_flatten(em["secondary_diagnoses"]).to_pylist())
    for code in ("E86X", "K590", "R11X", "N390"):
        assert code in primary, code
    assert any(c[0] == "W" and 0 <= int(c[1:3]) <= 19 for c in secondary)
    assert not any("." in c for c in primary | secondary)
    # Charlson-relevant comorbidities are recorded as secondary diagnoses.
    assert {"I500", "J449"} & secondary
    elective = adm.filter(pc.invert(pc.field("emergency")))
    assert elective.num_rows > 0


def test_same_day_and_open_spells_occur(small_pop):
    adm = small_pop.tables.admissions.to_pandas()
    closed = adm[adm.discharge_date.notna()]
    bed_days = [
        (d - a).days
        for a, d in zip(closed.admission_date, closed.discharge_date, strict=True)
    ]
    assert (np.array(bed_days) == 0).mean() > 0.1
    assert adm.discharge_date.isna().sum() >= 1


def test_write_round_trips_truth(tmp_path, small_pop):
    from riskstrat.synth import Truth

    out = small_pop.write(tmp_path / "pop")
    assert (out / "patients.parquet").exists()
    truth = Truth.from_json((out / "truth.json").read_text())
    assert truth == small_pop.truth


def test_programme_enrols_by_rule_with_known_effect():
    prog = Programme(start=dt.date(2021, 4, 1), hazard_ratio=0.7, uptake=0.5)
    pop = make_population(
        8_000,
        start=dt.date(2020, 1, 1),
        end=dt.date(2023, 1, 1),
        random_state=5,
        programme=prog,
    )
    assert pop.truth.true_effect == 0.7
    enr = pop.tables.enrolments.to_pandas()
    assert len(enr) > 20
    assert (enr.enrol_date >= prog.start).all()
    pat = pop.tables.patients.to_pandas().set_index("patient_id")
    age = [
        (e - b).days / 365.25
        for e, b in zip(
            enr.enrol_date, pat.loc[enr.patient_id, "birth_date"], strict=True
        )
    ]
    assert min(age) >= 65
    # Each enrolled person had 2+ emergency admissions in the 365 days before.
    adm = pop.tables.admissions.to_pandas()
    em = adm[adm.emergency].merge(enr, on="patient_id")
    window = (em.admission_date < em.enrol_date) & (
        em.admission_date >= em.enrol_date - pd.Timedelta(days=365)
    )
    assert (em[window].groupby("patient_id").size() >= 2).all()
    assert em[window].patient_id.nunique() == len(enr)


def test_programme_effect_shows_in_enrolled_admission_rates():
    """Rate of emergency admissions while enrolled, HR 0.5 vs HR 1.0 (same seed)."""

    def rate(hr: float) -> float:
        prog = Programme(start=dt.date(2020, 7, 1), hazard_ratio=hr, uptake=1.0)
        pop = make_population(
            25_000,
            start=dt.date(2019, 7, 1),
            end=dt.date(2022, 7, 1),
            random_state=2,
            programme=prog,
        )
        end = pop.truth.end
        enr = pop.tables.enrolments.to_pandas()
        stop = enr.end_date.fillna(end)
        years = (
            sum((s - e).days for e, s in zip(enr.enrol_date, stop, strict=True))
            / 365.25
        )
        adm = pop.tables.admissions.to_pandas()
        em = adm[adm.emergency].merge(enr, on="patient_id")
        during = (em.admission_date >= em.enrol_date) & (
            em.end_date.isna() | (em.admission_date <= em.end_date)
        )
        return during.sum() / years

    ratio = rate(0.5) / rate(1.0)
    assert 0.35 < ratio < 0.75, ratio


def test_table_one_locality_mix(small_pop):
    loc = small_pop.tables.patients["locality"].value_counts().to_pylist()
    shares = {d["values"]: d["counts"] for d in loc}
    total = sum(shares.values())
    assert set(shares) == {
        "West Essex",
        "North East Essex",
        "Mid Essex",
        "South West Essex",
        "South East Essex",
    }
    # South West Essex has the largest weighted capitation (24.3 %).
    assert max(shares, key=shares.get) == "South West Essex"
    assert 0.2 < shares["South West Essex"] / total < 0.29


def test_ids_are_pseudonymous_strings(small_pop):
    ids = small_pop.tables.patients["patient_id"]
    assert ids.type == pa.string()
    assert all(s.startswith("p") for s in ids.to_pylist()[:20])
