from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from riskstrat.model import LogisticBaseline, OracleScorer, RulesScorer


def test_rules_scorer_learns_rates_per_priority_and_ranks_eligible_first():
    X = pd.DataFrame({"essex_priority": [1, 1, 1, 1, 2, 2, 5, None, None, None]})
    y = [1, 1, 1, 0, 1, 0, 0, 0, 0, 1]
    s = RulesScorer(smoothing=0).fit(X, y)
    assert s.rates_ == {0: 1 / 3, 1: 0.75, 2: 0.5, 5: 0.0}
    new = pd.DataFrame({"essex_priority": [3, 1, None]})
    p = s.predict_proba(new)[:, 1]
    assert p[0] == pytest.approx(s.overall_rate_)  # unseen level -> overall rate
    assert p[1] == 0.75
    assert s.predict(new).tolist() == [1, 1, 0]


def test_rules_scorer_needs_its_column():
    with pytest.raises(ValueError, match="needs the 'essex_priority' column"):
        RulesScorer().fit(pd.DataFrame({"age": [1, 2]}), [0, 1])


def test_logistic_baseline_handles_text_columns():
    rng = np.random.default_rng(0)
    n = 2_000
    X = pd.DataFrame(
        {"age": rng.integers(20, 95, n), "sex": rng.choice(["female", "male"], n)}
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-(X.age - 80) / 5))).astype(int)
    m = LogisticBaseline().fit(X, y)
    p = m.predict_proba(X)[:, 1]
    assert np.corrcoef(p, X.age)[0, 1] > 0.8


def test_oracle_looks_up_true_risk_by_patient():
    truth = pa.table({"patient_id": ["a", "b", "c"], "true_risk": [0.1, 0.5, 0.9]})
    X = pd.DataFrame({"patient_id": ["c", "a"], "age": [1, 2]})
    np.testing.assert_allclose(OracleScorer(truth).predict_proba(X)[:, 1], [0.9, 0.1])
    with pytest.raises(ValueError, match="1 rows have no true risk"):
        OracleScorer(truth).predict_proba(pd.DataFrame({"patient_id": ["zz"]}))
