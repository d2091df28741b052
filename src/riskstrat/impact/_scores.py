"""The scores people are matched on and ranked by: prognostic, propensity, model."""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pandas as pd
import pyarrow as pa

from riskstrat.features import build_features, make_labels
from riskstrat.model import BedDaysModel, RiskModel, load_model

__all__ = [
    "CountScore",
    "fit_prognostic",
    "fit_propensity",
    "registered",
    "score_frame",
]

logger = logging.getLogger(__name__)

_ID = ["patient_id", "as_of"]

#: A small, fast LightGBM: the score only has to rank people within strata.


def _small(random_state: int) -> RiskModel:
    return RiskModel(
        max_trees=400,
        early_stopping_rounds=50,
        learning_rate=0.05,
        random_state=random_state,
    )


def _X(features: pa.Table) -> pd.DataFrame:
    return features.drop_columns(_ID).to_pandas()


class CountScore:
    """Expected emergency admissions as a score: ``P(N >= 1) = 1 - exp(-mu)``.

    Wraps a :class:`~riskstrat.model.BedDaysModel` fitted with a Poisson loss
    on the number of emergency admissions in the next year. The probability
    of at least one admission under a Poisson count is monotone in the
    expected count ``mu``, so matching on its logit ranks people by ``mu``;
    unlike a model of *any* admission, it keeps ranking people who are almost
    sure to be admitted by how many admissions they will have.

    Examples
    --------
    >>> import pandas as pd
    >>> class Fixed:
    ...     def predict(self, X):
    ...         return np.array([0.0, 1.0, 3.0])
    >>> CountScore(Fixed()).predict_proba(pd.DataFrame({"a": [1, 2, 3]}))[:, 1].round(3)
    array([0.   , 0.632, 0.95 ])
    """

    def __init__(self, model) -> None:
        self.model = model

    def predict_proba(self, X) -> np.ndarray:
        mu = np.clip(np.asarray(self.model.predict(X), dtype=float), 0.0, None)
        p = -np.expm1(-mu)
        return np.column_stack([1.0 - p, p])


def fit_prognostic(
    opened,
    *,
    fit_date: dt.date,
    horizon_days: int,
    first_enrol: dict[str, dt.date],
    spec,
    random_state: int,
    target: str = "admissions",
):
    """A prognostic score of ``[fit_date, fit_date + horizon)``, untreated.

    ``target="admissions"`` (the default): the expected number of emergency
    admissions (:class:`CountScore`, LightGBM with a Poisson loss);
    ``"any_admission"``: the risk of any emergency admission
    (:class:`~riskstrat.model.RiskModel`). Fitted on everyone on the list on
    ``fit_date`` who was not enrolled before the end of that window (untreated
    outcomes only), from features as of ``fit_date``.
    """
    X = build_features(opened, as_of=fit_date, spec=spec)
    y = make_labels(opened, as_of=fit_date, horizon_days=horizon_days)
    end = fit_date + dt.timedelta(days=horizon_days)
    ids = X["patient_id"].to_pylist()
    keep = np.array([first_enrol.get(i, end) >= end for i in ids])
    column = "emergency_admissions" if target == "admissions" else "emergency_admission"
    label = pd.Series(
        y[column].to_numpy(zero_copy_only=False),
        index=y["patient_id"].to_pylist(),
    )
    values = label.reindex(ids).to_numpy()
    keep &= ~pd.isna(values)
    rows = _X(X.filter(pa.array(keep)))
    model: RiskModel | CountScore
    if target == "admissions":
        counts = BedDaysModel(
            tweedie_variance_power=1.0,
            max_trees=400,
            early_stopping_rounds=50,
            learning_rate=0.05,
            random_state=random_state,
        )
        counts.fit(rows, values[keep].astype(float))
        model = CountScore(counts)
    else:
        model = _small(random_state)
        model.fit(rows, values[keep].astype(int))
    logger.info(
        "impact: prognostic score fitted on %d people as of %s", keep.sum(), fit_date
    )
    return model


def fit_propensity(
    features: dict[dt.date, pa.Table],
    treated: dict[dt.date, np.ndarray],
    candidate: dict[dt.date, np.ndarray],
    *,
    random_state: int,
):
    """Probability of enrolling on a date, pooled over the enrolment dates.

    A penalised logistic regression on the numeric features (standardised,
    missing values by the median): few people enrol on any date, and trees
    separate them perfectly.
    """
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frames, ys = [], []
    for day, X in features.items():
        rows = treated[day] | candidate[day]
        frames.append(_numeric(_X(X.filter(pa.array(rows)))))
        ys.append(treated[day][rows].astype(int))
    model = make_pipeline(
        SimpleImputer(strategy="median", keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(C=0.1, max_iter=500, random_state=random_state),
    )
    model.fit(pd.concat(frames, ignore_index=True), np.concatenate(ys))
    return _Numeric(model)


def _numeric(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.select_dtypes(include=["number", "bool"]).astype(float)
    return out


class _Numeric:
    """A scikit-learn model of the numeric features, with ``predict_proba``."""

    def __init__(self, model) -> None:
        self.model = model

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.model.predict_proba(_numeric(X))


def registered(ref: str, tracking_uri: str | None):
    """A registered model, loaded once (its feature specification comes with it)."""
    return load_model(ref, tracking_uri=tracking_uri)


def score_frame(model, features: pa.Table) -> np.ndarray:
    """Probabilities of ``model`` for each row of a feature table."""
    if features.num_rows == 0:
        return np.empty(0)
    if hasattr(model, "feature_schema"):  # a registered model: check the columns
        from riskstrat.model import check_features

        check_features(model, features.schema)
    return np.asarray(model.predict_proba(_X(features))[:, 1], dtype=float)
