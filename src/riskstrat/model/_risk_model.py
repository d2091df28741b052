"""The LightGBM risk model, a scikit-learn classifier."""

from __future__ import annotations

import logging
import time

import numpy as np
from sklearn.utils.validation import check_is_fitted

from riskstrat.model._base import (
    BinaryTableClassifier,
    check_lightgbm_params,
    early_stopping_split,
    fit_booster,
)

__all__ = ["RiskModel", "early_stopping_split"]

logger = logging.getLogger(__name__)


def _check_binary(y) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D. Got shape {y.shape} instead.")
    values = set(np.unique(y).tolist())
    if not values <= {0, 1}:
        raise ValueError(
            f"y must hold 0/1 outcomes. Got values {sorted(values)[:5]} instead."
        )
    if len(values) < 2:
        raise ValueError(
            "y has only one class; a risk model needs events and non-events."
        )
    return y.astype(np.int64)


class RiskModel(BinaryTableClassifier):
    """Gradient-boosted trees (LightGBM) for the risk of emergency admission.

    Trees are depth-limited so per-patient explanations stay fast. The number of
    trees is chosen by early stopping on a validation split of the training
    data (``validation_fraction``) — by person when ``fit`` is given ``groups``
    (a person's snapshots from several years never sit on both sides), else
    stratified by row; the model is then refit on all the training data with
    that number of trees (``refit=True``).

    Parameters
    ----------
    learning_rate : float, default=0.03
    max_depth : int, default=5
    num_leaves : int, default=15
    min_child_samples : int, default=200
    subsample : float, default=0.8
        Row subsampling per tree (bagging every iteration).
    colsample_bytree : float, default=0.8
    reg_lambda : float, default=5.0
    max_trees : int, default=2000
        Upper bound on boosting rounds.
    early_stopping_rounds : int, default=200
        Rounds without improvement of the validation log-loss before stopping.
    validation_fraction : float, default=0.2
    refit : bool, default=True
    random_state : int or None, default=None
    n_jobs : int or None, default=None
        LightGBM threads. None: ``OMP_NUM_THREADS`` if the environment sets it
        (a parallel test run or a shared host limits it from outside), else 2 —
        a fixed count, since trees grown with other thread counts can differ in
        the last digits.

    Attributes
    ----------
    booster_ : lightgbm.Booster
        The fitted trees.
    encoder_ : FrameEncoder
        Column roles and categories learned in ``fit``.
    feature_names_in_ : ndarray of str
    n_features_in_ : int
    classes_ : ndarray, ``[0, 1]``
    best_iteration_ : int
        Trees kept by early stopping.
    validation_auc_ : float
        AUROC on the validation split at ``best_iteration_``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> age, adm = rng.integers(20, 95, 400), rng.poisson(0.3, 400)
    >>> X = pd.DataFrame({"age": age, "adm": adm})
    >>> y = rng.random(400) < 1 / (1 + np.exp(-(X.age - 80) / 8 - X.adm))
    >>> m = RiskModel(max_trees=50, random_state=0).fit(X, y)
    >>> m.predict_proba(X).shape
    (400, 2)
    """

    def __init__(
        self,
        *,
        learning_rate: float = 0.03,
        max_depth: int = 5,
        num_leaves: int = 15,
        min_child_samples: int = 200,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 5.0,
        max_trees: int = 2000,
        early_stopping_rounds: int = 200,
        validation_fraction: float = 0.2,
        refit: bool = True,
        random_state: int | None = None,
        n_jobs: int | None = None,
    ) -> None:
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.max_trees = max_trees
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.refit = refit
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X, y, *, groups=None, sample_weight=None) -> RiskModel:
        """Fit on a feature table ``X`` and 0/1 outcomes ``y``.

        ``groups`` (e.g. patient ids, aligned with ``X``) makes the early-stopping
        split keep each group on one side. ``sample_weight`` (optional, >= 0)
        weighs rows in the fit and in early stopping.
        """
        check_lightgbm_params(self)
        tic = time.perf_counter()
        M, y = self._fit_inputs(X, y)
        if self.encoder_ is not None:
            cat = self.encoder_.categorical_indices_
            names = [str(c) for c in self.encoder_.columns_]
        else:
            cat, names = [], [f"x{j}" for j in range(M.shape[1])]
        booster, self.best_iteration_, best = fit_booster(
            self,
            M,
            y,
            objective={"objective": "binary"},
            metrics=["binary_logloss", "auc"],
            names=names,
            categorical=cat,
            groups=groups,
            sample_weight=sample_weight,
        )
        self.validation_auc_ = best["auc"]
        self.validation_logloss_ = best["binary_logloss"]
        self.booster_ = booster
        logger.info(
            "risk model: %d rows, %d features, %d trees (validation AUROC %.3f) "
            "in %.1f s",
            M.shape[0],
            M.shape[1],
            self.best_iteration_,
            self.validation_auc_,
            time.perf_counter() - tic,
        )
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Probabilities ``[1 - p, p]`` of an emergency admission."""
        M = self._predict_inputs(X)
        check_is_fitted(self, "booster_")
        num_iteration = None if self.refit else self.best_iteration_
        p = np.asarray(self.booster_.predict(M, num_iteration=num_iteration))
        return np.column_stack([1 - p, p])

    def feature_importance(self) -> dict[str, float]:
        """Total gain of each feature, in feature order."""
        check_is_fitted(self, "booster_")
        gain = self.booster_.feature_importance(importance_type="gain")
        return dict(zip(self.booster_.feature_name(), map(float, gain), strict=True))
