"""Watching the model each night: drift against training, and realised accuracy.

Each scoring run writes ``monitoring.parquet``: the population stability index
(PSI) of the score and of every feature against the training distribution saved
with the model, the share of people above the case-management cut, and — once a
run at least a year older exists, so its outcomes have matured — that run's
realised AUROC, calibration slope and observed/expected ratio. Values outside
the limits are flagged (PSI > 0.2; O/E outside 0.8-1.25).
"""

from __future__ import annotations

import datetime as dt
import logging

import numpy as np
import pandas as pd
import pyarrow as pa

from riskstrat.model import psi

__all__ = ["MONITORING_SCHEMA", "OE_LIMITS", "PSI_LIMIT", "monitoring_table"]

logger = logging.getLogger(__name__)

PSI_LIMIT = 0.2
OE_LIMITS = (0.8, 1.25)

MONITORING_SCHEMA = pa.schema(
    [
        ("measure", pa.string()),
        ("name", pa.string()),
        ("value", pa.float64()),
        ("limit", pa.string()),
        ("flag", pa.bool_()),
        ("note", pa.string()),
    ]
)


def _row(measure, name, value, limit="", flag=False, note="") -> dict:
    return {
        "measure": measure,
        "name": name,
        "value": None if value is None or np.isnan(value) else float(value),
        "limit": limit,
        "flag": bool(flag),
        "note": note,
    }


def monitoring_table(
    reference: dict,
    features: pa.Table,
    scores: pa.Table,
    *,
    cut: float | None = None,
    matured: tuple[dt.date, pd.DataFrame] | None = None,
) -> pa.Table:
    """Drift and realised-accuracy measures of one run (``MONITORING_SCHEMA``).

    Parameters
    ----------
    reference : dict
        The model's saved training distribution (``LoadedModel.reference``).
    features, scores : pyarrow.Table
        This run's features and scores.
    cut : float, optional
        The case-management cut on the risk; its share above is reported.
    matured : (date, DataFrame), optional
        An older run's date and its scores joined to the outcomes since
        (columns ``risk`` and ``label``, known outcomes only).
    """
    rows = []
    if reference.get("risk"):
        value = psi(reference["risk"], scores["risk"].to_numpy())
        rows.append(_row("psi", "risk", value, f"<= {PSI_LIMIT}", value > PSI_LIMIT))
    frame = features.to_pandas()
    for name, entry in sorted(reference.get("columns", {}).items()):
        if name not in frame.columns:
            rows.append(_row("psi", name, None, note="column not in this run"))
            continue
        value = psi(entry, frame[name])
        rows.append(_row("psi", name, value, f"<= {PSI_LIMIT}", value > PSI_LIMIT))
    if cut is not None:
        share = float((scores["risk"].to_numpy() >= cut).mean()) if len(scores) else 0
        rows.append(_row("share_above_cut", "risk", share, note=f"cut {cut:.4f}"))
    if matured is not None:
        rows += _realised(*matured)
    else:
        rows.append(
            _row("realised", "auroc", None, note="no run a year older: not yet")
        )
    out = pa.Table.from_pylist(rows, schema=MONITORING_SCHEMA)
    flagged = [r for r in rows if r["flag"]]
    for r in flagged:
        logger.warning(
            "monitoring: %s of %s is %.3f (limit %s)",
            r["measure"],
            r["name"],
            r["value"],
            r["limit"],
        )
    return out


def _realised(day: dt.date, frame: pd.DataFrame) -> list[dict]:
    from riskstrat.report import evaluate

    note = f"run of {day}, {len(frame):,} people with known outcomes"
    y = frame["label"].to_numpy(dtype=int)
    if len(frame) < 50 or y.min() == y.max():
        return [_row("realised", "auroc", None, note=note + ": too few to judge")]
    ev = evaluate(y, frame["risk"].to_numpy(), n_bootstraps=0)
    oe = ev.metric("observed_expected")
    lo, hi = OE_LIMITS
    return [
        _row("realised", "auroc", ev.metric("auroc"), note=note),
        _row(
            "realised", "calibration_slope", ev.metric("calibration_slope"), note=note
        ),
        _row(
            "realised",
            "observed_expected",
            oe,
            f"{lo}-{hi}",
            not lo <= oe <= hi,
            note,
        ),
    ]
