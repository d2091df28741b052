"""Per-person contributions of the LightGBM risk model (TreeSHAP, ``pred_contrib``)."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from riskstrat.exceptions import SchemaError
from riskstrat.explain._groups import reason_group
from riskstrat.explain._templates import PLACEHOLDERS
from riskstrat.model import CalibratedRiskModel, LoadedModel, RiskModel

__all__ = ["contributions", "select_people"]

logger = logging.getLogger(__name__)

_KEY = ("patient_id", "as_of")


def _risk_model(model) -> RiskModel:
    inner = model.model if isinstance(model, LoadedModel) else model
    if isinstance(inner, CalibratedRiskModel):
        inner = inner.estimator
    if not isinstance(inner, RiskModel):
        raise TypeError(
            "explain needs a RiskModel, a CalibratedRiskModel wrapping one, or a "
            f"LoadedModel. Got {type(inner).__name__} instead."
        )
    if not hasattr(inner, "booster_"):
        raise ValueError("The risk model is not fitted; fit it before explaining.")
    if inner.encoder_ is None:
        raise ValueError(
            "The risk model was fitted on a plain array; explain needs one fitted "
            "on a feature table (its column names become reasons)."
        )
    return inner


def select_people(
    features: pa.Table, patient_ids: Iterable[str] | None, *, as_of: dt.date | None
) -> pa.Table:
    """Rows of ``features`` for the people asked (all if None), sorted by key."""
    missing = [c for c in _KEY if c not in features.column_names]
    if missing:
        raise SchemaError(
            f"The feature table lacks the key column(s) {missing}; explain joins on "
            "(patient_id, as_of)."
        )
    if as_of is not None:
        keep = pc.equal(features["as_of"], pa.scalar(as_of, pa.date32()))
        features = features.filter(keep)
        if features.num_rows == 0:
            raise ValueError(f"The feature table has no rows as of {as_of}.")
    if patient_ids is not None:
        wanted = pa.array(sorted(set(patient_ids)), pa.string())
        features = features.filter(pc.is_in(features["patient_id"], value_set=wanted))
        found = set(features["patient_id"].to_pylist())
        absent = [p for p in wanted.to_pylist() if p not in found]
        if absent:
            raise ValueError(
                f"{len(absent)} of the {len(wanted)} people asked for are not in "
                f"the feature table (first: {absent[:3]})."
            )
    keys = pa.table({"patient_id": features["patient_id"], "as_of": features["as_of"]})
    dup = keys.group_by(list(_KEY)).aggregate([([], "count_all")])
    if dup.num_rows != keys.num_rows:
        raise ValueError(
            "The feature table has more than one row for some (patient_id, as_of); "
            "keys must be unique."
        )
    return features.sort_by([("patient_id", "ascending"), ("as_of", "ascending")])


def _feature_matrix(features: pa.Table, rm: RiskModel) -> tuple[np.ndarray, list[str]]:
    cols = list(rm.encoder_.columns_)  # type: ignore[union-attr]
    missing = [c for c in cols if c not in features.column_names]
    if missing:
        raise SchemaError(
            f"The feature table lacks {len(missing)} column(s) the model was "
            f"trained on: {missing}."
        )
    frame = features.select(cols).to_pandas()
    return rm.encoder_.transform(frame), cols  # type: ignore[union-attr]


def raw_contributions(model, features: pa.Table) -> tuple[np.ndarray, list[str]]:
    """``pred_contrib`` of ``features`` rows, in row order (last column: base)."""
    rm = _risk_model(model)
    matrix, cols = _feature_matrix(features, rm)
    num_iteration = None if rm.refit else rm.best_iteration_
    if matrix.shape[0] == 0:
        return np.zeros((0, len(cols) + 1)), cols
    out = rm.booster_.predict(matrix, num_iteration=num_iteration, pred_contrib=True)
    return np.asarray(out, dtype=np.float64), cols


def group_order(columns: list[str]) -> list[str]:
    """Reason groups present among ``columns``, in the templates' order."""
    present = {reason_group(c) for c in columns}
    return [g for g in PLACEHOLDERS if g in present]


