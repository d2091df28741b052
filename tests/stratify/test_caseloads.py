import datetime as dt

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from _support.lists import features, scores, tables
from riskstrat.stratify import StratifySettings, caseloads

D = dt.date
AS_OF = D(2024, 1, 1)


def _loc(listable, locality="X"):
    # 1 FTE at `listable` per FTE with no reserve gives exactly `listable` places
    return [
        {
            "locality": locality,
            "case_managers_fte": 1,
            "caseload_per_fte": listable,
            "reserve_share": 0,
        }
    ]


def _run(risk, feats, listable=20, **kwargs):
    settings = kwargs.pop(
        "settings",
        StratifySettings(case_management_cut=0.0, disease_management_cut=0.0),
    )
    return caseloads(
        scores(AS_OF, risk),
        features(AS_OF, feats),
        as_of=AS_OF,
        localities=kwargs.pop("localities", _loc(listable)),
        settings=settings,
        **kwargs,
    )


def _ids(table):
    return table["patient_id"].to_pylist()


def _many(n):
    """n people p00.., risk falling with the number (p00 highest)."""
    risk = {f"p{i:02d}": round(0.9 - i * 0.01, 2) for i in range(n)}
    return risk, [{"patient_id": p} for p in risk]


def test_fills_places_in_risk_order_and_the_rest_wait_in_the_same_order():
    risk, feats = _many(25)
    c = _run(risk, feats, listable=20)
    assert _ids(c.caseload) == [f"p{i:02d}" for i in range(20)]
    assert c.caseload["position"].to_pylist() == list(range(1, 21))
    assert set(c.caseload["status"].to_pylist()) == {"new"}
    assert _ids(c.waiting) == [f"p{i:02d}" for i in range(20, 25)]
    assert c.waiting["position"].to_pylist() == [1, 2, 3, 4, 5]
    assert c.excluded.num_rows == 0
    cap = c.capacity.to_pylist()[0]
    assert (cap["eligible"], cap["caseload"], cap["waiting"], cap["free_places"]) == (
        25,
        20,
        5,
        0,
    )
    assert c.caseload["reasons"].null_count == 20  # the explain stage fills it


def test_the_reserve_is_kept_free():
    risk, feats = _many(30)
    loc = [
        {
            "locality": "X",
            "case_managers_fte": 1,
            "caseload_per_fte": 20,
            "reserve_share": 0.25,
        }
    ]
    c = _run(risk, feats, localities=loc)
    assert c.caseload.num_rows == 15  # 20 places, 5 in reserve
    assert c.waiting.num_rows == 15


def _enrolled(*ids, locality="X"):
    return [
        {
            "patient_id": p,
            "enrol_date": D(2023, 1, 1),
            "end_date": None,
            "locality": locality,
        }
        for p in ids
    ]


def test_enrolled_people_keep_their_place_and_count_first():
    risk, feats = _many(25)
    t = tables(
        patients=[{"patient_id": p} for p in risk], enrolments=_enrolled("p24", "p23")
    )
    c = _run(risk, feats, listable=20, tables=t)
    on = dict(zip(_ids(c.caseload), c.caseload["status"].to_pylist(), strict=True))
    assert on["p24"] == on["p23"] == "continuing"
    assert sum(s == "new" for s in on.values()) == 18
    assert _ids(c.waiting)[0] == "p18"  # a higher-risk newcomer waits; nobody displaced


def test_a_newcomer_never_displaces_the_enrolled_even_over_capacity():
    risk, feats = _many(6)
    t = tables(
        patients=[{"patient_id": p} for p in risk],
        enrolments=_enrolled("p03", "p04", "p05"),
    )
    loc = [
        {
            "locality": "X",
            "case_managers_fte": 0.1,
            "caseload_per_fte": 20,
            "reserve_share": 0,
        }
    ]
    c = _run(risk, feats, localities=loc, tables=t)  # 2 places, 3 enrolled
    assert sorted(_ids(c.caseload)) == ["p03", "p04", "p05"]
    assert _ids(c.waiting) == ["p00", "p01", "p02"]
    cap = c.capacity.to_pylist()[0]
    assert (cap["listable"], cap["continuing"], cap["new"], cap["reserve_used"]) == (
        2,
        3,
        0,
        1,
    )


def test_under_65s_are_not_eligible_unless_enrolled():
    risk = {"old": 0.2, "young": 0.9, "young_enrolled": 0.1}
    feats = [
        {"patient_id": "old"},
        {"patient_id": "young", "age": 64},
        {"patient_id": "young_enrolled", "age": 50},
    ]
    t = tables(
        patients=[{"patient_id": p} for p in risk],
        enrolments=_enrolled("young_enrolled"),
    )
    c = _run(risk, feats, tables=t)
    assert sorted(_ids(c.caseload)) == ["old", "young_enrolled"]
    assert "young" not in _ids(c.tiers)


