"""Evaluation: tables, deterministic save, bounded row counts, compare."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from riskstrat.report import Evaluation, compare, evaluate
from riskstrat.report._result import TABLES


def _groups(n, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age_band": rng.choice(["65-74", "75-84", "85+"], n),
            "sex": rng.choice(["female", "male"], n),
            "deprivation_decile": rng.integers(1, 11, n),
            "locality": rng.choice(["north", "south", "east", "west"], n),
            "care_home": rng.random(n) < 0.05,
        }
    )


def test_save_writes_the_same_bytes_twice(tmp_path, simulate):
    y, p = simulate(5_000, seed=31)
    bed = np.where(y == 1, np.arange(5_000) % 9, 0)
    evs = [
        evaluate(
            y, p, groups=_groups(5_000), bed_days=bed, thresholds=[0.1], n_bootstraps=50
        )
        for _ in range(2)
    ]
    a = evs[0].save(tmp_path / "a")
    b = evs[1].save(tmp_path / "b")
    evs[0].save(tmp_path / "a")  # overwriting is fine too
    assert [f.name for f in a] == [f"{t}.csv" for t in TABLES] + ["settings.json"]
    for fa, fb in zip(a, b, strict=True):
        assert fa.read_bytes() == fb.read_bytes(), fa.name
    assert json.loads((tmp_path / "a" / "settings.json").read_text()) == {
        "confidence_level": 0.95,
        "n_bootstraps": 50,
        "random_state": 0,
    }
    back = pd.read_csv(tmp_path / "a" / "overall.csv")
    np.testing.assert_allclose(back["estimate"], evs[0].overall["estimate"], rtol=1e-9)
    assert b"\r" not in (tmp_path / "a" / "by_group.csv").read_bytes()


def test_no_table_grows_with_the_number_of_people(tmp_path, simulate):
    sizes = {}
    for n in (3_000, 30_000):
        y, p = simulate(n, seed=32)
        ev = evaluate(y, p, groups=_groups(n), bed_days=y * 3, n_bootstraps=0)
        sizes[n] = {name: len(frame) for name, frame in ev.to_frames().items()}
        ev.save(tmp_path / str(n))
        for path in (tmp_path / str(n)).glob("*.csv"):
            assert len(path.read_text().splitlines()) <= 500, path.name
            assert "patient_id" not in pd.read_csv(path, nrows=0).columns
    levels = 3 + 2 + 10 + 4 + 2
    expected = {
        "overall": 13,
        "thresholds": 6,
        "calibration": 10,
        "calibration_curve": 200,
        "net_benefit": 150,
        "distribution": 13,
        "by_group": levels,
        "thresholds_by_group": levels * 6,
    }
    for n in sizes:
        assert {k: v for k, v in sizes[n].items() if k != "roc"} == expected
        assert sizes[n]["roc"] <= 462


def test_metric_lookup_and_repr(tiny):
    ev = evaluate(tiny.y, tiny.p, groups=tiny[["sex"]], n_bootstraps=20)
    assert ev.metric("n") == 16
    with pytest.raises(
        KeyError, match="No overall metric 'c_statistic'; known metrics: n, events"
    ):
        ev.metric("c_statistic")
    text = repr(ev)
    assert text.startswith(
        "Evaluation(n=16, events=6, auroc=0.725 ["
    ) and text.endswith("groups=1)")
    with pytest.raises(AttributeError):
        ev.overall = ev.thresholds  # frozen
    frames = ev.to_frames()
    frames["overall"].loc[0, "estimate"] = -1.0
    assert ev.metric("n") == 16  # to_frames returns copies


def test_compare_puts_models_side_by_side(simulate):
    y, p = simulate(4_000, seed=33)
    bed = y * 2
    good = evaluate(y, p, bed_days=bed, n_bootstraps=20)
    noisy = evaluate(
        y,
        np.clip(p + np.random.default_rng(1).normal(0, 0.05, 4_000), 0, 1),
        bed_days=bed,
        n_bootstraps=20,
    )
    table = compare({"lightgbm": good, "noisy": noisy})
    assert table["model"].tolist() == ["lightgbm", "noisy"]
    assert table.loc[0, "auroc"] > table.loc[1, "auroc"]
    assert table["n"].dtype == np.int64 and (table["n"] == 4_000).all()
    for col in (
        "auroc_ci_low",
        "calibration_slope",
        "e_avg",
        "ppv_top_0.5pct",
        "sensitivity_top_10pct",
        "bed_day_share_top_5pct",
    ):
        assert col in table.columns
    assert (
        table.loc[0, "ppv_top_5pct"]
        == good.thresholds.set_index("value").loc[0.05, "ppv"]
    )
    no_bed = compare({"m": evaluate(y, p, n_bootstraps=0)})
    assert not any(c.startswith("bed_day_share") for c in no_bed.columns)


@pytest.mark.parametrize(
    ("arg", "error", "match"),
    [
        ({}, ValueError, "non-empty mapping"),
        ([1], ValueError, "non-empty mapping"),
        ({"m": 1}, TypeError, "'m' is a int, not an Evaluation"),
    ],
)
def test_compare_argument_errors(arg, error, match):
    with pytest.raises(error, match=match):
        compare(arg)


def test_evaluation_is_the_public_type(tiny):
    assert isinstance(evaluate(tiny.y, tiny.p, n_bootstraps=0), Evaluation)


def test_logged_tables_suppress_counts_of_one_to_four():
    y = [0, 0, 1, 0, 1, 0, 1, 1, 0, 0, 0, 0]
    p = [0.1, 0.2, 0.3, 0.35, 0.6, 0.7, 0.8, 0.9, 0.15, 0.25, 0.05, 0.4]
    groups = pd.DataFrame({"locality": ["a"] * 9 + ["b"] * 3})
    ev = evaluate(y, p, groups=groups, n_bootstraps=0)
    frames = ev.to_frames()
    for name, frame in frames.items():
        for col in ("n", "events", "n_flagged", "events_flagged"):
            if col in frame.columns:
                v = pd.to_numeric(frame[col], errors="coerce")
                assert not ((v > 0) & (v < 5)).any(), (name, col)
    overall = frames["overall"].set_index("metric")
    assert np.isnan(overall.loc["events", "estimate"])  # 4 events
    assert overall.loc["events", "note"] == "counts of 1-4 suppressed"
    assert overall.loc["n", "estimate"] == 12
    by_group = frames["by_group"].set_index("level")
    assert np.isnan(by_group.loc["b", "auroc"])  # 3 people: the whole row
    assert "suppressed" in by_group.loc["b", "note"]
    # the attributes and suppress=False keep the computed values
    assert ev.metric("events") == 4
    raw = ev.to_frames(suppress=False)["overall"].set_index("metric")
    assert raw.loc["events", "estimate"] == 4


def test_saved_tables_are_suppressed_too(tmp_path):
    ev = evaluate([0, 1, 0, 1, 1, 0], [0.1, 0.9, 0.2, 0.8, 0.7, 0.3], n_bootstraps=0)
    ev.save(tmp_path)
    calibration = pd.read_csv(tmp_path / "calibration.csv")
    assert calibration["n"].isna().all()
    assert (calibration["note"] == "counts of 1-4 suppressed").all()


def test_compare_suppresses_small_counts():
    ev = evaluate([0, 1, 0, 1, 1, 0], [0.1, 0.9, 0.2, 0.8, 0.7, 0.3], n_bootstraps=0)
    table = compare({"m": ev})
    assert pd.isna(table.loc[0, "events"]) and table.loc[0, "n"] == 6
