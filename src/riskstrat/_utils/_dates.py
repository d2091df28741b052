"""Checks of dates given as arguments (not data: data dates are checked in sources)."""

from __future__ import annotations

import datetime as dt

__all__ = ["EARLIEST", "LATEST", "check_date"]

#: Dates outside ``[EARLIEST, LATEST]`` are refused: no record is older, and
#: windows of a few years after the latest still fit in a ``datetime.date``.
EARLIEST = dt.date(1900, 1, 1)
LATEST = dt.date(2200, 12, 31)


def check_date(value: object, name: str = "as_of") -> dt.date:
    """``value`` if it is a ``datetime.date`` (not a datetime) within range.

    Examples
    --------
    >>> check_date(dt.date(2024, 4, 1))
    datetime.date(2024, 4, 1)
    >>> check_date(dt.date(9999, 12, 31))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: `as_of` must be between 1900-01-01 and 2200-12-31. Got 9999-12-31 ...
    """
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise TypeError(f"`{name}` must be a datetime.date. Got {value!r} instead.")
    if not EARLIEST <= value <= LATEST:
        raise ValueError(
            f"`{name}` must be between {EARLIEST} and {LATEST}. Got {value} instead."
        )
    return value