def test_exclusion_reasons():
    risk = {"a": 0.5, "b": None, "c": 0.4, "d": 0.3, "e": 0.01, "f": 0.6}
    feats = [
        {"patient_id": "a"},
        {"patient_id": "b"},
        {"patient_id": "c", "locality": None},
        {"patient_id": "d", "locality": "Nowhere"},
        {"patient_id": "e"},
        {"patient_id": "f"},
    ]
    t = tables(
        patients=[{"patient_id": p} for p in risk],
        screenings=[{"patient_id": "f", "date": D(2023, 12, 1), "outcome": "declined"}],
    )
    s = StratifySettings(case_management_cut=0.5, disease_management_cut=0.2)
    c = _run(risk, feats, tables=t, settings=s)
    reasons = dict(zip(_ids(c.excluded), c.excluded["reason"].to_pylist(), strict=True))
    assert reasons == {
        "b": "no_score",
        "c": "no_locality",
        "d": "locality_not_in_file",
        "e": "not_a_candidate",
        "f": "paused_after_screening",
    }
    row = c.excluded.filter(
        pa.compute.equal(c.excluded["patient_id"], "f")
    ).to_pylist()[0]
    assert row["since"] == D(2023, 12, 1)
    assert "declined at screening on 2023-12-01" in row["detail"]
    assert _ids(c.caseload) == ["a"]


def test_a_seed_rule_makes_a_low_risk_person_a_candidate():
    risk = {"a": 0.9, "b": 0.01, "c": 0.02}
    feats = [
        {"patient_id": "a"},
        {"patient_id": "b", "rule_care_home": True},
        {"patient_id": "c"},
    ]
    c = _run(risk, feats, settings=StratifySettings(case_management_cut=0.9))
    assert _ids(c.caseload) == ["a", "b"]
    assert c.caseload["rules_met"].to_pylist() == [[], ["rule_care_home"]]


def test_rules_priority_reproduces_the_seed_order_ties_by_risk():
    risk = {
        "nom": 0.9,
        "poly": 0.8,
        "frail": 0.1,
        "two_lo": 0.2,
        "two_hi": 0.3,
        "none": 0.95,
    }
    feats = [
        {"patient_id": "nom", "rule_nomination": True},
        {"patient_id": "poly", "rule_polypharmacy": True},
        {"patient_id": "frail", "rule_frail_admission": True, "rule_nomination": True},
        {"patient_id": "two_lo", "rule_two_admissions": True},
        {"patient_id": "two_hi", "rule_two_admissions": True},
        {"patient_id": "none"},
    ]
    s = StratifySettings(
        priority="rules",
        nominations_first=False,
        case_management_cut=0.0,
        disease_management_cut=0.0,
    )
    c = _run(risk, feats, settings=s)
    assert _ids(c.caseload) == ["frail", "two_hi", "two_lo", "poly", "nom", "none"]


def test_nominations_go_first_unless_configured_otherwise():
    risk = {"a": 0.9, "b": 0.8, "nom": 0.1}
    feats = [
        {"patient_id": "a"},
        {"patient_id": "b"},
        {"patient_id": "nom", "rule_nomination": True},
    ]
    assert _ids(_run(risk, feats).caseload) == ["nom", "a", "b"]
    s = StratifySettings(
        nominations_first=False, case_management_cut=0.0, disease_management_cut=0.0
    )
    assert _ids(_run(risk, feats, settings=s).caseload) == ["a", "b", "nom"]


def test_expected_bed_days_priority():
    risk = {"a": 0.9, "b": 0.5, "c": 0.5, "d": 0.4}
    bed = {"a": 2.0, "b": 30.0, "c": 30.0, "d": None}
    s = StratifySettings(
        priority="expected_bed_days",
        case_management_cut=0.0,
        disease_management_cut=0.0,
    )
    c = caseloads(
        scores(AS_OF, risk, expected_bed_days=bed),
        features(AS_OF, [{"patient_id": p} for p in risk]),
        as_of=AS_OF,
        localities=_loc(20),
        settings=s,
    )
    assert _ids(c.caseload) == ["b", "c", "a"]
    assert c.excluded.to_pylist()[0]["reason"] == "no_expected_bed_days"
    with pytest.raises(ValueError, match="no expected_bed_days column"):
        caseloads(
            scores(AS_OF, risk),
            features(AS_OF, [{"patient_id": "a"}]),
            as_of=AS_OF,
            localities=_loc(20),
            settings=s,
        )


