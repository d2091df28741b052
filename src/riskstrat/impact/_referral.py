"""How long ago each person became referable: the timing a matched control must share.

Case finding refers people when they *newly* meet a rule (DESIGN: "new patients
become eligible the day they meet a rule ... and must be picked up at the next
run"). On an enrolment date, most people who meet the rule and are not enrolled
met it months ago: they were screened then and declined, or were not picked up.
Their bad spell has had time to settle, so they regress to the mean further than
someone referred last week would. Matching on *how long ago* a person became
referable compares the newly referred with the newly referable (the timing of
an incident-user design), from the records alone.

Two clocks, both from events strictly before the date (nothing recorded on or
after it is read):

- ``days_since_eligible``: days since the current run of meeting the rule
  "``count`` or more emergency admissions in ``window_days`` days" began —
  the admission that brought the count to ``count`` after a time below it.
  Null when the rule is not met on the date.
- ``days_since_nominated``: days since the last clinician nomination. Null
  when there was none.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["ReferralHistory"]

_DAY = np.timedelta64(1, "D")


def _empty(*dates: str) -> pd.DataFrame:
    out = {"pid": pd.Series([], dtype=object)}
    for name in dates:
        out[name] = pd.Series([], dtype="datetime64[s]")
    return pd.DataFrame(out)


def _dates(column: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype="datetime64[D]")


class ReferralHistory:
    """Emergency admissions and nominations, read once, asked about any date.

    Parameters
    ----------
    admissions : pyarrow.Table
        ``patient_id``, ``admission_date`` and ``emergency`` (only ``true``
        counts: unknown urgency is not an emergency).
    nominations : pyarrow.Table, optional
        ``patient_id`` and ``date``; absent: every nomination clock is null.
    count : int, default=2
        Emergency admissions the rule needs ...
    window_days : int, default=365
        ... within this many days (the seed's "2+ admissions in 12 months").

    Examples
    --------
    >>> import datetime as dt
    >>> d = dt.date
    >>> adm = pa.table({
    ...     "patient_id": ["a", "a", "a", "b"],
    ...     "admission_date": [d(2022, 1, 1), d(2022, 3, 1), d(2022, 6, 1),
    ...                        d(2022, 5, 1)],
    ...     "emergency": [True, True, True, True]})
    >>> h = ReferralHistory(adm)
    >>> h.as_of(d(2022, 7, 1), ["a", "b", "c"])["days_since_eligible"].tolist()
    [121.0, nan, nan]
    """

    def __init__(
        self,
        admissions: pa.Table,
        nominations: pa.Table | None = None,
        *,
        count: int = 2,
        window_days: int = 365,
    ) -> None:
        if not isinstance(count, int) or count < 1:
            raise ValueError(f"`count` must be an int >= 1. Got {count!r} instead.")
        em = admissions.filter(pc.fill_null(admissions["emergency"], False))
        frame = pd.DataFrame(
            {
                "pid": em["patient_id"].to_numpy(zero_copy_only=False),
                "day": _dates(em["admission_date"]),
            }
        ).sort_values(["pid", "day"], kind="stable", ignore_index=True)
        self._runs = self._eligible_runs(frame, count, window_days)
        if nominations is None or nominations.num_rows == 0:
            self._nom = _empty("day")
        else:
            self._nom = pd.DataFrame(
                {
                    "pid": nominations["patient_id"].to_numpy(zero_copy_only=False),
                    "day": _dates(nominations["date"]),
                }
            )

    @staticmethod
    def _eligible_runs(frame: pd.DataFrame, count: int, window_days: int):
        """Intervals ``[start, end)`` on which a person meets the rule.

        The rule holds from the day after the ``count``-th admission of a
        window (events strictly before a date count on it) until the day the
        oldest of them leaves the window. Overlapping intervals of one person
        are merged into runs; a run's start is when the person became eligible.
        """
        pid, day = frame["pid"].to_numpy(), frame["day"].to_numpy()
        lag = count - 1
        if len(frame) <= lag:
            return _empty("start", "end")
        same = pid[lag:] == pid[:-lag] if lag else np.ones(len(pid), dtype=bool)
        admitted = day[lag:]
        oldest = day[:-lag] if lag else day
        f = pd.DataFrame(
            {
                "pid": pid[lag:][same],
                "start": admitted[same] + _DAY,
                "end": oldest[same] + np.timedelta64(window_days, "D") + _DAY,
            }
        )
        f = f[f["end"] > f["start"]]
        if f.empty:
            return _empty("start", "end")
        reach = f.groupby("pid", sort=False)["end"].cummax()
        before = reach.groupby(f["pid"], sort=False).shift()
        new = before.isna() | (f["start"] > before)
        run = new.astype(int).groupby(f["pid"], sort=False).cumsum()
        return (
            f.assign(run=run)
            .groupby(["pid", "run"], sort=False)
            .agg(start=("start", "min"), end=("end", "max"))
            .reset_index()
        )

    def as_of(self, day: dt.date, patients) -> pd.DataFrame:
        """The two clocks on ``day`` for ``patients`` (in their order).

        Returns
        -------
        DataFrame
            ``days_since_eligible`` and ``days_since_nominated`` (float, null
            where the rule is not met or there was no nomination), one row per
            patient.
        """
        d = np.datetime64(day, "D")
        ids = pd.Index(patients)
        runs = self._runs
        on = runs[(runs["start"] <= d) & (runs["end"] > d)]
        eligible = pd.Series(
            ((d - on["start"].to_numpy()) / _DAY).astype(float),
            index=on["pid"].to_numpy(),
        )
        nom = self._nom[self._nom["day"] < d]
        last = nom.groupby("pid")["day"].max()
        nominated = ((d - last.to_numpy().astype("datetime64[D]")) / _DAY).astype(float)
        nominated = pd.Series(nominated, index=last.index)
        return pd.DataFrame(
            {
                "days_since_eligible": eligible.reindex(ids).to_numpy(),
                "days_since_nominated": nominated.reindex(ids).to_numpy(),
            }
        )
