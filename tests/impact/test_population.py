"""Population measures on tiny literal tables."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from _support.lists import tables
from riskstrat.impact import population_measures

d = dt.date


def _adm(pid, day, out, time=None, emergency=True):
    return {
        "patient_id": pid,
        "admission_date": day,
        "discharge_date": out,
        "emergency": emergency,
        "admission_time": time,
    }


def _tables(admissions, enrolments=()):
    return tables(
        patients=[
            {"patient_id": "a", "locality": "North"},
            {"patient_id": "b", "locality": "North", "death_date": d(2023, 1, 15)},
            {"patient_id": "c", "locality": None},
        ],
        admissions=admissions,
        enrolments=list(enrolments),
    )


def test_rates_baseline_target_los_out_of_hours_case_managed_and_cost():
    t = _tables(
        [
            _adm("a", d(2022, 1, 10), d(2022, 1, 14), dt.time(18, 0)),  # baseline
            _adm("a", d(2023, 1, 3), d(2023, 1, 5), dt.time(9, 0)),
            _adm("b", d(2023, 1, 5), d(2023, 1, 11), dt.time(7, 59)),
            _adm("c", d(2023, 1, 20), d(2023, 2, 3)),  # no time; runs into February
            _adm("a", d(2023, 1, 25), d(2023, 1, 26), emergency=False),
        ],
        enrolments=[
            {
                "patient_id": "a",
                "enrol_date": d(2023, 1, 1),
                "end_date": None,
                "locality": "North",
            }
        ],
    )
    m = population_measures(t, data_end=d(2023, 3, 1), cost_per_bed_day=300)
    m = m.set_index(["locality", "month"])
    north_jan = m.loc[("North", d(2023, 1, 1))]
    assert north_jan["em_admissions"] == 2
    assert north_jan["em_bed_days"] == 2 + 6
    assert north_jan["avg_length_of_stay"] == pytest.approx(4.0)
    assert north_jan["out_of_hours_share"] == pytest.approx(0.5)  # 07:59 is out
    assert north_jan["case_managed"] == 1  # enrolled on the 1st counts on the 1st
    assert north_jan["bed_day_cost"] == 8 * 300
    # a and b alive all January (b dies on the 15th: 15 days)
    assert north_jan["people"] == pytest.approx((31 + 15) / 31)
    assert m.loc[("North", d(2023, 2, 1)), "case_managed"] == 1
    # unknown locality is kept as its own level; no known time: unknown, not 0
    unknown_jan = m.loc[("unknown", d(2023, 1, 1))]
    assert unknown_jan["em_bed_days"] == 12  # 20-31 January
    assert pd.isna(unknown_jan["out_of_hours_share"])
    assert m.loc[("unknown", d(2023, 2, 1)), "em_bed_days"] == 2
    # baseline: the twelve months before the first enrolment (2022)
    base = m.loc[("North", d(2023, 1, 1)), "baseline_bed_days_per_1000"]
    assert base == pytest.approx(4 / (365 * 2 / 365.25) * 1000)
    target = m.loc[("North", d(2023, 1, 1)), "target_bed_days_per_1000"]
    assert target == pytest.approx(base * 0.95)
    # all localities together
    assert m.loc[("all", d(2023, 1, 1)), "em_admissions"] == 3


def test_a_source_without_enrolments_has_unknown_numbers_case_managed():
    t = tables(
        patients=[{"patient_id": "a", "locality": "North"}],
        admissions=[_adm("a", d(2022, 6, 1), d(2022, 6, 2))],
    )
    t = type(t)(**{**t.__dict__, "absent": ("enrolments",)})
    m = population_measures(t, data_end=d(2023, 1, 1))
    assert m["case_managed"].isna().all()


def test_planning_curve_runs_from_no_case_managers(
    programme_population, programme_result
):
    from riskstrat.impact import planning_curve

    c = planning_curve(programme_population.tables, programme_result)
    assert c["case_managers"].iloc[0] == 0 and c["bed_days_saved"].iloc[0] == 0
    assert (c["expected_bed_days"] >= 0).all() and c["expected_bed_days"].iloc[-1] > 0
    assert (c["saved_low"] <= c["saved_high"]).all()
    assert c["patients"].iloc[-1] == round(c["case_managers"].iloc[-1] * 50)