def test_positions_are_per_locality():
    risk = {"x1": 0.9, "y1": 0.8, "x2": 0.7, "y2": 0.6}
    feats = [{"patient_id": p, "locality": p[0].upper()} for p in risk]
    c = _run(risk, feats, localities=_loc(20, "X") + _loc(20, "Y"))
    rows = [
        (r["locality"], r["position"], r["patient_id"]) for r in c.caseload.to_pylist()
    ]
    assert rows == [("X", 1, "x1"), ("X", 2, "x2"), ("Y", 1, "y1"), ("Y", 2, "y2")]
    assert _ids(c.for_locality("Y").caseload) == ["y1", "y2"]


def test_keys_are_joined_not_aligned_by_position():
    risk = {"a": 0.1, "b": 0.9}
    s = scores(AS_OF, risk)
    reversed_scores = s.take([1, 0])
    c = _run(risk, [{"patient_id": "a"}, {"patient_id": "b"}])
    c2 = caseloads(
        reversed_scores,
        features(AS_OF, [{"patient_id": "a"}, {"patient_id": "b"}]),
        as_of=AS_OF,
        localities=_loc(20),
        settings=StratifySettings(case_management_cut=0.0, disease_management_cut=0.0),
    )
    assert _ids(c.caseload) == _ids(c2.caseload) == ["b", "a"]


def test_wrong_as_of_and_duplicate_keys_are_clear_errors():
    risk = {"a": 0.1}
    with pytest.raises(
        ValueError, match="scores table has no rows for as_of 2024-02-01"
    ):
        caseloads(
            scores(AS_OF, risk),
            features(D(2024, 2, 1), [{"patient_id": "a"}]),
            as_of=D(2024, 2, 1),
            localities=_loc(20),
        )
    twice = pa.concat_tables([scores(AS_OF, risk), scores(AS_OF, risk)])
    with pytest.raises(ValueError, match="more than one row"):
        caseloads(
            twice,
            features(AS_OF, [{"patient_id": "a"}]),
            as_of=AS_OF,
            localities=_loc(20),
        )


def test_leavers_get_a_line_saying_why_and_when():
    risk = {"alive": 0.9, "dead": 0.8, "gone": 0.7, "mover": 0.6, "enrolled_dead": 0.5}
    pats = [
        {"patient_id": "alive"},
        {"patient_id": "dead", "death_date": D(2024, 1, 10)},
        {"patient_id": "gone", "deregistration_date": D(2024, 1, 15)},
        {"patient_id": "mover"},
        {"patient_id": "enrolled_dead", "death_date": D(2024, 1, 20)},
    ]
    t = tables(patients=pats, enrolments=_enrolled("enrolled_dead"))
    first = _run(
        risk,
        [{"patient_id": p} for p in risk],
        tables=t,
        localities=_loc(20, "X") + _loc(20, "Y"),
    )
    later = D(2024, 2, 1)
    second = caseloads(
        scores(later, {"alive": 0.9, "mover": 0.6}),
        features(
            later, [{"patient_id": "alive"}, {"patient_id": "mover", "locality": "Y"}]
        ),
        as_of=later,
        localities=_loc(20, "X") + _loc(20, "Y"),
        tables=t,
        settings=StratifySettings(case_management_cut=0.0, disease_management_cut=0.0),
        previous=first,
    )
    got = {
        r["patient_id"]: (r["change"], r["reason"], r["date"], r["new_locality"])
        for r in second.changes.to_pylist()
    }
    assert got == {
        "dead": ("left", "died", D(2024, 1, 10), None),
        "gone": ("left", "deregistered", D(2024, 1, 15), None),
        "mover": ("moved_locality", "moved_locality", None, "Y"),
        "enrolled_dead": ("left", "died", D(2024, 1, 20), None),
    }
    assert first.changes.num_rows == 0


def test_the_same_inputs_give_identical_tables():
    risk, feats = _many(25)
    a, b = _run(risk, feats), _run(risk, feats)
    for name in ("caseload", "waiting", "excluded", "changes", "capacity", "tiers"):
        assert getattr(a, name).equals(getattr(b, name)), name


# --- property test -----------------------------------------------------------


