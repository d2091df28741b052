"""The feature specification: windows, lookbacks and thresholds, validated once."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["FeatureSpec"]


@dataclass(frozen=True, kw_only=True)
class FeatureSpec:
    """Windows and thresholds of the features (windows end the day before ``as_of``).

    Every window of ``d`` days is the half-open interval ``[as_of - d, as_of)``.

    Parameters
    ----------
    windows_days : tuple of int, default=(91, 182, 365, 730)
        Windows for emergency admissions and bed days (3, 6, 12, 24 months).
    frailty_days : int, default=365
        Window of the seed's frail-elderly indicators.
    comorbidity_days : int, default=730
        Lookback of Charlson and Elixhauser conditions.
    drug_days : int, default=90
        Window for distinct drugs and BNF chapters.
    nomination_days : int, default=365
        Window in which a clinician nomination counts for the rule.
    polypharmacy_threshold : int, default=5
        Distinct drugs that meet the seed's multiple-prescriptions rule.
    rule_min_age : int, default=65
        The seed's case-finding rules apply from this age.
    nausea_over_age : int, default=70
        R11 (nausea and vomiting) counts only when age is over this.
    """

    windows_days: tuple[int, ...] = (91, 182, 365, 730)
    frailty_days: int = 365
    comorbidity_days: int = 730
    drug_days: int = 90
    nomination_days: int = 365
    polypharmacy_threshold: int = 5
    rule_min_age: int = 65
    nausea_over_age: int = 70

    def __post_init__(self) -> None:
        w = self.windows_days
        if (
            not w
            or any(not isinstance(d, int) or d < 1 for d in w)
            or list(w) != sorted(set(w))
        ):
            raise ValueError(
                "The `windows_days` parameter of FeatureSpec must be increasing "
                f"positive ints. Got {w!r} instead."
            )
        for name in (
            "frailty_days",
            "comorbidity_days",
            "drug_days",
            "nomination_days",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"The `{name}` parameter of FeatureSpec must be an int >= 1. "
                    f"Got {value!r} instead."
                )
        if self.polypharmacy_threshold < 1:
            raise ValueError(
                "The `polypharmacy_threshold` parameter of FeatureSpec must be >= 1. "
                f"Got {self.polypharmacy_threshold!r} instead."
            )

    @property
    def window_names(self) -> tuple[str, ...]:
        """Suffixes of the windowed features: ``3m``, ``6m``, ``12m``, ``24m``."""
        return tuple(_name(d) for d in self.windows_days)

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain data (for ``model_design.json``)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FeatureSpec:
        """Rebuild a spec written by :meth:`to_dict` (missing keys take defaults).

        Examples
        --------
        >>> spec = FeatureSpec(windows_days=(30, 365))
        >>> FeatureSpec.from_dict(spec.to_dict()) == spec
        True
        """
        unknown = sorted(set(d) - set(cls.__dataclass_fields__))
        if unknown:
            raise ValueError(f"Unknown FeatureSpec setting(s): {unknown}.")
        values = dict(d)
        if "windows_days" in values:
            values["windows_days"] = tuple(values["windows_days"])
        return cls(**values)


def _name(days: int) -> str:
    months = {91: 3, 182: 6, 365: 12, 730: 24, 1095: 36}
    return f"{months[days]}m" if days in months else f"{days}d"
