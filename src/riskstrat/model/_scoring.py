"""``score``: the one way every later stage gets risk, as a keyed table."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskstrat.exceptions import SchemaError
from riskstrat.model._encoding import ID_COLUMNS, feature_schema, schema_diff
from riskstrat.model._registry import LoadedModel

__all__ = [
    "BED_DAYS_SCHEMA",
    "SCORE_SCHEMA",
    "check_features",
    "score",
    "score_bed_days",
    "score_spark",
]

logger = logging.getLogger(__name__)

#: Columns of a score table.
SCORE_SCHEMA = pa.schema(
    [
        pa.field("patient_id", pa.string(), nullable=False),
        pa.field("as_of", pa.date32(), nullable=False),
        pa.field("risk", pa.float64(), nullable=False),
        pa.field("model_name", pa.string(), nullable=False),
        pa.field("model_version", pa.string(), nullable=False),
    ]
)


#: Columns of an expected-bed-days table (:func:`score_bed_days`).
BED_DAYS_SCHEMA = pa.schema(
    [
        pa.field("patient_id", pa.string(), nullable=False),
        pa.field("as_of", pa.date32(), nullable=False),
        pa.field("expected_bed_days", pa.float64(), nullable=False),
        pa.field("model_name", pa.string(), nullable=False),
        pa.field("model_version", pa.string(), nullable=False),
    ]
)


def check_features(model, schema: pa.Schema | pa.Table) -> None:
    """Refuse features whose names, types or order differ from the model's.

    Cheap: compares schemas only, so call it before building anything (the
    schema of features a spec would build is
    ``riskstrat.features.feature_schema(spec)``).

    Parameters
    ----------
    model : LoadedModel
        A registered model (it carries the schema it was trained on). Models
        fitted in this session carry none, and are not checked here.
    schema : pyarrow.Schema or pyarrow.Table

    Raises
    ------
    SchemaError
        With a ``difflib`` diff of the trained and the given columns.
    """
    saved = getattr(model, "feature_schema", None)
    if not saved:
        return
    given = feature_schema(schema)
    diff = schema_diff(saved, given)
    if diff:
        name = getattr(model, "name", "the model")
        version = getattr(model, "version", "?")
        raise SchemaError(
            f"The features do not match those {name} v{version} was trained on "
            f"(names, types and order must be equal); nothing was scored. Build "
            f"features with the model's own specification (model.design."
            f"feature_spec), or retrain.\n{diff}"
        )


def _as_arrow(features) -> pa.Table:
    if isinstance(features, pa.Table):
        return features
    if isinstance(features, pd.DataFrame):
        return pa.Table.from_pandas(features, preserve_index=False)
    raise TypeError(
        "`features` must be a pyarrow.Table from riskstrat.features.build_features "
        f"(or a pandas DataFrame of it). Got {type(features).__name__} instead."
    )


def score(
    model,
    features,
    *,
    name: str | None = None,
    version: str | None = None,
) -> pa.Table:
    """Calibrated risk per person as a table keyed by ``(patient_id, as_of)``.

    Parameters
    ----------
    model : LoadedModel, CalibratedRiskModel or RiskModel
        A registered model (:func:`load_model`; its feature schema is enforced
        and its name and pinned version recorded) or a model fitted here.
    features : pyarrow.Table
        From :func:`riskstrat.features.build_features` (or ``build_cohort``);
        must hold ``patient_id`` and ``as_of``, each key once.
    name, version : str, optional
        Recorded for a model fitted here (default ``"unregistered"``, ``""``).

    Returns
    -------
    pyarrow.Table
        ``SCORE_SCHEMA``: ``patient_id``, ``as_of``, ``risk``, ``model_name``,
        ``model_version``; sorted by ``patient_id`` then ``as_of``.

    Raises
    ------
    SchemaError
        Key columns missing or repeated, or (registered models) features that
        differ from those the model was trained on.

    Examples
    --------
    >>> import numpy as np, pandas as pd, pyarrow as pa, datetime as dt
    >>> from riskstrat.model import RiskModel
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"age": rng.integers(20, 90, 400)})
    >>> y = (rng.random(400) < X.age / 150).astype(int)
    >>> m = RiskModel(max_trees=20, random_state=0).fit(X, y)
    >>> f = pa.table({"patient_id": ["b", "a"], "as_of": [dt.date(2024, 4, 1)] * 2,
    ...               "age": [85, 30]})
    >>> s = score(m, f)
    >>> s.column_names
    ['patient_id', 'as_of', 'risk', 'model_name', 'model_version']
    >>> s["patient_id"].to_pylist(), s["risk"][0].as_py() > s["risk"][1].as_py()
    (['a', 'b'], False)
    """
    return _keyed_predictions(
        model, features, column="risk", schema=SCORE_SCHEMA, name=name, version=version
    )


def score_bed_days(
    model,
    features,
    *,
    name: str | None = None,
    version: str | None = None,
) -> pa.Table:
    """Expected emergency bed days next year per person, keyed like :func:`score`.

    Parameters
    ----------
    model : LoadedModel or BedDaysModel
        A registered bed-days model (``NAME-bed-days``, see
        :func:`load_model`; its feature schema is enforced and its pinned
        version recorded) or one fitted here.
    features : pyarrow.Table
        As for :func:`score`.
    name, version : str, optional
        Recorded for a model fitted here.

    Returns
    -------
    pyarrow.Table
        ``BED_DAYS_SCHEMA``: ``patient_id``, ``as_of``, ``expected_bed_days``,
        ``model_name``, ``model_version``; sorted by key.

    Examples
    --------
    >>> import numpy as np, pandas as pd, pyarrow as pa, datetime as dt
    >>> from riskstrat.model import BedDaysModel
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"adm": rng.poisson(0.5, 400)})
    >>> m = BedDaysModel(max_trees=20, random_state=0).fit(X, rng.poisson(3 * X.adm))
    >>> f = pa.table({"patient_id": ["b", "a"], "as_of": [dt.date(2024, 4, 1)] * 2,
    ...               "adm": [3, 0]})
    >>> s = score_bed_days(m, f)
    >>> s["patient_id"].to_pylist(), s.column_names[2]
    (['a', 'b'], 'expected_bed_days')
    """
    return _keyed_predictions(
        model,
        features,
        column="expected_bed_days",
        schema=BED_DAYS_SCHEMA,
        name=name,
        version=version,
    )


def _keyed_predictions(
    model, features, *, column: str, schema: pa.Schema, name, version
) -> pa.Table:
    table = _as_arrow(features)
    missing = [c for c in ID_COLUMNS if c not in table.column_names]
    if missing:
        raise SchemaError(
            f"The feature table lacks the key column(s) {missing}; scores are keyed "
            "by (patient_id, as_of). Build features with riskstrat.features."
        )
    keys = table.select(list(ID_COLUMNS))
    if keys.group_by(list(ID_COLUMNS)).aggregate([]).num_rows != keys.num_rows:
        raise SchemaError(
            "The feature table holds a (patient_id, as_of) key more than once; "
            "each person is scored once per date."
        )
    check_features(model, table.schema)
    if isinstance(model, LoadedModel):
        name, version = model.name, model.version
    X = table.drop_columns(list(ID_COLUMNS)).to_pandas()
    if not table.num_rows:
        values = np.empty(0)
    elif column == "risk":
        values = np.asarray(model.predict_proba(X)[:, 1], dtype=np.float64)
    else:
        values = np.asarray(model.predict(X), dtype=np.float64)
    n = table.num_rows
    out = pa.table(
        {
            "patient_id": pc.cast(table["patient_id"], pa.string()),
            "as_of": pc.cast(table["as_of"], pa.date32()),
            column: pa.array(values, pa.float64()),
            "model_name": pa.array([name or "unregistered"] * n, pa.string()),
            "model_version": pa.array([version or ""] * n, pa.string()),
        },
        schema=schema,
    )
    out = out.sort_by([("patient_id", "ascending"), ("as_of", "ascending")])
    logger.info(
        "%s: %d people with %s v%s",
        "scores" if column == "risk" else "expected bed days",
        n,
        name or "unregistered",
        version or "-",
    )
    return out


def score_spark(
    model, features, *, name: str | None = None, version: str | None = None
):
    """:func:`score` on Apache Spark: the same model, run on the executors.

    ``features`` is a Spark DataFrame of a feature table (the columns of
    :func:`riskstrat.features.build_features`). Its schema is checked against a
    registered model's on the driver; each executor then scores its partitions
    with the same LightGBM trees and calibration through ``mapInPandas`` (Arrow
    batches), so the numbers equal :func:`score`'s.

    Returns
    -------
    pyspark.sql.DataFrame
        ``SCORE_SCHEMA`` columns (not sorted: sort or join by key).
    """
    try:
        from pyspark.sql.pandas.types import to_arrow_schema
    except ImportError:
        raise ImportError(
            "Install riskstrat[spark] to score on Spark (pyspark, and Java 17)."
        ) from None
    check_features(model, to_arrow_schema(features.schema))
    if isinstance(model, LoadedModel):
        name, version = model.name, model.version
    estimator = model.model if isinstance(model, LoadedModel) else model
    label, tag = name or "unregistered", version or ""
    keys = list(ID_COLUMNS)

    def predict(batches):
        for frame in batches:
            risk = (
                estimator.predict_proba(frame.drop(columns=keys))[:, 1]
                if len(frame)
                else np.empty(0)
            )
            yield pd.DataFrame(
                {
                    "patient_id": frame["patient_id"],
                    "as_of": frame["as_of"],
                    "risk": risk.astype(np.float64),
                    "model_name": label,
                    "model_version": tag,
                }
            )

    schema = (
        "patient_id string, as_of date, risk double, model_name string, "
        "model_version string"
    )
    return features.mapInPandas(predict, schema=schema)
