"""Settings of a model: who is in the cohort, when, and how the model is fitted.

Kept apart (after OHDSI PatientLevelPrediction): the cohort decides who is scored,
the temporal design decides the index dates, the model settings decide how it is
fitted. One :class:`ModelDesign` bundles them and is saved with every run as
``model_design.json``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from riskstrat.features import FeatureSpec

__all__ = ["CohortSettings", "ModelDesign", "TemporalDesign"]


@dataclass(frozen=True, kw_only=True)
class CohortSettings:
    """Who is in the cohort on an index date.

    Everyone alive and registered on ``as_of`` (the feature builder's rows), then
    restricted to ages ``[min_age, max_age]``.

    Parameters
    ----------
    min_age : int, default=18
    max_age : int or None, default=None
    outcome : {"emergency_admission", "composite"}, default="emergency_admission"
        The label: any emergency admission in the horizon, or the composite of
        emergency admission or death (as SPARRA uses).
    """

    min_age: int = 18
    max_age: int | None = None
    outcome: Literal["emergency_admission", "composite"] = "emergency_admission"

    def __post_init__(self) -> None:
        if not 0 <= self.min_age <= 120:
            raise ValueError(
                "The `min_age` parameter of CohortSettings must be in [0, 120]. "
                f"Got {self.min_age!r} instead."
            )
        if self.max_age is not None and self.max_age < self.min_age:
            raise ValueError(
                f"`max_age` ({self.max_age}) must be >= `min_age` ({self.min_age})."
            )
        if self.outcome not in ("emergency_admission", "composite"):
            raise ValueError(
                "The `outcome` parameter of CohortSettings must be "
                "'emergency_admission' or 'composite'. "
                f"Got {self.outcome!r} instead."
            )


@dataclass(frozen=True, kw_only=True)
class TemporalDesign:
    """Index dates: train on snapshots, calibrate and test on later ones.

    Training features are as of each date in ``train_as_of`` with labels in
    ``[T, T + horizon)``; the test date must be at least ``horizon_days`` after
    the last training date, so no label window of training overlaps the test
    history's outcome window.

    Parameters
    ----------
    train_as_of : tuple of datetime.date
        One or more training snapshots (stacked).
    test_as_of : datetime.date
    horizon_days : int, default=365
    calibration_share : float, default=0.25
        Share of the last training snapshot's people (by patient, seeded) held
        out of LightGBM fitting to fit the calibrator.
    """

    train_as_of: tuple[dt.date, ...]
    test_as_of: dt.date
    horizon_days: int = 365
    calibration_share: float = 0.25

    def __post_init__(self) -> None:
        if not self.train_as_of:
            raise ValueError("`train_as_of` must hold at least one date.")
        if self.horizon_days < 1:
            raise ValueError(
                f"`horizon_days` must be >= 1. Got {self.horizon_days!r} instead."
            )
        gap = (self.test_as_of - max(self.train_as_of)).days
        if gap < self.horizon_days:
            raise ValueError(
                f"The test date {self.test_as_of} is only {gap} days after the last "
                f"training date {max(self.train_as_of)}; it must be at least "
                f"horizon_days={self.horizon_days} later so label windows of "
                "training and test do not overlap."
            )
        if not 0 < self.calibration_share < 1:
            raise ValueError(
                "The `calibration_share` parameter must be in (0, 1). "
                f"Got {self.calibration_share!r} instead."
            )


@dataclass(frozen=True, kw_only=True)
class ModelDesign:
    """Everything needed to refit a model: cohort, dates, features, model settings.

    Parameters
    ----------
    cohort : CohortSettings
    temporal : TemporalDesign
    model_params : dict
        ``RiskModel`` parameters (``get_params()``). Those the two LightGBM
        models share (learning rate, depth, leaves, trees, early stopping...)
        apply to the bed-days model too.
    bed_days_params : dict
        ``BedDaysModel`` parameters over the shared ones of ``model_params``
        (e.g. ``tweedie_variance_power``).
    enrolled_time : {"censor", "keep"}, default="censor"
        Person-time under case management in training labels (decision 0017).
        ``"censor"``: people enrolled on a training date are left out, and a
        label window that an enrolment interrupts is censored at the enrolment
        date — an event before it counts, the untreated rest of the window is
        imputed from a first fit (constant hazard). ``"keep"``: labels as
        recorded, treated time included (the naive model: it under-predicts
        the untreated risk of the people a programme enrols).
    calibration : {"isotonic", "sigmoid"}, default="sigmoid"
    feature_spec : FeatureSpec, default=FeatureSpec()
        The feature specification training features are built with. It is saved
        with the model, and scoring rebuilds features from it (a model refuses
        features whose names, types or order differ from those it was trained
        on).
    random_state : int, default=0
    """

    cohort: CohortSettings
    temporal: TemporalDesign
    model_params: dict[str, Any] = field(default_factory=dict)
    bed_days_params: dict[str, Any] = field(default_factory=dict)
    enrolled_time: Literal["censor", "keep"] = "censor"
    calibration: Literal["isotonic", "sigmoid"] = "sigmoid"
    feature_spec: FeatureSpec = field(default_factory=FeatureSpec)
    random_state: int = 0

    def __post_init__(self) -> None:
        if self.enrolled_time not in ("censor", "keep"):
            raise ValueError(
                "The `enrolled_time` parameter of ModelDesign must be 'censor' or "
                f"'keep'. Got {self.enrolled_time!r} instead."
            )
        if not isinstance(self.feature_spec, FeatureSpec):
            raise TypeError(
                "The `feature_spec` parameter of ModelDesign must be a "
                "riskstrat.features.FeatureSpec. Got "
                f"{type(self.feature_spec).__name__} instead."
            )

    def to_json(self) -> str:
        """The design as JSON (dates as ISO strings)."""

        def default(o: object) -> str:
            if isinstance(o, dt.date):
                return o.isoformat()
            raise TypeError(f"cannot serialise {type(o).__name__}")

        return json.dumps(asdict(self), default=default, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelDesign:
        """Rebuild a design written by :meth:`to_json`."""
        d = json.loads(text)
        t = d["temporal"]
        return cls(
            cohort=CohortSettings(**d["cohort"]),
            temporal=TemporalDesign(
                train_as_of=tuple(dt.date.fromisoformat(x) for x in t["train_as_of"]),
                test_as_of=dt.date.fromisoformat(t["test_as_of"]),
                horizon_days=t["horizon_days"],
                calibration_share=t["calibration_share"],
            ),
            model_params=d["model_params"],
            bed_days_params=d.get("bed_days_params") or {},
            # Designs saved before the choice existed were trained on all time.
            enrolled_time=d.get("enrolled_time", "keep"),
            calibration=d["calibration"],
            feature_spec=FeatureSpec.from_dict(d.get("feature_spec") or {}),
            random_state=d["random_state"],
        )
