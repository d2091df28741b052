"""A small seeded run: synthetic tables -> features -> model -> caseloads -> alerts."""

import datetime as dt

import pyarrow.compute as pc
import pytest

from riskstrat.alerts import RunSnapshot, diff_runs
from riskstrat.features import FeatureSpec, build_cohort, build_features
from riskstrat.model import CalibratedRiskModel, RiskModel, feature_columns, score
from riskstrat.stratify import StratifySettings, caseloads
from riskstrat.synth import make_population

RUN1, RUN2 = dt.date(2022, 4, 1), dt.date(2022, 5, 1)
LOCALITIES = [
    {
        "locality": name,
        "case_managers_fte": 0.4,
        "caseload_per_fte": 50,
        "reserve_share": 0.15,
    }
    for name in (
        "West Essex",
        "North East Essex",
        "Mid Essex",
        "South West Essex",
        "South East Essex",
    )
]


@pytest.fixture(scope="module")
def run():
    pop = make_population(
        3000, start=dt.date(2019, 4, 1), end=dt.date(2023, 4, 1), random_state=0
    )
    tables = pop.tables
    train = dt.date(2021, 4, 1)
    cohort = build_cohort(tables, as_of=train).to_pandas()  # labels joined by key
    y = cohort["label_emergency_admission"].to_numpy(dtype=int)
    X = cohort[feature_columns(FeatureSpec())]
    half = len(X) // 2
    # Enough trees that scores rarely tie: a tie at the cut puts a whole block
    # of people in one tier (see docs/caseloads.md).
    base = RiskModel(
        max_trees=120, early_stopping_rounds=120, min_child_samples=20, random_state=0
    ).fit(X[:half], y[:half])
    model = CalibratedRiskModel(base).fit(X[half:], y[half:])
    settings = StratifySettings()
    out = {}
    for day in (RUN1, RUN2):
        feats = build_features(tables, as_of=day)
        scores = score(model, feats)
        out[day] = (
            feats,
            scores,
            caseloads(
                scores,
                feats,
                as_of=day,
                localities=LOCALITIES,
                tables=tables,
                settings=settings,
            ),
        )
    return tables, settings, out


def test_lists_account_for_every_eligible_person(run):
    _tables, _settings, out = run
    feats, _, lists = out[RUN1]
    eligible = pc.sum(pc.greater_equal(feats["age"], 65)).as_py()
    ids = (
        lists.caseload["patient_id"].to_pylist()
        + lists.waiting["patient_id"].to_pylist()
        + lists.excluded["patient_id"].to_pylist()
    )
    assert len(ids) == len(set(ids)) == eligible
    for cap in lists.capacity.to_pylist():
        assert cap["caseload"] <= cap["listable"] == 17  # 20 places, 3 in reserve
        assert cap["waiting"] > 0
    # the case-management tier is about 5 % of the eligible
    share = pc.sum(pc.equal(lists.tiers["tier"], "case_management")).as_py() / eligible
    assert 0.04 <= share <= 0.07


def test_a_rerun_gives_identical_tables(run):
    tables, settings, out = run
    feats, scores, lists = out[RUN1]
    again = caseloads(
        scores,
        feats,
        as_of=RUN1,
        localities=LOCALITIES,
        tables=tables,
        settings=settings,
    )
    for name in ("caseload", "waiting", "excluded", "changes", "capacity", "tiers"):
        assert getattr(again, name).equals(getattr(lists, name)), name


def test_alerts_name_real_events_of_the_person(run):
    tables, settings, out = run
    snaps = {
        day: RunSnapshot(as_of=day, scores=out[day][2].tiers, features=out[day][0])
        for day in (RUN1, RUN2)
    }
    result = diff_runs(snaps[RUN1], snaps[RUN2], tables=tables, settings=settings)
    alerts = result.alerts.to_pylist()
    assert alerts, "a month of 3,000 people has some admissions"
    adm = tables.admissions.to_pylist()
    for a in alerts:
        if a["trigger"] == "emergency_admission":
            mine = [
                x
                for x in adm
                if x["patient_id"] == a["patient_id"]
                and x["admission_date"] == a["event_date"]
            ]
            assert any(x["emergency"] for x in mine)
            assert RUN1 <= a["event_date"] < RUN2
            still = any(
                x["discharge_date"] is None or x["discharge_date"] >= RUN2
                for x in mine
                if x["emergency"]
            )
            assert (a["action"] == "assess before discharge") == still
    again = diff_runs(
        snaps[RUN1], snaps[RUN2], tables=tables, settings=settings, raised=result.keys
    )
    assert again.alerts.num_rows == 0
