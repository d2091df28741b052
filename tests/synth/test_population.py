from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from riskstrat.sources import CONTRACT, TABLE_NAMES, Tables
from riskstrat.synth import Programme, SyntheticPopulation, Truth, make_population


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

    out = small_pop.write(tmp_path / "pop")
    assert (out / "patients.parquet").exists()
    assert not (out / "counterfactual").exists()
    truth = Truth.from_json((out / "truth.json").read_text())
    assert truth == small_pop.truth


def test_truth_written_before_the_refit_keeps_its_mechanisms(small_pop):
    """A truth.json without the parameters decision 0021 added rebuilds the old
    generator's care homes (no care-home death term, one age slope)."""
    d = json.loads(small_pop.truth.to_json())
    del d["params"]["care_home_death_log_hr"], d["params"]["care_home_init_age_slope"]
    d["params"]["care_home_age_slope"] = 0.16
    params = Truth.from_json(json.dumps(d)).params
    assert params.care_home_death_log_hr == 0.0
    assert params.care_home_init_age_slope == 0.16
    assert Truth.from_json(small_pop.truth.to_json()) == small_pop.truth


def test_write_keeps_the_counterfactual(tmp_path):
    from riskstrat.sources import load_tables

    prog = Programme(start=dt.date(2020, 4, 1), hazard_ratio=0.6)
    pop = make_population(1_500, programme=prog, **_kw())
    out = pop.write(tmp_path / "pop")
    back = load_tables(out / "counterfactual")
    assert back.admissions.num_rows == pop.counterfactual.admissions.num_rows
    truth = Truth.from_json((out / "truth.json").read_text())
    assert truth.programme == prog


def test_programme_enrols_the_referred_with_known_effect():
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
    # Each enrolled person was referred: 2+ emergency admissions in the 365 days
    # before, or a clinician nomination in the 90 days before.
    adm = pop.tables.admissions.to_pandas()
    em = adm[adm.emergency].merge(enr, on="patient_id")
    window = (em.admission_date < em.enrol_date) & (
        em.admission_date >= em.enrol_date - pd.Timedelta(days=365)
    )
    by_rule = set(em[window].groupby("patient_id").size().loc[lambda n: n >= 2].index)
    nom = pop.tables.nominations.to_pandas().merge(enr, on="patient_id")
    recent = (nom.date <= nom.enrol_date) & (
        nom.date >= nom.enrol_date - pd.Timedelta(days=90)
    )
    by_nomination = set(nom[recent].patient_id)
    assert set(enr.patient_id) <= by_rule | by_nomination
    assert by_nomination - by_rule  # nominations refer people the rule misses


def _kw():
    return {
        "start": dt.date(2019, 4, 1),
        "end": dt.date(2022, 4, 1),
        "random_state": 6,
    }


def test_no_programme_no_counterfactual(small_pop):
    assert small_pop.counterfactual is None


def test_counterfactual_without_effect_is_the_factual_world():
    prog = Programme(start=dt.date(2020, 4, 1), hazard_ratio=1.0)
    pop = make_population(6_000, programme=prog, **_kw())
    cf = pop.counterfactual
    assert isinstance(cf, Tables)
    assert pop.tables.enrolments.num_rows > 10
    assert cf.enrolments.num_rows == 0
    # no programme, nobody screened; with it, each enrolment is an accepted
    # screening that day, and everyone else screened declined
    assert cf.screenings.num_rows == 0
    s = pop.tables.screenings.to_pandas()
    e = pop.tables.enrolments.to_pandas()
    accepted = s[s["outcome"] == "accepted"]
    assert sorted(zip(accepted["patient_id"], accepted["date"], strict=True)) == sorted(
        zip(e["patient_id"], e["enrol_date"], strict=True)
    )
    assert (s["outcome"] == "declined").sum() > 0
    assert set(s["outcome"]) <= {"accepted", "declined"}
    for name in TABLE_NAMES:
        assert cf[name].schema.equals(pop.tables[name].schema), name
        if name not in ("enrolments", "screenings"):
            assert cf[name].equals(pop.tables[name]), name
    counts = cf.counts.to_pandas().set_index("table")
    assert (counts.read == counts.accepted).all()


def _first_after(em, start, stop):
    """Day of each person's first emergency admission in [start, stop), or NaT."""
    m = em.merge(start.rename("from"), left_on="patient_id", right_index=True)
    m = m[(m.admission_date >= m["from"]) & (m.admission_date < stop)]
    return m.groupby("patient_id").admission_date.min().reindex(start.index)


def test_counterfactual_holds_the_hazard_ratio_for_each_enrolled_person():
    """HR 0.5, no spread, a 60-day delay: before the effect the two worlds agree;
    after it, each person's first emergency admission comes no earlier than in
    the counterfactual (the same random numbers), and first admissions per
    person-year at risk fall by the hazard ratio within Monte Carlo error."""
    hr, delay = 0.5, 60
    prog = Programme(
        start=dt.date(2020, 4, 1),
        hazard_ratio=hr,
        uptake=0.8,
        effect_spread=0.0,
        effect_delay_days=delay,
    )
    pop = make_population(30_000, programme=prog, **_kw())
    end = pd.Timestamp(pop.truth.end)
    enr = pop.tables.enrolments.to_pandas(date_as_object=False).set_index("patient_id")
    effect = (enr.enrol_date + pd.Timedelta(days=delay)).clip(upper=end)
    worlds = {}
    for name, tables in (("f", pop.tables), ("c", pop.counterfactual)):
        adm = tables.admissions.to_pandas(date_as_object=False)
        em = adm[adm.emergency & adm.patient_id.isin(enr.index)]
        before = em.merge(enr.enrol_date, left_on="patient_id", right_index=True)
        before = before[
            before.admission_date < before.enrol_date + pd.Timedelta(days=delay)
        ]
        pat = tables.patients.to_pandas(date_as_object=False)
        pat = pat.set_index("patient_id").loc[enr.index]
        stop = pat.death_date.fillna(end).clip(upper=end)
        stop = stop.where(pat.deregistration_date.isna(), pat.deregistration_date)
        first = _first_after(em, effect, end)
        until = first.fillna(stop)
        years = ((until - effect).dt.days.clip(lower=0)).sum() / 365.25
        # Dates and stays are simulated; codes and times are assembly's
        # decoration, redrawn for the enrolled in the counterfactual.
        spells = ["patient_id", "admission_date", "discharge_date"]
        worlds[name] = (
            before[spells].reset_index(drop=True),
            first,
            first.notna().sum(),
            years,
        )
    pd.testing.assert_frame_equal(worlds["f"][0], worlds["c"][0])
    first_f, first_c = worlds["f"][1], worlds["c"][1]
    both = first_f.notna()
    assert first_c[both].notna().all()
    assert (first_f[both] >= first_c[both]).all()
    (_, _, n_f, y_f), (_, _, n_c, y_c) = worlds["f"], worlds["c"]
    assert n_c >= 100, n_c
    ratio = (n_f / y_f) / (n_c / y_c)
    se = np.sqrt(1 / n_f + 1 / n_c)  # conservative: the worlds are coupled
    assert abs(np.log(ratio / hr)) < 3 * se, (ratio, n_f, n_c)


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