def contributions(
    model,
    features: pa.Table,
    *,
    patient_ids: Iterable[str] | None = None,
    as_of: dt.date | None = None,
    by: Literal["group", "feature"] = "group",
) -> pa.Table:
    """Each person's contributions to the model's raw score (log-odds), by reason.

    TreeSHAP values from LightGBM (``Booster.predict(..., pred_contrib=True)``) on
    the raw score, not on the calibrated probability. Calibration
    (:class:`~riskstrat.model.ScoreCalibrator`) is a monotone increasing map of the
    raw score (strictly for the default sigmoid; non-decreasing for isotonic), so
    a contribution that raises the raw score never lowers the calibrated risk, and
    the order of contributions is the order of their effect on it; only the size
    in probability units differs (and depends on the rest of the score). For
    each person, ``base_value`` plus the sum of the contributions is the raw
    score.

    Parameters
    ----------
    model : RiskModel, CalibratedRiskModel or LoadedModel
    features : pyarrow.Table
        A feature table keyed by ``patient_id`` and ``as_of``.
    patient_ids : iterable of str, optional
        Explain only these people (every one must be in ``features``). Explain
        only the people you will show: the listed, waiting and alerted.
    as_of : datetime.date, optional
        Keep only feature rows of this date.
    by : {"group", "feature"}, default="group"
        ``"group"`` sums the features of one measure (for example emergency
        admissions over 3, 6, 12 and 24 months) into one column per reason group;
        ``"feature"`` gives one column per model input.

    Returns
    -------
    pyarrow.Table
        ``patient_id``, ``as_of``, ``base_value``, then one float64 column per
        reason group (or feature), sorted by ``patient_id``.

    Examples
    --------
    >>> import datetime as dt, numpy as np, pyarrow as pa
    >>> from riskstrat.model import RiskModel
    >>> rng = np.random.default_rng(0)
    >>> n = 400
    >>> age = rng.integers(40, 95, n)
    >>> em = rng.poisson(0.4, n)
    >>> y = rng.random(n) < 1 / (1 + np.exp(-(age - 75) / 8 - em))
    >>> feats = pa.table({"patient_id": [f"p{i:03d}" for i in range(n)],
    ...                   "as_of": pa.array([dt.date(2023, 4, 1)] * n, pa.date32()),
    ...                   "age": age, "em_admissions_12m": em})
    >>> m = RiskModel(max_trees=30, random_state=0).fit(
    ...     feats.drop_columns(["patient_id", "as_of"]).to_pandas(), y)
    >>> c = contributions(m, feats, patient_ids=["p001", "p000"])
    >>> c.column_names
    ['patient_id', 'as_of', 'base_value', 'emergency_admissions', 'age']
    >>> c["patient_id"].to_pylist()
    ['p000', 'p001']
    """
    if by not in ("group", "feature"):
        raise ValueError(
            f"The `by` parameter of contributions must be 'group' or 'feature'. "
            f"Got {by!r} instead."
        )
    tic = time.perf_counter()
    rows = select_people(features, patient_ids, as_of=as_of)
    values, cols = raw_contributions(model, rows)
    out: dict[str, pa.Array] = {
        "patient_id": rows["patient_id"].combine_chunks(),
        "as_of": rows["as_of"].combine_chunks(),
        "base_value": pa.array(values[:, -1], pa.float64()),
    }
    if by == "feature":
        for j, c in enumerate(cols):
            out[c] = pa.array(values[:, j], pa.float64())
    else:
        groups = group_order(cols)
        member = np.zeros((len(cols), len(groups)))
        for j, c in enumerate(cols):
            member[j, groups.index(reason_group(c))] = 1.0
        summed = values[:, :-1] @ member
        for k, g in enumerate(groups):
            out[g] = pa.array(summed[:, k], pa.float64())
    logger.info(
        "contributions: %d people, %d inputs in %.2f s",
        rows.num_rows,
        len(cols),
        time.perf_counter() - tic,
    )
    return pa.table(out)
