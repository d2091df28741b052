"""Every learned estimator keeps the scikit-learn contract (STYLE rule 6).

RulesScorer is not in this list: it reads one named column (the seed's rule
priority) of a feature table, so the generic array checks do not apply; its
contract is tested in test_baselines.py.
"""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from riskstrat.model import LogisticBaseline, RiskModel


@parametrize_with_checks(
    [
        RiskModel(max_trees=20, early_stopping_rounds=5, random_state=0),
        LogisticBaseline(),
    ],
    expected_failed_checks=lambda est: (
        {
            "check_sample_weight_equivalence_on_dense_data": (
                "the imputer's medians and the scaler's means and deviations are taken "
                "over rows: weights enter the logistic fit only"
            )
        }
        if isinstance(est, LogisticBaseline)
        else {}
    ),
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
