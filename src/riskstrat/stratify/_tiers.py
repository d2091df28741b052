"""Kaiser tiers and risk bands from a score table."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from riskstrat.stratify._settings import TIERS, StratifySettings

__all__ = ["assign_tiers", "share_above"]


def share_above(values: np.ndarray) -> np.ndarray:
    """Share of the non-NaN ``values`` strictly above each value (NaN for NaN).

    Examples
    --------
    >>> share_above(np.array([0.1, 0.5, 0.5, 0.9])).tolist()
    [0.75, 0.25, 0.25, 0.0]
    """
    values = np.asarray(values, dtype=float)
    known = ~np.isnan(values)
    ordered = np.sort(values[known])
    n = ordered.size
    out = np.full(values.shape, np.nan)
    if n:
        higher = n - np.searchsorted(ordered, values[known], side="right")
        out[known] = higher / n
    return out


def _band_labels(bands: tuple[float, ...]) -> list[str]:
    return [f"top {b * 100:g}%" for b in bands] + [f"below top {bands[-1] * 100:g}%"]


def assign_tiers(
    scores: pa.Table, *, settings: StratifySettings | None = None
) -> pa.Table:
    """Add the Kaiser tier, the risk band and the share above to a score table.

    Parameters
    ----------
    scores : pyarrow.Table
        At least ``patient_id`` and ``risk`` (float, calibrated probability;
        null = not scored). Percentiles are taken over the rows given: pass the
        eligible population of one ``as_of``.
    settings : StratifySettings, default=None
        Cut points (``cut_by``, ``case_management_cut``,
        ``disease_management_cut``) and ``risk_bands``.

    Returns
    -------
    pyarrow.Table
        ``scores`` with three columns added: ``share_above`` (share of scored
        people with a strictly higher risk), ``tier`` (``case_management``,
        ``disease_management``, ``supported_self_care``) and ``risk_band``
        (``"top 5%"``...). All three are null where ``risk`` is null.

    Notes
    -----
    With ``cut_by="percentile"`` a person is in the case-management tier when the
    share of people with a strictly higher risk is below ``1 -
    case_management_cut``; people tied at the cut therefore share a tier, and the
    tier may hold a little more than the nominal share when scores tie.

    Examples
    --------
    >>> t = pa.table({"patient_id": list("abcd"), "risk": [0.9, 0.5, 0.2, None]})
    >>> s = StratifySettings(case_management_cut=0.7, disease_management_cut=0.4)
    >>> assign_tiers(t, settings=s)["tier"].to_pylist()
    ['case_management', 'disease_management', 'supported_self_care', None]
    >>> assign_tiers(t, settings=s)["risk_band"].to_pylist()
    ['top 1%', 'below top 30%', 'below top 30%', None]
    """
    settings = StratifySettings() if settings is None else settings
    for column in ("patient_id", "risk"):
        if column not in scores.column_names:
            raise ValueError(
                f"assign_tiers: the scores table has no `{column}` column. "
                f"Found: {scores.column_names}."
            )
    risk = pc.cast(scores["risk"], pa.float64()).to_numpy(zero_copy_only=False)
    risk = np.asarray(risk, dtype=float)
    above = share_above(risk)
    known = ~np.isnan(risk)
    if settings.cut_by == "percentile":
        # 1 - 0.95 is 0.05000000000000004: compare with the share rounded.
        cm = above < round(1 - settings.case_management_cut, 9) - 1e-12
        dm = above < round(1 - settings.disease_management_cut, 9) - 1e-12
    else:
        cm = risk >= settings.case_management_cut
        dm = risk >= settings.disease_management_cut
    tier_index = np.where(cm, 0, np.where(dm, 1, 2))
    tiers = np.array(TIERS, dtype=object)[tier_index]
    labels = np.array(_band_labels(settings.risk_bands), dtype=object)
    band_index = np.searchsorted(
        np.asarray(settings.risk_bands) - 1e-12, np.nan_to_num(above), side="right"
    )
    bands = labels[band_index]
    mask = pa.array(~known)
    out = scores
    for name, values in (
        ("share_above", pa.array(above, pa.float64(), mask=~known)),
        ("tier", pa.array(tiers, pa.string(), mask=mask.to_numpy(False))),
        ("risk_band", pa.array(bands, pa.string(), mask=mask.to_numpy(False))),
    ):
        if name in out.column_names:
            out = out.drop_columns([name])
        out = out.append_column(name, values)
    return out
