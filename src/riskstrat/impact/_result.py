"""``ImpactResult``: what :func:`estimate_effect` found, as tidy tables."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from riskstrat._utils import write_parquet
from riskstrat.impact._settings import ImpactSettings

__all__ = ["OUTCOMES", "ImpactResult", "write_table"]

#: Outcomes, per person-year.
OUTCOMES = ("emergency_admissions", "emergency_bed_days")


def write_table(frame: pd.DataFrame, folder: Path, name: str) -> None:
    """``name.parquet`` and ``name.csv`` (same rows, deterministic bytes)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata(None)
    write_parquet(table, folder / f"{name}.parquet")
    pacsv.write_csv(table, folder / f"{name}.csv")


@dataclass(frozen=True, kw_only=True)
class ImpactResult:
    """The matched estimate beside the naive one, with how it was reached.

    Attributes
    ----------
    as_of, data_end : datetime.date
        The evaluation date, and the end of the data used (the earlier of it
        and the extract date).
    settings : ImpactSettings
    estimates : DataFrame
        One row per ``analysis`` (``matched``: the difference in differences;
        ``naive``: the enrolled's after minus before; ``placebo``) and
        ``outcome`` (per person-year): ``estimate``, ``ci_low``, ``ci_high``
        (bootstrap 95 %), the four pooled rates, ``relative`` (the estimate
        over the enrolled's counterfactual rate) with its CI, ``n_sets``, and
        on the matched rows ``e_value`` and ``e_value_ci``: the rate ratio a
        hidden difference would need with both enrolment and the outcome to
        explain the estimate (its CI limit nearest no effect) away
        (:func:`~riskstrat.impact.e_value`).
    balance : DataFrame
        Per variable: means of the enrolled, of all candidates and of the
        matched controls (weighted), and standardised mean differences before
        and after matching (pooled SD before matching as denominator).
    matched_sets : DataFrame
        ``patient_id`` (enrolled), ``enrol_date``, ``control_id``, ``rank``,
        ``distance`` (logit scale), ``weight`` (1 / controls in the set).
    enrolled : DataFrame
        Every evaluated enrolled person: ``enrol_date``, ``n_controls``,
        ``status`` (``matched`` or why not).
    score_model : object
        The model the matching score came from (not saved).
    spec : FeatureSpec
        Features of the score.
    """

    as_of: dt.date
    data_end: dt.date
    settings: ImpactSettings
    estimates: pd.DataFrame
    balance: pd.DataFrame
    matched_sets: pd.DataFrame
    enrolled: pd.DataFrame
    score_model: Any = field(default=None, repr=False, compare=False)
    spec: Any = field(default=None, repr=False, compare=False)

    @property
    def n_enrolled(self) -> int:
        """Enrolled people evaluated (enough follow-up before ``as_of``)."""
        return len(self.enrolled)

    @property
    def n_matched(self) -> int:
        """Enrolled people with at least one control."""
        return int((self.enrolled["n_controls"] > 0).sum())

    @property
    def n_unmatched(self) -> int:
        """Enrolled people with no control (reported in ``enrolled``)."""
        return self.n_enrolled - self.n_matched

    @property
    def controls_label(self) -> str:
        """Who the controls were, in words (for the headline and the figure)."""
        if self.settings.controls == "declined":
            return (
                "people who declined at a screening in the "
                f"{self.settings.declined_within_days} days up to the date"
            )
        return "people not enrolled by then"

    def get(self, analysis: str, outcome: str = "emergency_bed_days") -> dict:
        """The ``estimates`` row of one analysis and outcome, as a dict."""
        e = self.estimates
        row = e[(e["analysis"] == analysis) & (e["outcome"] == outcome)]
        if row.empty:
            raise KeyError(f"no estimate for {analysis!r}, {outcome!r}")
        return row.iloc[0].to_dict()

    @property
    def estimate(self) -> dict:
        """Matched difference in differences, by outcome: ``(est, lo, hi)``."""
        return {o: _tri(self.get("matched", o)) for o in OUTCOMES}

    @property
    def naive(self) -> dict:
        """Naive before/after of the enrolled, by outcome: ``(est, lo, hi)``."""
        return {o: _tri(self.get("naive", o)) for o in OUTCOMES}

    @property
    def placebo(self) -> dict:
        """Placebo difference in differences, by outcome: ``(est, lo, hi)``."""
        return {o: _tri(self.get("placebo", o)) for o in OUTCOMES}

    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write every table as Parquet and CSV, and ``impact_settings.json``."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        write_table(self.estimates, out, "impact_estimates")
        write_table(self.balance, out, "impact_balance")
        write_table(self.matched_sets, out, "impact_matched_sets")
        write_table(self.enrolled, out, "impact_enrolled")
        settings = {
            **dataclasses.asdict(self.settings),
            "as_of": self.as_of.isoformat(),
            "data_end": self.data_end.isoformat(),
            "n_enrolled": self.n_enrolled,
            "n_matched": self.n_matched,
            "n_unmatched": self.n_unmatched,
        }
        (out / "impact_settings.json").write_text(
            json.dumps(settings, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        return out


def _tri(row: dict) -> tuple[float, float, float]:
    return (row["estimate"], row["ci_low"], row["ci_high"])
