"""Retraining without surprises: promote a challenger only if it is not worse.

A newly trained model (the challenger) is compared with the champion on the
latest year whose outcomes have matured, on the same people: the paired
bootstrap of the AUROC difference, and each model's calibration slope and
observed/expected ratio. The ``champion`` alias moves only when the challenger
is not worse beyond the set margins; the decision and its figures are logged to
MLflow. A nightly run pins the version it loaded, so a promotion never changes a
run in flight.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.metrics import roc_auc_score

from riskstrat.features import FeatureSpec, build_cohort
from riskstrat.model import (
    check_tracking_uri,
    default_tracking_uri,
    known_labels,
    load_model,
    score,
)
from riskstrat.report import evaluate
from riskstrat.sources import open_tables

__all__ = ["PromotionDecision", "PromotionSettings", "promote"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class PromotionSettings:
    """Margins a challenger must stay within to replace the champion.

    Parameters
    ----------
    auroc_margin : float, default=0.005
        The challenger is refused when the upper end of the 95 % CI of its AUROC
        minus the champion's is below ``-auroc_margin`` (worse beyond doubt).
    slope_limits : (float, float), default=(0.8, 1.2)
    oe_limits : (float, float), default=(0.8, 1.25)
    n_bootstraps : int, default=200
    random_state : int, default=0
    """

    auroc_margin: float = 0.005
    slope_limits: tuple[float, float] = (0.8, 1.2)
    oe_limits: tuple[float, float] = (0.8, 1.25)
    n_bootstraps: int = 200
    random_state: int = 0

    def __post_init__(self) -> None:
        if self.auroc_margin < 0:
            raise ValueError(
                "The `auroc_margin` parameter must be >= 0. "
                f"Got {self.auroc_margin!r} instead."
            )
        if self.n_bootstraps < 20:
            raise ValueError(
                "The `n_bootstraps` parameter must be >= 20. "
                f"Got {self.n_bootstraps!r} instead."
            )


@dataclass(frozen=True)
class PromotionDecision:
    """What :func:`promote` decided and why.

    Attributes
    ----------
    promoted : bool
    reasons : list of str
        Why not (empty when promoted).
    table : DataFrame
        One row per model and one for the difference: AUROC (with CI for the
        difference), calibration slope, O/E, people.
    as_of : datetime.date
        Index date of the matured year compared on.
    champion, challenger : str
        ``NAME/VERSION`` of each.
    """

    promoted: bool
    reasons: list[str]
    table: pd.DataFrame
    as_of: dt.date
    champion: str
    challenger: str


def _matured_date(extract: dt.date | None, horizon: int) -> dt.date:
    if extract is None:
        raise ValueError(
            "promote needs the extract date of the data to know which year's "
            "outcomes have matured; give it to open_tables (--extract-date)."
        )
    return extract - dt.timedelta(days=horizon)


def _paired_auroc(y, a, b, n: int, seed: int) -> tuple[float, float, float]:
    rng = np.random.default_rng(seed)
    diff = roc_auc_score(y, b) - roc_auc_score(y, a)
    draws = []
    for _ in range(n):
        i = rng.integers(0, len(y), len(y))
        if y[i].min() == y[i].max():
            continue
        draws.append(roc_auc_score(y[i], b[i]) - roc_auc_score(y[i], a[i]))
    lo, hi = np.percentile(draws, [2.5, 97.5])
    return float(diff), float(lo), float(hi)


def promote(
    tables,
    *,
    challenger: str,
    champion: str | None = None,
    as_of: dt.date | None = None,
    settings: PromotionSettings | None = None,
    tracking_uri: str | None = None,
    dry_run: bool = False,
) -> PromotionDecision:
    """Compare ``challenger`` with the champion and move the alias if not worse.

    Parameters
    ----------
    tables : opened tables or path-like
    challenger : str
        ``NAME@ALIAS`` or ``NAME/VERSION`` of the new model.
    champion : str, optional
        Default ``NAME@champion`` of the challenger's name.
    as_of : datetime.date, optional
        Index date of the comparison; default the latest with a full outcome
        year before the extract date.
    settings : PromotionSettings, optional
    tracking_uri : str, optional
    dry_run : bool, default=False
        Decide and log, but do not move the alias.

    Returns
    -------
    PromotionDecision
    """
    settings = settings or PromotionSettings()
    uri = check_tracking_uri(tracking_uri or default_tracking_uri(), must_exist=True)
    new = load_model(challenger, tracking_uri=uri)
    old = load_model(champion or f"{new.name}@champion", tracking_uri=uri)
    opened = open_tables(tables)
    horizon = old.design.temporal.horizon_days
    day = as_of or _matured_date(opened.extract_date, horizon)
    cohort = old.design.cohort
    cohorts: dict[FeatureSpec, pa.Table] = {}  # one build per distinct spec
    frames = []
    for loaded in (old, new):
        key = loaded.design.feature_spec  # frozen: equal specs, one key
        if key not in cohorts:
            cohorts[key] = build_cohort(
                opened,
                as_of=day,
                spec=loaded.design.feature_spec,
                min_age=cohort.min_age,
                max_age=cohort.max_age,
                horizon_days=horizon,
            )
        feats = cohorts[key]
        labels = feats.select(["patient_id", "as_of", f"label_{cohort.outcome}"])
        keep = [c for c in feats.column_names if not c.startswith("label_")]
        s = score(loaded, feats.select(keep)).to_pandas()
        frames.append(
            s.merge(labels.to_pandas(), on=["patient_id", "as_of"], validate="1:1")
        )
    logger.info("promote: %d cohort build(s) for %d models on %s", len(cohorts), 2, day)
    both = frames[0].merge(
        frames[1][["patient_id", "as_of", "risk"]],
        on=["patient_id", "as_of"],
        suffixes=("_champion", "_challenger"),
        validate="1:1",
    )
    both["label"] = both[f"label_{cohort.outcome}"].astype("boolean")
    both = known_labels(both, what=f"promotion year {day}")
    y = both["label"].to_numpy()
    rows: list[dict] = []
    reasons: list[str] = []
    for role in ("champion", "challenger"):
        ev = evaluate(y, both[f"risk_{role}"].to_numpy(), n_bootstraps=0)
        rows.append(
            {
                "model": role,
                "auroc": ev.metric("auroc"),
                "calibration_slope": ev.metric("calibration_slope"),
                "observed_expected": ev.metric("observed_expected"),
                "n": len(y),
            }
        )
    diff, lo, hi = _paired_auroc(
        y,
        both["risk_champion"].to_numpy(),
        both["risk_challenger"].to_numpy(),
        settings.n_bootstraps,
        settings.random_state,
    )
    rows.append(
        {
            "model": "challenger - champion",
            "auroc": diff,
            "auroc_ci_low": lo,
            "auroc_ci_high": hi,
            "n": len(y),
        }
    )
    table = pd.DataFrame(rows)
    if hi < -settings.auroc_margin:
        reasons.append(
            f"AUROC worse by {-diff:.4f} (95% CI of the difference {lo:.4f} to "
            f"{hi:.4f}, margin {settings.auroc_margin})"
        )
    slope = float(rows[1]["calibration_slope"])
    oe = float(rows[1]["observed_expected"])
    lo_s, hi_s = settings.slope_limits
    if not lo_s <= slope <= hi_s:
        reasons.append(f"calibration slope {slope:.2f} outside {lo_s}-{hi_s}")
    lo_o, hi_o = settings.oe_limits
    if not lo_o <= oe <= hi_o:
        reasons.append(f"observed/expected {oe:.2f} outside {lo_o}-{hi_o}")
    promoted = not reasons
    import mlflow

    mlflow.set_tracking_uri(uri)
    client = mlflow.MlflowClient(tracking_uri=uri)
    with mlflow.start_run(run_name=f"promote-{new.name}-v{new.version}"):
        mlflow.log_params(
            {
                "champion": old.uri,
                "challenger": new.uri,
                "as_of": day.isoformat(),
                "promoted": str(promoted and not dry_run),
            }
        )
        mlflow.log_metrics(
            {
                "auroc_difference": diff,
                "auroc_difference_ci_low": lo,
                "auroc_difference_ci_high": hi,
                "challenger_calibration_slope": slope,
                "challenger_observed_expected": oe,
            }
        )
        mlflow.set_tag("riskstrat.decision", "; ".join(reasons) or "not worse")
    if promoted and not dry_run:
        alias = "champion"
        client.set_registered_model_alias(new.name, alias, new.version)
        logger.info("promote: %s is now %s@%s", new.uri, new.name, alias)
    else:
        logger.info("promote: %s not promoted: %s", new.uri, "; ".join(reasons))
    return PromotionDecision(
        promoted=promoted,
        reasons=reasons,
        table=table,
        as_of=day,
        champion=f"{old.name}/{old.version}",
        challenger=f"{new.name}/{new.version}",
    )
