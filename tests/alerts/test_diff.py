import datetime as dt
import logging

import pyarrow as pa
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from _support.lists import tables
from riskstrat.alerts import NO_PREVIOUS, RunSnapshot, diff_runs
from riskstrat.stratify import StratifySettings

D = dt.date
T0, T1, T2, T3 = D(2024, 1, 1), D(2024, 2, 1), D(2024, 3, 1), D(2024, 4, 1)
PEOPLE = ["a", "b", "c"]


def _snap(as_of, risk=None, tier=None, feats=None, runs=None):
    risk = risk or {}
    tier = tier or {}
    ids = PEOPLE
    scores = pa.table(
        {
            "patient_id": ids,
            "as_of": pa.array([as_of] * len(ids), pa.date32()),
            "risk": pa.array([risk.get(p, 0.1) for p in ids], pa.float64()),
            "tier": pa.array(
                [tier.get(p, "supported_self_care") for p in ids], pa.string()
            ),
            "locality": ["X"] * len(ids),
        }
    )
    feats = feats or {}
    features = pa.Table.from_pylist(
        [
            {
                "patient_id": p,
                "as_of": as_of,
                "drugs_90d": feats.get(p, {}).get("drugs_90d", 2),
                "rule_frail_admission": feats.get(p, {}).get(
                    "rule_frail_admission", False
                ),
                "residence_type": feats.get(p, {}).get("residence_type", "private"),
                "admissions_12m": 0,
                "em_admissions_12m": feats.get(p, {}).get("em_admissions_12m", 0),
            }
            for p in ids
        ],
        schema=pa.schema(
            [
                ("patient_id", pa.string()),
                ("as_of", pa.date32()),
                ("drugs_90d", pa.int64()),
                ("rule_frail_admission", pa.bool_()),
                ("residence_type", pa.string()),
                ("admissions_12m", pa.int64()),
                ("em_admissions_12m", pa.int64()),
            ]
        ),
    )
    return RunSnapshot(
        as_of=as_of, scores=scores, features=features, below_cut_runs=runs
    )


def _t(**rows):
    return tables(patients=[{"patient_id": p} for p in PEOPLE], **rows)


def _adm(pid, day, out=None, emergency=True):
    return {
        "patient_id": pid,
        "admission_date": day,
        "discharge_date": out,
        "emergency": emergency,
    }


def _triggers(result):
    return [
        (r["patient_id"], r["trigger"], r["event_date"])
        for r in result.alerts.to_pylist()
    ]


def test_no_previous_run_means_no_alerts_and_a_clear_notice(caplog):
    t = _t(admissions=[_adm("a", D(2024, 1, 20))])
    with caplog.at_level(logging.INFO, logger="riskstrat.alerts._diff"):
        r = diff_runs(None, _snap(T1), tables=t)
    assert r.no_previous is True
    assert r.notice == NO_PREVIOUS
    assert r.alerts.num_rows == 0 and r.step_down.num_rows == 0
    assert NO_PREVIOUS in caplog.text


def test_an_emergency_admission_still_in_hospital_says_assess_before_discharge():
    t = _t(
        admissions=[_adm("a", D(2024, 1, 20)), _adm("b", D(2024, 1, 5), D(2024, 1, 9))]
    )
    now = _snap(
        T1, feats={"a": {"em_admissions_12m": 1}, "b": {"em_admissions_12m": 1}}
    )
    r = diff_runs(_snap(T0), now, tables=t)
    rows = {
        x["patient_id"]: x
        for x in r.alerts.to_pylist()
        if x["trigger"] == "emergency_admission"
    }
    assert (rows["a"]["before"], rows["a"]["after"]) == ("0", "1")
    assert rows["a"]["action"] == "assess before discharge"
    assert "still in hospital" in rows["a"]["reason"]
    assert rows["b"]["action"] == "review after discharge"
    assert rows["a"]["key"] == "a|emergency_admission|2024-01-20"
    assert rows["a"]["previous_as_of"] == T0


