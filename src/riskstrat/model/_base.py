"""Input handling shared by the binary classifiers (the scikit-learn contract)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from riskstrat.model._encoding import FrameEncoder

__all__: list[str] = []


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
