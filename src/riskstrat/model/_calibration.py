"""Calibration as post-processing of a frozen risk model, stored as plain numbers."""

from __future__ import annotations

from typing import Literal

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from riskstrat.model._risk_model import _check_binary

__all__ = ["CalibratedRiskModel", "ScoreCalibrator"]

_EPS = 1e-9


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


class ScoreCalibrator(BaseEstimator):
    """Map raw risk scores to calibrated probabilities, fitted on held-out data.

    ``method="sigmoid"`` fits ``logit(q) = a + b * logit(p)`` (Platt scaling on the
    logit of the score); ``method="isotonic"`` fits a monotone step function
    (interpolated linearly between steps). Both are stored as plain numbers
    (:meth:`to_dict`) so a registered model never needs unpickling.

    ``sigmoid`` is the default: the LightGBM model is fitted on log-loss, so it
    needs only a small, smooth correction, and two parameters are stable on any
    calibration set. Isotonic steps tie people who were ranked apart and, on a
    small calibration set, give a whole low-risk band a risk of exactly 0.

    Parameters
    ----------
    method : {"sigmoid", "isotonic"}, default="sigmoid"

    Examples
    --------
    >>> import numpy as np
    >>> s = np.array([0.1, 0.2, 0.8, 0.9])
    >>> c = ScoreCalibrator(method="sigmoid").fit(s, [0, 1, 0, 1])
    >>> c.predict(np.array([0.5])).round(2).tolist()
    [0.5]
    """

    def __init__(self, *, method: Literal["sigmoid", "isotonic"] = "sigmoid") -> None:
        self.method = method

    def fit(self, scores, y, *, sample_weight=None) -> ScoreCalibrator:
        """Fit on scores of held-out people and their outcomes (optionally weighted)."""
        if self.method not in ("sigmoid", "isotonic"):
            raise ValueError(
                "The `method` parameter of ScoreCalibrator must be 'sigmoid' or "
                f"'isotonic'. Got {self.method!r} instead."
            )
        s = np.asarray(scores, dtype=np.float64)
        y = _check_binary(y)
        if self.method == "sigmoid":
            lr = LogisticRegression(C=1e6, max_iter=1000).fit(
                _logit(s)[:, None], y, sample_weight=sample_weight
            )
            self.coef_ = (float(lr.intercept_[0]), float(lr.coef_[0, 0]))
        else:
            iso = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(
                s, y, sample_weight=sample_weight
            )
            self.x_ = np.asarray(iso.X_thresholds_, dtype=np.float64)
            self.y_ = np.asarray(iso.y_thresholds_, dtype=np.float64)
        return self

    def predict(self, scores) -> np.ndarray:
        """Calibrated probabilities for raw scores."""
        s = np.asarray(scores, dtype=np.float64)
        if self.method == "sigmoid":
            check_is_fitted(self, "coef_")
            a, b = self.coef_
            return 1 / (1 + np.exp(-(a + b * _logit(s))))
        check_is_fitted(self, "x_")
        return np.interp(s, self.x_, self.y_)

    def to_dict(self) -> dict:
        """Plain numbers describing the fitted map."""
        if self.method == "sigmoid":
            return {
                "method": "sigmoid",
                "intercept": self.coef_[0],
                "slope": self.coef_[1],
            }
        return {"method": "isotonic", "x": self.x_.tolist(), "y": self.y_.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> ScoreCalibrator:
        """Rebuild a calibrator from :meth:`to_dict`."""
        c = cls(method=d["method"])
        if d["method"] == "sigmoid":
            c.coef_ = (float(d["intercept"]), float(d["slope"]))
        else:
            c.x_ = np.asarray(d["x"], dtype=np.float64)
            c.y_ = np.asarray(d["y"], dtype=np.float64)
        return c


class CalibratedRiskModel(ClassifierMixin, BaseEstimator):
    """A fitted (frozen) risk model followed by a score calibrator.

    ``fit`` never refits ``estimator``: it only fits the calibrator on the
    estimator's scores for the data given (which must be held out from the
    estimator's training data).

    Parameters
    ----------
    estimator : fitted classifier with ``predict_proba``
    method : {"sigmoid", "isotonic"}, default="sigmoid"
    """

    def __init__(
        self, estimator, *, method: Literal["sigmoid", "isotonic"] = "sigmoid"
    ) -> None:
        self.estimator = estimator
        self.method = method

    def fit(self, X, y, *, sample_weight=None) -> CalibratedRiskModel:
        """Fit the calibrator on held-out ``X, y`` (optionally weighted)."""
        check_is_fitted(self.estimator)
        raw = self.estimator.predict_proba(X)[:, 1]
        self.calibrator_ = ScoreCalibrator(method=self.method).fit(
            raw, y, sample_weight=sample_weight
        )
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Calibrated ``[1 - p, p]``."""
        check_is_fitted(self, "calibrator_")
        p = self.calibrator_.predict(self.estimator.predict_proba(X)[:, 1])
        return np.column_stack([1 - p, p])

    def predict(self, X) -> np.ndarray:
        """0/1 at a probability of 0.5."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)
