"""The truth: true risk is consistent with the events the generator draws, and the
population looks like an NHS registered list (seeded realism checks)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from _support.realism import realism
from riskstrat.synth import make_population

AS_OF = dt.date(2022, 4, 1)


@pytest.fixture(scope="module", params=[0, 1, 2], ids=lambda s: f"seed{s}")
def figures(request):
    pop = make_population(15_000, random_state=request.param)
    return realism(pop, AS_OF, n_paths=12, keep_cohort=True)


def test_adult_emergency_risk_is_nhs_like(figures):
    assert 0.05 <= figures["adult_risk"] <= 0.12
    assert figures["risk_85plus"] >= 3 * figures["risk_18_64"]
    assert figures["risk_85plus"] >= 0.2


def test_care_home_share_of_65_plus(figures):
    assert 0.015 <= figures["care_home_share_65plus"] <= 0.05


def test_top_5_percent_hold_a_quarter_of_bed_days(figures):
    assert figures["top5_bed_day_share"] >= 0.25


def test_regression_to_the_mean_without_programme(figures):
    assert figures["rtm_n"] >= 30
    assert figures["rtm_change"] <= -0.40


def test_oracle_auroc_in_range(figures):
    assert 0.75 <= figures["oracle_auroc"] <= 0.88


def test_mean_true_risk_matches_observed_rate(figures):
    p, n = figures["observed_rate"], figures["n_cohort"]
    se = np.sqrt(p * (1 - p) / n)
    assert abs(figures["mean_true_risk"] - p) < 3.5 * se + 0.002


def test_true_risk_calibrated_by_decile(figures):
    """Within each decile of true risk the observed rate matches the mean true risk.

    About 10,000 people a seed, each seed on its own (they were two other
    populations of 12,000 pooled: the same check, without building them).
    """
    c = figures["cohort"]
    dec = np.minimum((c.true_risk.rank(pct=True) * 10).astype(int), 9)
    obs = c.y.groupby(dec).sum().reindex(range(10), fill_value=0).to_numpy()
    exp_ = c.true_risk.groupby(dec).sum().reindex(range(10), fill_value=0).to_numpy()
    cnt = dec.value_counts().reindex(range(10), fill_value=0).to_numpy()
    se = np.sqrt(np.maximum(exp_ * (1 - exp_ / cnt), 1))
    z = (obs - exp_) / se
    assert np.all(np.abs(z) < 3.5), (obs, exp_)
    # The top decile is an order of magnitude riskier than the bottom.
    assert exp_[9] / cnt[9] > 8 * exp_[0] / cnt[0]


def test_true_risk_is_deterministic_and_bounded(small_pop):
    a = small_pop.truth.true_risk(dt.date(2022, 6, 1), n_paths=4)
    b = small_pop.truth.true_risk(dt.date(2022, 6, 1), n_paths=4)
    assert a.equals(b)
    r = a["true_risk"].to_numpy()
    assert ((r >= 0) & (r <= 1)).all()
    ids = a["patient_id"].to_pylist()
    assert ids == sorted(ids)


def test_true_risk_rejects_bad_dates(small_pop):
    with pytest.raises(ValueError, match=r"on or after the population's start"):
        small_pop.truth.true_risk(dt.date(2000, 1, 1))
    with pytest.raises(TypeError, match=r"datetime\.date"):
        small_pop.truth.true_risk("2022-01-01")


def test_true_risk_for_chosen_people_with_two_halves(small_pop):
    as_of = dt.date(2022, 6, 1)
    everyone = small_pop.truth.true_risk(as_of, n_paths=2)
    chosen = everyone["patient_id"].to_pylist()[::7][::-1]  # any order in
    t = small_pop.truth.true_risk(as_of, n_paths=2, patient_ids=chosen, halves=True)
    assert t["patient_id"].to_pylist() == sorted(chosen)
    r, h1, h2 = (t[c].to_numpy() for c in t.column_names[1:])
    assert t.column_names[1:] == ["true_risk", "true_risk_half_1", "true_risk_half_2"]
    # 1 - risk is the mean survival over paths: the halves average to the whole.
    np.testing.assert_allclose(1 - r, ((1 - h1) + (1 - h2)) / 2, atol=1e-12)
    assert (h1 != h2).any()  # independent paths
    # Fewer people draw other paths but estimate the same risks.
    same = everyone.to_pandas().set_index("patient_id").loc[sorted(chosen)]
    assert abs(same["true_risk"].mean() - r.mean()) < 0.01


def test_true_risk_refuses_people_it_cannot_judge(small_pop):
    as_of = dt.date(2022, 6, 1)
    with pytest.raises(ValueError, match="not people of this population"):
        # an id too long for the population's width is not cut down to a real one
        small_pop.truth.true_risk(as_of, n_paths=2, patient_ids=["p00000011"])
    pat = small_pop.tables.patients.to_pandas()
    dead = pat[pat.death_date.notna() & (pat.death_date < as_of)].patient_id
    with pytest.raises(ValueError, match="not alive and registered on 2022-06-01"):
        small_pop.truth.true_risk(as_of, n_paths=2, patient_ids=dead.tolist()[:3])
    with pytest.raises(ValueError, match="even `n_paths`"):
        small_pop.truth.true_risk(as_of, n_paths=3, halves=True)
