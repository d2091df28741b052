"""What the models share: input handling, LightGBM settings and early stopping.

The binary classifiers share :class:`BinaryTableClassifier` (the scikit-learn
contract for feature tables). The two LightGBM models (:class:`RiskModel`,
:class:`BedDaysModel`) share, here and only here, how their parameters become
LightGBM's (:func:`lightgbm_params`), how those are checked
(:func:`check_lightgbm_params`), the early-stopping split
(:func:`early_stopping_split`) and the fit itself: boost with early stopping on
the validation split, then refit on every row with the best number of trees
(:func:`fit_booster`).
"""

from __future__ import annotations

import os
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import GroupShuffleSplit, train_test_split
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    check_is_fitted,
    validate_data,
)

from riskstrat.model._encoding import FrameEncoder

__all__: list[str] = []

#: Parameters both LightGBM models take, with the same meaning and defaults. A
#: :class:`ModelDesign`'s ``model_params`` among these apply to both models.
SHARED_LIGHTGBM_PARAMS = (
    "learning_rate",
    "max_depth",
    "num_leaves",
    "min_child_samples",
    "subsample",
    "colsample_bytree",
    "reg_lambda",
    "max_trees",
    "early_stopping_rounds",
    "validation_fraction",
    "refit",
    "n_jobs",
)