def test_events_before_the_last_run_or_on_as_of_are_not_new():
    t = _t(admissions=[_adm("a", D(2023, 12, 31), D(2024, 1, 3)), _adm("b", T1)])
    assert diff_runs(_snap(T0), _snap(T1), tables=t).alerts.num_rows == 0


def test_second_and_third_admissions_in_twelve_months_of_any_kind():
    t = _t(
        admissions=[
            _adm("a", D(2023, 3, 1), D(2023, 3, 2), emergency=False),
            _adm(
                "a", D(2024, 1, 10), D(2024, 1, 12), emergency=False
            ),  # second in 12 months
            _adm("b", D(2023, 6, 1), D(2023, 6, 2)),
            _adm("b", D(2023, 9, 1), D(2023, 9, 2)),
            _adm(
                "b", D(2024, 1, 15), D(2024, 1, 16), emergency=None
            ),  # third; urgency unknown
            _adm("c", D(2022, 12, 1), D(2022, 12, 2)),  # more than 12 months before
            _adm("c", D(2024, 1, 15), D(2024, 1, 16), emergency=False),
        ]
    )
    got = _triggers(diff_runs(_snap(T0), _snap(T1), tables=t))
    assert got == [
        ("a", "second_admission_12m", D(2024, 1, 10)),
        ("b", "third_admission_12m", D(2024, 1, 15)),
    ]
    row = diff_runs(_snap(T0), _snap(T1), tables=t).alerts.to_pylist()[1]
    assert (row["before"], row["after"]) == ("2", "3")


def test_care_home_move_and_nomination():
    t = _t(
        residences=[
            {
                "patient_id": "a",
                "start_date": D(2024, 1, 10),
                "residence_type": "nursing_home",
            },
            {
                "patient_id": "b",
                "start_date": D(2024, 1, 10),
                "residence_type": "private",
            },
        ],
        nominations=[
            {"patient_id": "c", "date": D(2024, 1, 4), "reason": "carer in hospital"}
        ],
    )
    r = diff_runs(_snap(T0), _snap(T1), tables=t)
    assert _triggers(r) == [
        ("a", "care_home_move", D(2024, 1, 10)),
        ("c", "nomination", D(2024, 1, 4)),
    ]
    rows = r.alerts.to_pylist()
    assert (rows[0]["before"], rows[0]["after"]) == ("private", "nursing_home")
    assert (
        rows[1]["reason"] == "nominated by a clinician on 2024-01-04: carer in hospital"
    )


def test_crossing_five_medicines_needs_both_counts_known():
    prev = _snap(
        T0,
        feats={"a": {"drugs_90d": 4}, "b": {"drugs_90d": 5}, "c": {"drugs_90d": None}},
    )
    now = _snap(
        T1, feats={"a": {"drugs_90d": 5}, "b": {"drugs_90d": 7}, "c": {"drugs_90d": 9}}
    )
    r = diff_runs(prev, now, tables=_t())
    assert _triggers(r) == [("a", "polypharmacy", T1)]
    assert (r.alerts["before"][0].as_py(), r.alerts["after"][0].as_py()) == ("4", "5")


def test_frail_admission_needs_an_admission_and_the_rule_turning_on():
    t = _t(
        admissions=[
            _adm("a", D(2024, 1, 10), D(2024, 1, 11)),
            _adm("b", D(2024, 1, 10), D(2024, 1, 11)),
        ]
    )
    prev = _snap(T0, feats={"b": {"rule_frail_admission": True}})
    now = _snap(
        T1,
        feats={
            "a": {"rule_frail_admission": True},
            "b": {"rule_frail_admission": True},
            "c": {"rule_frail_admission": True},
        },
    )
    got = [
        x
        for x in _triggers(diff_runs(prev, now, tables=t))
        if x[1] == "frail_admission"
    ]
    assert got == [("a", "frail_admission", D(2024, 1, 10))]


