"""Exceptions and warnings raised by riskstrat.

Few classes, each with a meaning a caller can act on.
"""

__all__ = [
    "DataQualityWarning",
    "LeakageError",
    "SchemaError",
    "StatisticalWarning",
]


class SchemaError(ValueError):
    """A table or a required column is missing, or a column has the wrong type.

    Raised at the edge (``riskstrat.sources``) before anything downstream runs. The
    message names the table and file and shows expected against found columns.
    """


class LeakageError(ValueError):
    """A computation would use information from on or after its ``as_of`` date."""


class DataQualityWarning(UserWarning):
    """Input data was accepted but something about it deserves a look."""


class StatisticalWarning(RuntimeWarning):
    """A statistical result is unreliable (for example too few matched controls)."""
