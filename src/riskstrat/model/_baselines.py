"""Baselines every risk model must beat, and the oracle it cannot."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.validation import check_is_fitted

from riskstrat.model._base import BinaryTableClassifier
from riskstrat.model._encoding import _as_frame
from riskstrat.model._risk_model import _check_binary

__all__ = ["LogisticBaseline", "OracleScorer", "RulesScorer"]


class LogisticBaseline(BinaryTableClassifier):
    """Logistic regression on all features (median-imputed, standardised, one-hot).

    Parameters
    ----------
    C : float, default=1.0
        Inverse L2 regularisation strength.
    max_iter : int, default=2000

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> X = pd.DataFrame({"age": [50, 60, 70, 80, 90, 95], "sex": list("fmfmfm")})
    >>> m = LogisticBaseline().fit(X, [0, 0, 0, 1, 1, 1])
    >>> m.predict_proba(X).shape
    (6, 2)
    """

    def __init__(self, *, C: float = 1.0, max_iter: int = 2000) -> None:
        self.C = C
        self.max_iter = max_iter

    def fit(self, X, y, sample_weight=None) -> LogisticBaseline:
        """Fit on a feature table and 0/1 outcomes (optionally weighted rows)."""
        M, y = self._fit_inputs(X, y)
        cat = [] if self.encoder_ is None else self.encoder_.categorical_indices_
        num = [j for j in range(M.shape[1]) if j not in cat]
        self.num_ = num
        self.cat_ = cat
        self.numeric_ = make_pipeline(
            SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler()
        ).fit(M[:, num])
        self.onehot_ = None
        if cat:
            self.onehot_ = OneHotEncoder(
                handle_unknown="ignore", sparse_output=False
            ).fit(np.nan_to_num(M[:, cat], nan=-1))
        self.logit_ = LogisticRegression(C=self.C, max_iter=self.max_iter).fit(
            self._design(M), y, sample_weight=sample_weight
        )
        self.n_iter_ = self.logit_.n_iter_
        return self

    def _design(self, M: np.ndarray) -> np.ndarray:
        parts = [self.numeric_.transform(M[:, self.num_])]
        if self.onehot_ is not None:
            parts.append(self.onehot_.transform(np.nan_to_num(M[:, self.cat_], nan=-1)))
        return np.hstack(parts)

    def predict_proba(self, X) -> np.ndarray:
        """Probabilities ``[1 - p, p]``."""
        M = self._predict_inputs(X)
        check_is_fitted(self, "logit_")
        return self.logit_.predict_proba(self._design(M))


class RulesScorer(ClassifierMixin, BaseEstimator):
    """The seed's case-finding rules as a scorer.

    People meeting a higher-priority rule rank above people meeting a lower one,
    and everyone eligible ranks above everyone not eligible. ``fit`` learns the
    observed event rate of each priority level (so the scores are calibrated
    probabilities); levels unseen in training fall back to the overall rate.

    Parameters
    ----------
    priority_column : str, default="essex_priority"
        Column holding the highest-priority rule met (1 = highest; null = none).
    smoothing : float, default=1.0
        Pseudo-count pulling each level's rate towards the overall rate.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"essex_priority": [1, 1, 2, None, None, None]})
    >>> s = RulesScorer(smoothing=0).fit(X, [1, 0, 1, 0, 0, 0])
    >>> s.predict_proba(X)[:, 1].round(2).tolist()
    [0.5, 0.5, 1.0, 0.0, 0.0, 0.0]
    """

    def __init__(
        self, *, priority_column: str = "essex_priority", smoothing: float = 1.0
    ) -> None:
        self.priority_column = priority_column
        self.smoothing = smoothing

    def _levels(self, X) -> np.ndarray:
        df = _as_frame(X)
        if self.priority_column not in df.columns:
            raise ValueError(
                f"RulesScorer needs the {self.priority_column!r} column; the table "
                f"has {list(df.columns)[:10]}..."
            )
        level = pd.to_numeric(df[self.priority_column], errors="coerce")
        return level.fillna(0).to_numpy(dtype=np.int64)  # 0 = no rule met

    def fit(self, X, y, sample_weight=None) -> RulesScorer:
        """Learn the (weighted) event rate of each priority level."""
        y = _check_binary(y)
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight)
        level = self._levels(X)
        overall = float((w * y).sum() / w.sum())
        self.rates_: dict[int, float] = {}
        for lv in np.unique(level):
            sel = level == lv
            self.rates_[int(lv)] = float(
                ((w * y)[sel].sum() + self.smoothing * overall)
                / (w[sel].sum() + self.smoothing)
            )
        self.overall_rate_ = overall
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Event rate of each row's priority level, ``[1 - p, p]``."""
        check_is_fitted(self, "rates_")
        level = self._levels(X)
        p = np.array([self.rates_.get(int(lv), self.overall_rate_) for lv in level])
        return np.column_stack([1 - p, p])

    def predict(self, X) -> np.ndarray:
        """1 when any rule is met."""
        return (self._levels(X) > 0).astype(np.int64)


class OracleScorer:
    """The synthetic population's true risk, looked up by ``patient_id``.

    Not learned: the best any model could do on the same data, for comparison.
    ``true_risk`` is the table from ``Truth.true_risk(as_of)`` for the same
    ``as_of`` as the features. Rows without a true risk raise an error.
    """

    def __init__(self, true_risk) -> None:
        self.true_risk = true_risk

    def predict_proba(self, X) -> np.ndarray:
        """True risk of each row of ``X`` (which must have ``patient_id``)."""
        truth = _as_frame(self.true_risk).set_index("patient_id")["true_risk"]
        ids = _as_frame(X)["patient_id"]
        p = truth.reindex(ids.to_numpy()).to_numpy(dtype=np.float64)
        if np.isnan(p).any():
            missing = ids[np.isnan(p)].head(3).tolist()
            raise ValueError(
                f"{int(np.isnan(p).sum())} rows have no true risk (first: {missing}); "
                "use the truth for the same as_of as the features."
            )
        return np.column_stack([1 - p, p])
