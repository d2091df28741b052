"""The training distribution saved with a model, and the population stability index.

A nightly run compares the scores and features it sees with those the model was
trained on. What is saved is aggregate only: for each numeric column its decile
edges and the share of training rows in each bin (plus the share missing); for
each text column the share of each level seen at least :data:`MIN_CELL` times
(rarer levels pooled as ``"other"``). No row, and no cell under
:data:`MIN_CELL` people, is stored.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["MIN_CELL", "psi", "reference_distribution"]

#: Smallest number of people a stored share may describe.
MIN_CELL = 5
_EPS = 1e-4
_MISSING = "__missing__"
_OTHER = "__other__"


def _numeric_entry(values: np.ndarray) -> dict:
    known = values[~np.isnan(values)]
    if known.size < MIN_CELL:
        return {"kind": "numeric", "edges": [], "shares": [], "missing": 1.0}
    edges = np.unique(np.quantile(known, np.linspace(0.1, 0.9, 9)))
    counts = np.bincount(
        np.searchsorted(edges, known, side="right"), minlength=len(edges) + 1
    )
    return {
        "kind": "numeric",
        "edges": [float(e) for e in edges],
        "shares": [float(c) / len(values) for c in counts],
        "missing": float(np.isnan(values).sum()) / len(values),
    }


def _text_entry(values: pd.Series) -> dict:
    text = values.astype(object).where(values.notna(), _MISSING).astype(str)
    counts = text.value_counts()
    rare = counts[counts < MIN_CELL]
    kept = counts[counts >= MIN_CELL]
    shares = {str(k): float(v) / len(text) for k, v in sorted(kept.items())}
    if len(rare):
        shares[_OTHER] = float(rare.sum()) / len(text)
    return {"kind": "text", "shares": shares}


def reference_distribution(frame: pd.DataFrame, columns, risk) -> dict:
    """Aggregate training distribution of ``columns`` of ``frame`` and of ``risk``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> f = pd.DataFrame({"age": np.arange(100), "sex": ["f", "m"] * 50})
    >>> ref = reference_distribution(f, ["age", "sex"], np.linspace(0, 1, 100))
    >>> sorted(ref), ref["columns"]["sex"]["shares"]
    (['columns', 'n', 'risk'], {'f': 0.5, 'm': 0.5})
    >>> round(psi(ref["columns"]["age"], f["age"]), 6)
    0.0
    """
    entries: dict[str, dict] = {}
    for c in columns:
        s = frame[c]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            entries[c] = _numeric_entry(
                pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            )
        else:
            entries[c] = _text_entry(s)
    return {
        "n": len(frame),
        "columns": entries,
        "risk": _numeric_entry(np.asarray(risk, dtype=float)),
    }


def _shares(entry: dict, values) -> tuple[np.ndarray, np.ndarray]:
    """Expected (training) and actual shares over the same cells."""
    if entry["kind"] == "numeric":
        v = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )
        n = max(len(v), 1)
        known = v[~np.isnan(v)]
        edges = np.asarray(entry["edges"], dtype=float)
        counts = np.bincount(
            np.searchsorted(edges, known, side="right"), minlength=len(edges) + 1
        )
        expected = np.append(np.asarray(entry["shares"]), entry["missing"])
        actual = np.append(counts / n, np.isnan(v).sum() / n)
        if not entry["shares"]:  # too few known values at training: missing only
            expected, actual = np.array([1.0]), np.array([np.isnan(v).mean()])
        return expected, actual
    s = pd.Series(values).astype(object)
    text = s.where(s.notna(), _MISSING).astype(str)
    levels = [k for k in entry["shares"] if k != _OTHER]
    known = text.isin(levels)
    counts = text[known].value_counts()
    n = max(len(text), 1)
    expected = np.array(
        [entry["shares"][k] for k in levels] + [entry["shares"].get(_OTHER, 0.0)]
    )
    actual = np.array([counts.get(k, 0) / n for k in levels] + [(~known).sum() / n])
    return expected, actual


def psi(entry: dict, values) -> float:
    """Population stability index of ``values`` against a saved distribution.

    ``sum((a - e) * ln(a / e))`` over the saved cells (shares floored at 1e-4).
    Read it as: < 0.1 stable, 0.1-0.2 some shift, > 0.2 a shift worth a look.
    """
    e, a = _shares(entry, values)
    e = np.clip(e, _EPS, None)
    a = np.clip(a, _EPS, None)
    return float(np.sum((a - e) * np.log(a / e)))
