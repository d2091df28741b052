"""How strong a hidden difference would have to be to explain an estimate away.

Matching and the difference in differences remove what the records show and
what is stable in a person's rates; they cannot remove a difference the records
do not show that acts only after the enrolment date — a programme that enrols
the frailer of two people with the same record (decision 0016). On the
synthetic benchmark that selection biases the matched estimate by about a third
of its standard error. What an evaluator can report is how strong such a
difference would have to be: the E-value (VanderWeele and Ding 2017), the
smallest rate ratio that a hidden characteristic would need with both
enrolment and the outcome, each, to move the estimated rate ratio to 1 (or its
confidence limit nearest 1 to 1). An E-value near 1 means a weak hidden
difference could explain the result; a large one that only a strong one could.
"""

from __future__ import annotations

import math

__all__ = ["e_value"]


def _one(rr: float) -> float:
    if not (isinstance(rr, int | float) and math.isfinite(rr)) or rr <= 0:
        return float("nan")
    r = 1.0 / rr if rr < 1 else float(rr)
    return r + math.sqrt(r * (r - 1.0))


def e_value(
    rate_ratio: float, ci_low: float | None = None, ci_high: float | None = None
) -> tuple[float, float]:
    """E-values of a rate ratio and of its confidence limit nearest 1.

    Parameters
    ----------
    rate_ratio : float
        The enrolled's rate over their counterfactual rate (``1 + relative``
        in ``impact_estimates``).
    ci_low, ci_high : float, optional
        Its 95 % confidence limits (rate ratios).

    Returns
    -------
    (float, float)
        The E-value of the estimate, and of the limit nearest 1: 1.0 when the
        interval contains 1, NaN when no interval is given or the limit is not
        a positive ratio (a bootstrap limit below -100 %).

    Examples
    --------
    A rate ratio of 0.8 with a CI of 0.65 to 0.98:

    >>> [round(v, 2) for v in e_value(0.8, 0.65, 0.98)]
    [1.81, 1.16]

    An interval that contains 1 can be explained away by no hidden difference:

    >>> [round(v, 2) for v in e_value(1.1, 0.9, 1.3)]
    [1.43, 1.0]
    """
    point = _one(rate_ratio)
    if ci_low is None or ci_high is None:
        return point, float("nan")
    lo, hi = float(ci_low), float(ci_high)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return point, float("nan")
    if lo <= 1.0 <= hi:
        return point, 1.0
    return point, _one(hi if hi < 1.0 else lo)