def test_tier_up_and_risk_rise():
    prev = _snap(
        T0, risk={"a": 0.1, "b": 0.2, "c": 0.3}, tier={"a": "disease_management"}
    )
    now = _snap(T1, risk={"a": 0.1, "b": 0.31, "c": 0.4}, tier={"a": "case_management"})
    got = _triggers(
        diff_runs(prev, now, tables=_t(), settings=StratifySettings(risk_rise=0.1))
    )
    # b rose by 0.11 (> 0.1); c by 0.1 exactly (not more than the set amount)
    assert got == [("a", "tier_up", T1), ("b", "risk_rise", T1)]


def test_an_alert_is_raised_once_across_repeated_runs():
    t = _t(admissions=[_adm("a", D(2024, 1, 20))])  # still in hospital at T1, T2, T3
    first = diff_runs(_snap(T0), _snap(T1), tables=t)
    assert first.keys == ["a|emergency_admission|2024-01-20"]
    again = diff_runs(_snap(T0), _snap(T1), tables=t, raised=first.keys)
    assert again.alerts.num_rows == 0
    later = diff_runs(_snap(T1), _snap(T2), tables=t, raised=first.keys)
    assert later.alerts.num_rows == 0
    # a tier that stays up is not a new alert either
    up = {"a": "case_management"}
    r1 = diff_runs(_snap(T1), _snap(T2, tier=up), tables=_t())
    r2 = diff_runs(_snap(T2, tier=up), _snap(T3, tier=up), tables=_t(), raised=r1.keys)
    assert [x[1] for x in _triggers(r1)] == ["tier_up"] and r2.alerts.num_rows == 0


def test_step_down_after_three_runs_below_the_cut_once_and_never_a_discharge():
    t = _t(
        enrolments=[
            {
                "patient_id": "a",
                "enrol_date": D(2023, 1, 1),
                "end_date": None,
                "locality": "X",
            }
        ]
    )
    s = StratifySettings(step_down_runs=3)
    result = diff_runs(None, _snap(T0), tables=t, settings=s)  # run 1 below
    suggestions = []
    previous = result.current
    for day in (T1, T2, T3):
        result = diff_runs(previous, _snap(day), tables=t, settings=s)
        suggestions += result.step_down.to_pylist()
        previous = result.current
    assert [(x["patient_id"], x["as_of"]) for x in suggestions] == [("a", T2)]
    assert "not a discharge" in suggestions[0]["action"]
    # back in case management resets the count
    back = diff_runs(
        previous,
        _snap(D(2024, 5, 1), tier={"a": "case_management"}),
        tables=t,
        settings=s,
    )
    assert back.current.below_cut_runs.to_pylist() == [{"patient_id": "a", "runs": 0}]


def test_a_missing_feature_table_is_said():
    prev = RunSnapshot(as_of=T0, scores=_snap(T0).scores)
    r = diff_runs(prev, _snap(T1), tables=_t())
    assert "no polypharmacy or frailty alerts" in r.notice


@given(
    risk=st.lists(st.floats(0, 1), min_size=3, max_size=3),
    drugs=st.lists(st.one_of(st.none(), st.integers(0, 12)), min_size=3, max_size=3),
    days=st.lists(st.integers(1, 400), min_size=0, max_size=6),
)
@hsettings(max_examples=40, deadline=None)
def test_never_an_alert_for_a_person_with_no_change(risk, drugs, days):
    """Same scores, tiers and features at both runs and no event in between."""
    r = dict(zip(PEOPLE, risk, strict=True))
    f = {p: {"drugs_90d": d} for p, d in zip(PEOPLE, drugs, strict=True)}
    tiers = {
        p: ("case_management" if v > 0.5 else "disease_management")
        for p, v in r.items()
    }
    # events only before the previous run
    adm = [
        _adm(
            PEOPLE[i % 3],
            T0 - dt.timedelta(days=d),
            T0 - dt.timedelta(days=d) + dt.timedelta(days=1),
        )
        for i, d in enumerate(days)
    ]
    res = diff_runs(
        _snap(T0, r, tiers, f), _snap(T1, r, tiers, f), tables=_t(admissions=adm)
    )
    assert res.alerts.num_rows == 0