@st.composite
def _populations(draw):
    n = draw(st.integers(0, 40))
    localities = ["A", "B", "C"]
    people = []
    for i in range(n):
        people.append(
            {
                "patient_id": f"p{i:02d}",
                "age": draw(st.integers(50, 100)),
                "locality": draw(st.sampled_from([*localities, None, "Z"])),
                "risk": draw(st.one_of(st.none(), st.floats(0, 1))),
                "rule": draw(st.booleans()),
                "enrolled": draw(st.booleans()),
                "declined": draw(st.booleans()),
            }
        )
    locs = [
        {
            "locality": loc,
            "case_managers_fte": draw(st.sampled_from([0, 0.1, 0.2, 0.5])),
            "caseload_per_fte": draw(st.integers(20, 100)),
            "reserve_share": draw(st.sampled_from([0, 0.1, 0.15, 0.5])),
        }
        for loc in localities
    ]
    s = StratifySettings(
        case_management_cut=draw(st.sampled_from([0.0, 0.5, 0.95])),
        disease_management_cut=0.0,
        priority=draw(st.sampled_from(["risk", "rules"])),
        nominations_first=draw(st.booleans()),
    )
    return people, locs, s


@given(_populations())
@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_caseloads_fit_capacity_keep_reserve_and_continuity_and_lose_nobody(data):
    people, locs, s = data
    feats = features(
        AS_OF,
        [
            {
                "patient_id": p["patient_id"],
                "age": p["age"],
                "locality": p["locality"],
                "rule_two_admissions": p["rule"],
            }
            for p in people
        ],
    )
    t = tables(
        patients=[{"patient_id": p["patient_id"]} for p in people],
        enrolments=[
            e for p in people if p["enrolled"] for e in _enrolled(p["patient_id"])
        ],
        screenings=[
            {
                "patient_id": p["patient_id"],
                "date": D(2023, 12, 1),
                "outcome": "declined",
            }
            for p in people
            if p["declined"]
        ],
    )
    c = caseloads(
        scores(AS_OF, {p["patient_id"]: p["risk"] for p in people}),
        feats,
        as_of=AS_OF,
        localities=locs,
        tables=t,
        settings=s,
    )

    eligible = {p["patient_id"] for p in people if p["age"] >= 65 or p["enrolled"]}
    on, wait, out = _ids(c.caseload), _ids(c.waiting), _ids(c.excluded)
    # nobody twice, nobody dropped
    assert len(on) + len(wait) + len(out) == len(eligible)
    assert set(on) | set(wait) | set(out) == eligible
    assert sorted(_ids(c.tiers)) == sorted(eligible)
    # continuity: every enrolled eligible person is on the caseload, as continuing
    enrolled = {p["patient_id"] for p in people if p["enrolled"]}
    status = dict(zip(on, c.caseload["status"].to_pylist(), strict=True))
    assert {p for p, v in status.items() if v == "continuing"} == enrolled
    for cap in c.capacity.to_pylist():
        # newcomers only into free listable places: the reserve is never filled by them
        assert cap["new"] <= max(0, cap["listable"] - cap["continuing"])
        assert cap["caseload"] <= max(cap["listable"], cap["continuing"])
        assert cap["listable"] + cap["reserve"] == cap["capacity"]
        assert cap["reserve"] >= cap["capacity"] * cap["reserve_share"] - 1e-9
        # places are not left empty while someone waits
        if cap["waiting"]:
            assert cap["caseload"] >= cap["listable"]
        assert cap["eligible"] == cap["caseload"] + cap["waiting"] + cap["excluded"]
    # a waiting person never outranks a newcomer of the same locality
    for loc in {r["locality"] for r in c.waiting.to_pylist()}:
        new = [
            r["risk"]
            for r in c.caseload.to_pylist()
            if r["locality"] == loc and r["status"] == "new"
        ]
        waiting = c.waiting.filter(pa.compute.equal(c.waiting["locality"], loc))
        if new and s.priority == "risk" and not s.nominations_first:
            assert min(new) >= max(waiting["risk"].to_pylist())
        assert waiting["position"].to_pylist() == list(range(1, waiting.num_rows + 1))


def test_rules_priority_is_read_from_the_rule_columns_themselves():
    risk = {"poly": 0.9, "frail": 0.1}
    feats = features(
        AS_OF,
        [
            {"patient_id": "poly", "rule_polypharmacy": True},
            {"patient_id": "frail", "rule_frail_admission": True},
        ],
    )
    feats = feats.drop_columns(["essex_priority", "essex_eligible"])
    s = StratifySettings(
        priority="rules", case_management_cut=0.0, disease_management_cut=0.0
    )
    c = caseloads(
        scores(AS_OF, risk), feats, as_of=AS_OF, localities=_loc(20), settings=s
    )
    assert _ids(c.caseload) == ["frail", "poly"]
    assert c.caseload["essex_priority"].to_pylist() == [1, 4]
