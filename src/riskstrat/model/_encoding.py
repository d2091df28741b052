"""Turn a feature table into the numeric matrix a model sees, the same way each time."""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from riskstrat.exceptions import SchemaError

__all__ = ["ID_COLUMNS", "OTHER", "FrameEncoder", "feature_schema", "schema_diff"]

#: Columns that identify a row and are never model inputs.
ID_COLUMNS: tuple[str, ...] = ("patient_id", "as_of")

#: The category rarer values are pooled into. In brackets, because "other" is a
#: real value of ``sex``.
OTHER = "(other)"

#: A text column with more distinct values than this, and nearly one per person
#: (:data:`_IDENTIFIER_SHARE`), holds identifiers, not categories.
_IDENTIFIER_MIN_DISTINCT = 20
_IDENTIFIER_SHARE = 0.9


def _as_frame(X) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    if hasattr(X, "to_pandas"):  # pyarrow.Table
        return X.to_pandas()
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(
            f"X must be a 2-D table or array. Got {arr.ndim} dimension(s) instead."
        )
    return pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])


class FrameEncoder:
    """Learn column roles once (numeric or categorical) and encode tables identically.

    Numeric and boolean columns become float64 (missing stays NaN, which LightGBM
    handles natively); text columns become integer category codes over the
    categories seen in ``fit`` (unseen and missing values become NaN). Identifier
    columns (``patient_id``, ``as_of``) are dropped.

    A text column keeps at most ``max_categories`` categories, the most frequent
    (ties by value); the rarer values are pooled into one category,
    :data:`OTHER` (``"(other)"``), and are not stored, so a rare value (a
    person's own) never reaches ``model.json``. Once a column has pooled values,
    a value not seen in ``fit`` is encoded as :data:`OTHER` too. A text column
    whose values are unique per person (more than 20 distinct values, and at
    least 9 for every 10 people, counted on ``patient_id`` when there is one)
    is refused: it holds identifiers, not categories.

    Parameters
    ----------
    max_categories : int, default=200
        Categories kept per text column, besides :data:`OTHER`.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"locality": ["a", "a", "b", "c"]})
    >>> enc = FrameEncoder(max_categories=1).fit(X)
    >>> enc.categories_
    {'locality': ['a', '(other)']}
    >>> enc.transform(pd.DataFrame({"locality": ["a", "c", "z", None]})).ravel()
    array([ 0.,  1.,  1., nan])
    """

    def __init__(self, *, max_categories: int = 200) -> None:
        self.max_categories = max_categories

    def fit(self, X, *, exclude: Sequence[str] = ()) -> FrameEncoder:
        """Learn the columns and their categories from ``X``.

        Raises
        ------
        SchemaError
            A column holds dates, or a text column holds one value per person.
        """
        if (
            isinstance(self.max_categories, bool)
            or not isinstance(self.max_categories, int | np.integer)
            or self.max_categories < 1
        ):
            raise ValueError(
                "The `max_categories` parameter of FrameEncoder must be an int >= 1. "
                f"Got {self.max_categories!r} instead."
            )
        df = _as_frame(X)
        drop = set(ID_COLUMNS) | set(exclude)
        people = (
            int(df["patient_id"].nunique()) if "patient_id" in df.columns else len(df)
        )
        self.columns_ = [c for c in df.columns if c not in drop]
        self.categories_: dict[str, list[str]] = {}
        self.dtypes_: dict[str, str] = {}
        self.pooled_: list[str] = []
        for c in self.columns_:
            s = df[c]
            if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
                self.dtypes_[c] = "numeric"
            elif pd.api.types.is_datetime64_any_dtype(s):
                raise SchemaError(
                    f"Feature column {c!r} holds dates; turn it into a number "
                    "(e.g. days since) before modelling."
                )
            else:
                self.dtypes_[c] = "category"
                self.categories_[c] = self._categories(c, s, people)
        return self

    def _categories(self, name: str, s: pd.Series, people: int) -> list[str]:
        counts = s.dropna().astype(str).value_counts()
        if (
            len(counts) > _IDENTIFIER_MIN_DISTINCT
            and len(counts) >= _IDENTIFIER_SHARE * people
        ):
            raise SchemaError(
                f"Feature column {name!r} has {len(counts):,} distinct values for "
                f"{people:,} people: it holds identifiers (one per person), not "
                "categories. Drop it, or map it to a coarser grouping, before "
                "modelling."
            )
        if len(counts) <= self.max_categories:
            return sorted(counts.index.tolist())
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        self.pooled_.append(name)
        return [*sorted(v for v, _ in ranked[: self.max_categories]), OTHER]

    def transform(self, X) -> np.ndarray:
        """Encode ``X`` as a float64 matrix in the fitted column order."""
        df = _as_frame(X)
        missing = [c for c in self.columns_ if c not in df.columns]
        if missing:
            raise SchemaError(
                f"The feature table lacks {len(missing)} column(s) the model was "
                f"trained on: {missing}."
            )
        out = np.empty((len(df), len(self.columns_)), dtype=np.float64)
        for j, c in enumerate(self.columns_):
            s = df[c]
            if self.dtypes_[c] == "numeric":
                out[:, j] = pd.to_numeric(s, errors="coerce").astype("float64")
            else:
                index = pd.Index(self.categories_[c], dtype=object)
                text = [None if pd.isna(v) else str(v) for v in s.to_numpy()]
                codes = index.get_indexer(np.asarray(text, dtype=object))
                codes = codes.astype(np.float64)
                unseen = codes < 0
                if c in self.pooled_:  # values not kept are the pooled category
                    present = np.array([t is not None for t in text], dtype=bool)
                    codes[unseen & present] = len(index) - 1
                    unseen &= ~present
                codes[unseen] = np.nan
                out[:, j] = codes
        return out

    @property
    def categorical_indices_(self) -> list[int]:
        """Positions of the categorical columns in the encoded matrix."""
        return [j for j, c in enumerate(self.columns_) if self.dtypes_[c] == "category"]

    def to_dict(self) -> dict:
        """JSON-ready description (enough to rebuild the encoder)."""
        return {
            "columns": list(self.columns_),
            "dtypes": dict(self.dtypes_),
            "categories": dict(self.categories_),
            "pooled": list(self.pooled_),
            "max_categories": self.max_categories,
        }

    @classmethod
    def from_dict(cls, d: dict) -> FrameEncoder:
        """Rebuild an encoder written by :meth:`to_dict`."""
        enc = cls(max_categories=int(d.get("max_categories", 200)))
        enc.columns_ = list(d["columns"])
        enc.dtypes_ = dict(d["dtypes"])
        enc.categories_ = {k: list(v) for k, v in d["categories"].items()}
        enc.pooled_ = list(d.get("pooled", []))  # none in files written before
        return enc


