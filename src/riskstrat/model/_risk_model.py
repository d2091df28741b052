"""The LightGBM risk model, a scikit-learn classifier."""

from __future__ import annotations

import logging
import time

import lightgbm as lgb
import numpy as np
from sklearn.model_selection import GroupShuffleSplit, train_test_split
from sklearn.utils.validation import check_is_fitted

from riskstrat.model._base import BinaryTableClassifier

__all__ = ["RiskModel"]

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


def early_stopping_split(
    y: np.ndarray, groups, *, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices for training and for the early-stopping validation.

    By group when ``groups`` is given (no group on both sides), else a split of
    rows stratified by ``y``.
    """
    if groups is not None:
        split = GroupShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
        tr, va = next(split.split(np.zeros(y.size), y, groups=np.asarray(groups)))
        return tr, va
    tr, va = train_test_split(
        np.arange(y.size),
        test_size=fraction,
        stratify=y if np.bincount(y).min() >= 2 else None,
        random_state=seed,
    )
    return np.asarray(tr), np.asarray(va)


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
    n_jobs : int, default=2

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
        n_jobs: int = 2,
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

    def _params(self, seed: int, n_rows: int) -> dict:
        return {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "max_depth": self.max_depth,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": int(min(self.min_child_samples, max(n_rows // 10, 1))),
            "bagging_fraction": self.subsample,
            "bagging_freq": 1 if self.subsample < 1 else 0,
            "feature_fraction": self.colsample_bytree,
            "lambda_l2": self.reg_lambda,
            "seed": seed,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": self.n_jobs,
            "verbosity": -1,
        }

    def _validate_params(self) -> None:
        checks = {
            "learning_rate": 0 < self.learning_rate <= 1,
            "max_depth": isinstance(self.max_depth, int) and self.max_depth >= 1,
            "max_trees": isinstance(self.max_trees, int) and self.max_trees >= 1,
            "validation_fraction": 0 < self.validation_fraction < 1,
            "subsample": 0 < self.subsample <= 1,
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(
                    f"The `{name}` parameter of RiskModel is out of range. "
                    f"Got {getattr(self, name)!r} instead."
                )

    def fit(self, X, y, *, groups=None) -> RiskModel:
        """Fit on a feature table ``X`` and 0/1 outcomes ``y``.

        ``groups`` (e.g. patient ids, aligned with ``X``) makes the early-stopping
        split keep each group on one side.
        """
        self._validate_params()
        tic = time.perf_counter()
        M, y = self._fit_inputs(X, y)
        if self.encoder_ is not None:
            cat = self.encoder_.categorical_indices_
            names = [str(c) for c in self.encoder_.columns_]
        else:
            cat, names = [], [f"x{j}" for j in range(M.shape[1])]
        seed = int(np.random.default_rng(self.random_state).integers(2**31 - 1))
        params = self._params(seed, M.shape[0])
        idx_tr, idx_va = early_stopping_split(
            y, groups, fraction=self.validation_fraction, seed=seed
        )
        dtrain = lgb.Dataset(
            M[idx_tr],
            y[idx_tr],
            feature_name=names,
            categorical_feature=cat,
            free_raw_data=False,
        )
        dvalid = dtrain.create_valid(M[idx_va], y[idx_va])
        booster = lgb.train(
            {**params, "metric": ["binary_logloss", "auc"], "first_metric_only": True},
            dtrain,
            num_boost_round=self.max_trees,
            valid_sets=[dvalid],
            callbacks=[lgb.early_stopping(self.early_stopping_rounds, verbose=False)],
        )
        self.best_iteration_ = int(booster.best_iteration or self.max_trees)
        self.validation_auc_ = float(booster.best_score["valid_0"]["auc"])
        self.validation_logloss_ = float(
            booster.best_score["valid_0"]["binary_logloss"]
        )
        if self.refit:
            dall = lgb.Dataset(M, y, feature_name=names, categorical_feature=cat)
            booster = lgb.train(params, dall, num_boost_round=self.best_iteration_)
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