def lightgbm_params(estimator, *, objective: dict[str, Any], n_rows: int, seed: int):
    """LightGBM's parameters from an estimator's shared ones, plus ``objective``.

    ``min_child_samples`` is capped at a tenth of the rows, so a small data set
    can still grow trees.
    """
    e = estimator
    return {
        **objective,
        "learning_rate": e.learning_rate,
        "max_depth": e.max_depth,
        "num_leaves": e.num_leaves,
        "min_data_in_leaf": int(min(e.min_child_samples, max(n_rows // 10, 1))),
        "bagging_fraction": e.subsample,
        "bagging_freq": 1 if e.subsample < 1 else 0,
        "feature_fraction": e.colsample_bytree,
        "lambda_l2": e.reg_lambda,
        "seed": seed,
        "deterministic": True,
        "force_row_wise": True,
        "num_threads": threads(e.n_jobs),
        "verbosity": -1,
    }


#: LightGBM threads when neither ``n_jobs`` nor ``OMP_NUM_THREADS`` says.
DEFAULT_THREADS = 2


def threads(n_jobs: int | None) -> int:
    """LightGBM's ``num_threads`` for an estimator's ``n_jobs``.

    None: ``OMP_NUM_THREADS`` when it is a positive integer, else
    :data:`DEFAULT_THREADS` — never "every core", so the same data give the same
    trees on machines with different core counts.

    >>> threads(3)
    3
    """
    if n_jobs is not None:
        return n_jobs
    value = os.environ.get("OMP_NUM_THREADS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else DEFAULT_THREADS


def check_lightgbm_params(estimator, extra: dict[str, bool] | None = None) -> None:
    """Refuse shared (and ``extra``) parameters out of range, naming the first."""
    e = estimator
    checks = {
        **(extra or {}),
        "learning_rate": 0 < e.learning_rate <= 1,
        "max_depth": isinstance(e.max_depth, int) and e.max_depth >= 1,
        "max_trees": isinstance(e.max_trees, int) and e.max_trees >= 1,
        "validation_fraction": 0 < e.validation_fraction < 1,
        "subsample": 0 < e.subsample <= 1,
    }
    for name, ok in checks.items():
        if not ok:
            raise ValueError(
                f"The `{name}` parameter of {type(e).__name__} is out of range. "
                f"Got {getattr(e, name)!r} instead."
            )


def seed_of(random_state) -> int:
    """The one LightGBM seed an estimator's ``random_state`` stands for."""
    return int(np.random.default_rng(random_state).integers(2**31 - 1))


def early_stopping_split(
    y: np.ndarray, groups, *, fraction: float, seed: int, stratify: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices for training and for the early-stopping validation.

    By group when ``groups`` is given (no group on both sides), else a split of
    rows, stratified by ``y`` when ``stratify`` (0/1 outcomes with at least two
    of each).
    """
    if groups is not None:
        split = GroupShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
        tr, va = next(split.split(np.zeros(y.size), y, groups=np.asarray(groups)))
        return tr, va
    strata = None
    if stratify and np.bincount(y.astype(np.int64)).min() >= 2:
        strata = y
    tr, va = train_test_split(
        np.arange(y.size), test_size=fraction, stratify=strata, random_state=seed
    )
    return np.asarray(tr), np.asarray(va)


def fit_booster(
    estimator,
    M: np.ndarray,
    y: np.ndarray,
    *,
    objective: dict[str, Any],
    metrics: list[str],
    names: list[str],
    categorical: list[int],
    groups=None,
    sample_weight: np.ndarray | None = None,
    stratify: bool = True,
) -> tuple[lgb.Booster, int, dict[str, float]]:
    """Boost with early stopping on a validation split, then refit on all rows.

    The first of ``metrics`` decides when to stop. Returns the booster, the
    number of trees kept and the validation scores at that number.
    """
    seed = seed_of(estimator.random_state)
    params = lightgbm_params(
        estimator, objective=objective, n_rows=M.shape[0], seed=seed
    )
    idx_tr, idx_va = early_stopping_split(
        y, groups, fraction=estimator.validation_fraction, seed=seed, stratify=stratify
    )
    w = None
    if sample_weight is not None:
        w = _check_sample_weight(sample_weight, M, ensure_non_negative=True)
    dtrain = lgb.Dataset(
        M[idx_tr],
        y[idx_tr],
        weight=None if w is None else w[idx_tr],
        feature_name=names,
        categorical_feature=categorical,
        free_raw_data=False,
    )
    dvalid = dtrain.create_valid(
        M[idx_va], y[idx_va], weight=None if w is None else w[idx_va]
    )
    booster = lgb.train(
        {**params, "metric": metrics, "first_metric_only": True},
        dtrain,
        num_boost_round=estimator.max_trees,
        valid_sets=[dvalid],
        callbacks=[lgb.early_stopping(estimator.early_stopping_rounds, verbose=False)],
    )
    best = int(booster.best_iteration or estimator.max_trees)
    scores = {k: float(v) for k, v in booster.best_score["valid_0"].items()}
    if estimator.refit:
        dall = lgb.Dataset(
            M, y, weight=w, feature_name=names, categorical_feature=categorical
        )
        booster = lgb.train(params, dall, num_boost_round=best)
    return booster, best, scores


def _is_table(X) -> bool:
    return isinstance(X, pd.DataFrame) or hasattr(X, "to_pandas")


class BinaryTableClassifier(ClassifierMixin, BaseEstimator):
    """Base for classifiers that take feature tables (or arrays) and 0/1-like labels.

    Tables keep their column roles (text columns become categories); plain arrays
    go through ``validate_data`` (finite or NaN, dense, 2-D). Labels may be any
    two values; ``classes_[1]`` is the positive class (the event).
    """

    encoder_: FrameEncoder | None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.allow_nan = True
        return tags

    def _fit_inputs(self, X, y) -> tuple[np.ndarray, np.ndarray]:
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        if _is_table(X):
            encoder = FrameEncoder().fit(X)
            self.encoder_ = encoder
            M = encoder.transform(X)
            self.feature_names_in_ = np.asarray(encoder.columns_, dtype=object)
            self.n_features_in_ = M.shape[1]
            y = np.asarray(y)
        else:
            M, y = validate_data(
                self, X, y, ensure_all_finite="allow-nan", dtype=np.float64
            )
            self.encoder_ = None
        check_classification_targets(y)
        kind = type_of_target(y)
        self.classes_ = np.unique(y)
        if kind != "binary" or self.classes_.size != 2:
            if self.classes_.size < 2:
                raise ValueError(
                    f"{type(self).__name__} needs two classes in y (events and "
                    f"non-events). Got one class only: {self.classes_.tolist()}."
                )
            raise ValueError(
                f"Only binary classification is supported. The type of the target "
                f"is {kind}."
            )
        if M.shape[0] != y.shape[0]:
            raise ValueError(
                f"X has {M.shape[0]} rows but y has {y.shape[0]}; they must match."
            )
        return M, (y == self.classes_[1]).astype(np.int64)

    def _predict_inputs(self, X) -> np.ndarray:
        check_is_fitted(self, "classes_")
        if self.encoder_ is not None:
            if not _is_table(X):
                X = check_array(X, ensure_all_finite="allow-nan", dtype=np.float64)
                if X.shape[1] != self.n_features_in_:
                    raise ValueError(
                        f"X has {X.shape[1]} features, but {type(self).__name__} is "
                        f"expecting {self.n_features_in_} features as input."
                    )
                X = pd.DataFrame(X, columns=self.encoder_.columns_)
            return self.encoder_.transform(X)
        return validate_data(
            self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float64
        )

    def predict(self, X) -> np.ndarray:
        """The more likely class (threshold 0.5; caseloads use ranks, not this)."""
        p = self.predict_proba(X)[:, 1]
        return self.classes_[(p >= 0.5).astype(np.int64)]

    def predict_proba(self, X) -> np.ndarray:  # pragma: no cover - abstract
        """Probabilities of ``classes_``."""
        raise NotImplementedError
