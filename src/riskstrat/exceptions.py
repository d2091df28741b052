"""Exceptions and warnings raised by riskstrat.

Few classes, each with a meaning a caller can act on.
"""

__all__ = [
    "DataQualityWarning",
    "LeakageError",
    "SchemaError",
    "StatisticalWarning",
    "UnreadableFileError",
]


class SchemaError(ValueError):
    """A table or a required column is missing, or a column has the wrong type.

    Raised at the edge (``riskstrat.sources``) before anything downstream runs. The
    message names the table and file and shows expected against found columns.
    """


class UnreadableFileError(SchemaError):
    """A source file cannot be read as a table at all.

    Not a folder or regular file, no permission to read it, bytes that are not in
    the expected text encoding, CSV bytes named ``.parquet``, a truncated or
    damaged Parquet file, a header line with no end. The message names the file
    (and the line or byte where reading stopped) but never the data in it, so it
    can go to a log. Rows that are merely malformed go to rejects instead.
    """


class LeakageError(ValueError):
    """A computation would use information from on or after its ``as_of`` date."""


class DataQualityWarning(UserWarning):
    """Input data was accepted but something about it deserves a look."""


class StatisticalWarning(RuntimeWarning):
    """A statistical result is unreliable (for example too few matched controls)."""
