"""riskstrat: risk stratification and case finding for emergency hospital admissions.

Stages, in pipeline order: :mod:`riskstrat.sources` (canonical tables, validated at the
edge), :mod:`riskstrat.synth` (a synthetic population with known truth),
:mod:`riskstrat.features` (point-in-time features and labels).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