def feature_schema(X) -> dict:
    """Names and Arrow types of a feature table, in order, with a hash of them.

    Key columns (``patient_id``, ``as_of``) are left out: they identify rows.
    Give the Arrow schema (or table) the feature builder returns — it is the
    same on every engine and for every population, whereas pandas dtypes change
    with the data (an integer column with a missing value becomes float64).

    Examples
    --------
    >>> import pyarrow as pa
    >>> s = feature_schema(
    ...     pa.schema([("patient_id", pa.string()), ("age", pa.int64())]))
    >>> s["columns"]
    [{'name': 'age', 'type': 'int64'}]
    >>> len(s["hash"])
    64
    """
    if isinstance(X, pa.Table):
        schema = X.schema
    elif isinstance(X, pa.Schema):
        schema = X
    else:
        schema = pa.Schema.from_pandas(_as_frame(X), preserve_index=False)
    cols = [
        {"name": f.name, "type": str(f.type)}
        for f in schema
        if f.name not in ID_COLUMNS
    ]
    digest = hashlib.sha256(json.dumps(cols, sort_keys=True).encode()).hexdigest()
    return {"columns": cols, "hash": digest}


def schema_diff(expected: dict, found: dict) -> str:
    """A readable diff of two :func:`feature_schema` results ('' when equal).

    Examples
    --------
    >>> import pyarrow as pa
    >>> a = feature_schema(pa.schema([("age", pa.int64()), ("sex", pa.string())]))
    >>> b = feature_schema(pa.schema([("age", pa.float64()), ("sex", pa.string())]))
    >>> print(schema_diff(a, b))
    --- trained on
    +++ given
    @@ -1 +1 @@
    -age: int64
    +age: double
    """
    if expected["hash"] == found["hash"]:
        return ""

    def lines(s: dict) -> list[str]:
        return [f"{c['name']}: {c.get('type', c.get('dtype'))}" for c in s["columns"]]

    return "\n".join(
        difflib.unified_diff(
            lines(expected), lines(found), "trained on", "given", n=0, lineterm=""
        )
    )
