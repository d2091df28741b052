"""The regression adjustment's fit: weighted ridge, penalty by leave-one-out.

The matched controls' rate per person-year is regressed on the covariates that
matching left unequal (Abadie and Imbens 2011). With few matched sets an
ordinary least-squares fit of nine correlated covariates overfits — on a
5,000-person population 55 control people carried ten coefficients, last
year's and two years' admissions came out at -2.5 and +2.1, and the adjustment
moved the controls' rate by +0.9 admissions a person-year — and the bootstrap,
which refits it in every replicate, gave intervals of +-5 admissions. A ridge
penalty on the standardised covariates (the intercept is not penalised), chosen
to minimise the exact leave-one-out prediction error (each row's residual over
one minus its leverage, weighted), shrinks such a fit towards no adjustment and
leaves a well-determined one nearly as least squares would (on 20,000 people,
where the estimate moved by less than 0.01 on average). Generalised
cross-validation, which averages the leverages, kept the overfitted fit: a few
heavy users drive it (decision 0022).
"""

from __future__ import annotations

import numpy as np

__all__ = ["fit_adjustment"]

#: Penalties tried, relative to the mean eigenvalue of the standardised design.
_GRID = np.concatenate([[0.0], np.logspace(-4, 3, 36)])


def fit_adjustment(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Slopes of a weighted ridge regression of ``y`` on ``x``.

    Parameters
    ----------
    x : ndarray, shape (n, p)
        Covariates (any scale: each is standardised with the weights).
    y : ndarray, shape (n,)
        Outcome (a rate per person-year).
    w : ndarray, shape (n,)
        Non-negative weights (a pair's weight times its person-days).

    Returns
    -------
    ndarray, shape (p,)
        Slopes on the original scale of ``x``; zeros when there are no more
        rows of positive weight than ``p + 1`` (the adjustment is then not made)
        and for a covariate that does not vary.

    Examples
    --------
    An exact linear relation is kept (the penalty chosen is 0):

    >>> x = np.arange(20, dtype=float)[:, None]
    >>> fit_adjustment(x, 3 * x[:, 0] + 1, np.ones(20)).round(6).tolist()
    [3.0]

    Pure noise on many covariates is shrunk towards no adjustment:

    >>> rng = np.random.default_rng(0)
    >>> xn, yn = rng.normal(size=(40, 8)), rng.normal(size=40)
    >>> ols = np.linalg.lstsq(np.column_stack([np.ones(40), xn]), yn, rcond=None)[0][1:]
    >>> bool(np.abs(fit_adjustment(xn, yn, np.ones(40))).sum() < np.abs(ols).sum() / 2)
    True
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.asarray(w, dtype=float)
    p = x.shape[1]
    beta = np.zeros(p)
    keep = w > 0
    n = int(keep.sum())
    if p == 0 or n <= p + 1:
        return beta
    x, y, w = x[keep], y[keep], w[keep]
    w = w / w.sum()
    xm = w @ x
    sd = np.sqrt(w @ (x - xm) ** 2)
    live = sd > 1e-12 * np.maximum(1.0, np.abs(xm))
    if not live.any():
        return beta
    sw = np.sqrt(w)[:, None]
    xs = (x[:, live] - xm[live]) / sd[live] * sw
    ys = (y - w @ y) * sw[:, 0]
    u, s, vt = np.linalg.svd(xs, full_matrices=False)
    rank = s > 1e-10 * s[0]  # drop directions the data do not span
    s, u, vt = s[rank], u[:, rank], vt[rank]
    s2 = s**2
    c = u.T @ ys
    lam = _GRID * s2.mean()
    d = s2[None, :] / (s2[None, :] + lam[:, None])  # (grid, rank)
    # leave-one-out residuals of each fit, exactly: e_i / (1 - h_ii), h_ii the
    # leverage of row i (its weight's share for the intercept, plus the slopes')
    resid = ys[None, :] - (d * c[None, :]) @ u.T  # (grid, n)
    lev = d @ (u**2).T + w[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        loo = np.where(lev < 1 - 1e-9, resid / (1 - lev), np.inf)
    press = (loo**2).sum(axis=1)
    best = lam[int(np.argmin(press))]
    coef = vt.T @ (s / (s2 + best) * c)
    beta[live] = coef / sd[live]
    return beta
