"""``make_population``: a seeded synthetic population with its known truth."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from riskstrat.sources import COUNTS_SCHEMA, TABLE_NAMES, Tables
from riskstrat.synth._assemble import assemble
from riskstrat.synth._assemble import patient_ids as patient_ids_of
from riskstrat.synth._params import Programme, SynthParams
from riskstrat.synth._simulate import RunProgramme, run, step

__all__ = ["SyntheticPopulation", "Truth", "make_population"]

logger = logging.getLogger(__name__)

_PATH_BLOCK = 16


@dataclass(frozen=True, kw_only=True)
class Truth:
    """What the generator knows and a model can only estimate.

    Attributes
    ----------
    start, end : datetime.date
        The simulated period ``[start, end)``; ``end`` is the extract date.
    n_patients : int
        People simulated (including a few never registered, not in the tables).
    random_state : int
        The seed; with the settings it reproduces every event.
    programme : Programme or None
        The case-management programme, if any. Its ``hazard_ratio`` is the true
        effect of enrolment on the daily emergency-admission hazard.
    params : SynthParams
        Hazard parameters.
    """

    start: dt.date
    end: dt.date
    n_patients: int
    random_state: int
    programme: Programme | None = None
    params: SynthParams = field(default_factory=SynthParams)

    @property
    def true_effect(self) -> float | None:
        """Hazard ratio of emergency admission while enrolled (None: no programme)."""
        return None if self.programme is None else self.programme.hazard_ratio

    def _run_programme(self) -> RunProgramme | None:
        if self.programme is None:
            return None
        return RunProgramme(
            start_day=(self.programme.start - self.start).days,
            hazard_ratio=self.programme.hazard_ratio,
            uptake=self.programme.uptake,
            min_age=self.programme.min_age,
            review_every_days=self.programme.review_every_days,
            nominations=self.programme.nominations,
            nomination_window_days=self.programme.nomination_window_days,
            frailty_selection=self.programme.frailty_selection,
            frailty_sd=self.params.frailty_persistent_sd,
            rescreen_days=self.programme.rescreen_days,
            effect_delay_days=self.programme.effect_delay_days,
            effect_spread=self.programme.effect_spread,
        )

    def true_risk(
        self,
        as_of: dt.date,
        *,
        horizon_days: int = 365,
        n_paths: int = 64,
        patient_ids: Sequence[str] | None = None,
        halves: bool = False,
    ) -> pa.Table:
        """Each person's true probability of an emergency admission after ``as_of``.

        For every person alive and registered at the start of ``as_of``
        (death_date null or on/after ``as_of``; registration_date on/before
        ``as_of``; deregistration_date null or on/after ``as_of``) this is
        ``P(emergency admission in [as_of, as_of + horizon_days) | state on as_of)``
        under the generator's own dynamics — frailty drift, deaths, care-home
        moves, deregistration, the programme — as the generator draws events.

        The simulation is re-run to ``as_of`` (same seed, same state), then the
        future is simulated ``n_paths`` times *given no emergency admission*;
        the probability of none is the mean over paths of ``prod(1 - p_day)``.

        Parameters
        ----------
        as_of : datetime.date
            Index date, on or after ``start``.
        horizon_days : int, default=365
            Length of the outcome window.
        n_paths : int, default=64
            Monte Carlo paths per person (the estimate's error shrinks as
            ``1 / sqrt(n_paths)``; its mean is exact). Paths are simulated 16
            at a time, so memory does not grow with ``n_paths``. Path noise
            lowers the oracle's AUROC: use 64 or more for validity figures
            (issue 13 measured 8 paths ~0.002 low).
        patient_ids : sequence of str, optional
            Only these people (e.g. a model's test cohort), each of whom must be
            alive and registered on ``as_of``. Fewer people simulate faster; the
            paths drawn differ from those of the whole list (another stream),
            with the same expectation.
        halves : bool, default=False
            Also return ``true_risk_half_1`` and ``true_risk_half_2``, the
            estimates from the first and from the second half of the paths
            (independent; ``true_risk`` is their mean). With them a statistic's
            path noise can be extrapolated away
            (:func:`riskstrat.synth.auroc_table`). ``n_paths`` must be even.

        Returns
        -------
        pyarrow.Table
            ``patient_id``, ``true_risk`` (and the halves) sorted by ``patient_id``.
        """
        if not isinstance(as_of, dt.date) or isinstance(as_of, dt.datetime):
            raise TypeError(f"`as_of` must be a datetime.date. Got {as_of!r} instead.")
        day0 = (as_of - self.start).days
        if day0 < 0:
            raise ValueError(
                f"`as_of` must be on or after the population's start {self.start}. "
                f"Got {as_of} instead."
            )
        if horizon_days < 1 or n_paths < 1:
            raise ValueError("`horizon_days` and `n_paths` must be >= 1.")
        if halves and n_paths % 2:
            raise ValueError(f"`halves` needs an even `n_paths`. Got {n_paths}.")
        all_ids = patient_ids_of(self.n_patients)
        wanted = None if patient_ids is None else _positions(all_ids, patient_ids)
        tic = time.perf_counter()
        people, _, _ = run(
            self.n_patients,
            (self.end - self.start).days,
            self.params,
            self.random_state,
            self._run_programme(),
            record=False,
            stop=day0,
        )
        counted = people.alive & (people.reg_day <= day0) & (people.dereg_day >= day0)
        counted &= people.reg_day < people.death_day
        if wanted is not None:
            idx = wanted
            if not counted[idx].all():
                raise ValueError(
                    f"{int((~counted[idx]).sum())} of the `patient_ids` are not "
                    f"alive and registered on {as_of}: no true risk is defined "
                    "for them."
                )
        else:
            idx = np.flatnonzero(counted)
        programme = self._run_programme()
        half = n_paths // 2
        surv = np.zeros(idx.size)
        surv_halves = np.zeros((idx.size, 2))
        # Paths in blocks of at most _PATH_BLOCK copies of the cohort, each block
        # with its own stream: memory stays bounded whatever ``n_paths`` is.
        for first in range(0, n_paths, _PATH_BLOCK):
            k = min(_PATH_BLOCK, n_paths - first)
            paths = people.take(np.repeat(idx, k))
            rng = np.random.default_rng(
                [self.random_state, day0, horizon_days, 7919, first]
            )
            log_surv = np.zeros(idx.size * k)
            for t in range(day0, day0 + horizon_days):
                out = step(
                    paths,
                    t,
                    self.params,
                    rng,
                    self.random_state,
                    rng,
                    programme,
                    None,
                    True,
                )
                if out is not None:  # always, for a conditional step
                    log_surv += out
            block = np.exp(log_surv).reshape(idx.size, k)
            surv += block.sum(axis=1)
            if halves:
                first_half = np.arange(first, first + k) < half
                surv_halves[:, 0] += block[:, first_half].sum(axis=1)
                surv_halves[:, 1] += block[:, ~first_half].sum(axis=1)
            del paths
        surv /= n_paths
        ids = pa.array(all_ids).take(pa.array(idx))
        logger.info(
            "true risk: %d people as of %s, %d paths, %.1f s",
            idx.size,
            as_of,
            n_paths,
            time.perf_counter() - tic,
        )
        columns = {"patient_id": ids, "true_risk": pa.array(1.0 - surv)}
        if halves:
            columns["true_risk_half_1"] = pa.array(1.0 - surv_halves[:, 0] / half)
            columns["true_risk_half_2"] = pa.array(1.0 - surv_halves[:, 1] / half)
        return pa.table(columns)

    def to_json(self) -> str:
        """The truth's settings as JSON (enough to rebuild it)."""
        return json.dumps(
            {
                "start": self.start.isoformat(),
                "end": self.end.isoformat(),
                "n_patients": self.n_patients,
                "random_state": self.random_state,
                "programme": None
                if self.programme is None
                else {
                    **asdict(self.programme),
                    "start": self.programme.start.isoformat(),
                },
                "params": asdict(self.params),
            },
            indent=2,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Truth:
        """Rebuild a truth written by :meth:`to_json`.

        Raises
        ------
        ValueError
            ``text`` is not a complete truth (truncated, edited, another file);
            the message names what is wrong, not the content.
        """
        try:
            d = json.loads(text)
            prog = d["programme"]
            if prog is not None:
                start = dt.date.fromisoformat(prog["start"])
                prog = Programme(**{**prog, "start": start})
            return cls(
                start=dt.date.fromisoformat(d["start"]),
                end=dt.date.fromisoformat(d["end"]),
                n_patients=int(d["n_patients"]),
                random_state=int(d["random_state"]),
                programme=prog,
                params=SynthParams(**_with_old_mechanisms(d["params"])),
            )
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                "the truth file is truncated or damaged. Write it again with "
                "`riskstrat synth`."
            ) from None
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(
                f"not a riskstrat truth file ({type(exc).__name__}: {exc}); write it "
                "again with `riskstrat synth`."
            ) from None


@dataclass(frozen=True, kw_only=True)
class SyntheticPopulation:
    """A synthetic population: the canonical tables and the truth behind them.

    Attributes
    ----------
    tables : Tables
        The canonical tables, exactly as :func:`riskstrat.sources.load_tables`
        returns them (no rejects; ``extract_date`` = ``truth.end``).
    truth : Truth
        True risk and the programme's true effect.
    counterfactual : Tables or None
        With a programme: the same people re-simulated with the same random
        numbers (each person's own, see decision 0009) and no programme — the
        same canonical tables and schemas as ``tables``, with empty
        ``enrolments`` and ``screenings`` tables. Anyone never enrolled has
        identical rows in both (screenings apart);
        for the enrolled, the difference between ``tables`` and
        ``counterfactual`` after enrolment is the programme's true effect on
        them (emergency admissions, bed days, deaths). None without a programme.
    """

    tables: Tables
    truth: Truth
    counterfactual: Tables | None = None

    def write(self, directory: str | os.PathLike[str]) -> Path:
        """Write the tables as Parquet and the truth as ``truth.json``.

        With a programme, the counterfactual tables go to ``counterfactual/``
        inside ``directory`` (same file names), so the truth survives on disk.
        """
        out = self.tables.to_parquet(directory)
        if self.counterfactual is not None:
            self.counterfactual.to_parquet(out / "counterfactual")
        tmp = out / ".truth.json.tmp"
        tmp.write_text(self.truth.to_json() + "\n", encoding="utf-8")
        os.replace(tmp, out / "truth.json")
        return out


def _check_date(name: str, value: object) -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise TypeError(
            f"The `{name}` parameter of make_population must be a datetime.date. "
            f"Got {value!r} instead."
        )
    return value


def _with_old_mechanisms(params: dict) -> dict:
    """Parameters of a truth written before decision 0021, as that generator had them.

    Older ``truth.json`` files lack the care-home death term (then absent: 0) and
    the initial care-home age slope (then the moves' slope), so they rebuild the
    population they describe rather than the new defaults.
    """
    out = dict(params)
    out.setdefault("care_home_death_log_hr", 0.0)
    out.setdefault("care_home_init_age_slope", out.get("care_home_age_slope", 0.16))
    return out


def make_population(
    n_patients: int = 1_000,
    *,
    start: dt.date = dt.date(2019, 4, 1),
    end: dt.date = dt.date(2024, 4, 1),
    random_state: int = 0,
    programme: Programme | None = None,
    params: SynthParams | None = None,
) -> SyntheticPopulation:
    """Simulate a registered population and return its canonical tables and truth.

    People of all ages (England-like age mix, five localities weighted as in
    Table one of the seed) with sex, deprivation decile and practice; long-term
    conditions whose prevalence rises with age and frailty and which drive
    repeat prescriptions (BNF-style codes) and admissions (ICD-10 primary and
    secondary diagnoses, including the seed's frail-elderly codes E86, W00-W19,
    K59.0, R11, N39.0); a latent frailty with a persistent part and a
    mean-reverting part that drifts week by week; emergency spells with lengths
    of stay and admission times (about half out of hours); elective spells; a
    raised hazard for some weeks after each discharge (which makes regression to
    the mean real); moves into residential and nursing homes; deaths;
    registrations and deregistrations; clinician nominations; and an optional
    case-management programme with a known effect.

    Parameters
    ----------
    n_patients : int, default=1_000
        People simulated over the warm-up and the shown period. The population
        is open, so those on the list on any date are fewer (about three
        quarters over five shown years): people who left during the warm-up and
        people who register after ``end`` never appear in the tables.
    start, end : datetime.date, default=2019-04-01, 2024-04-01
        Simulated period ``[start, end)``; ``end`` is the extract date.
    random_state : int, default=0
        Seed. The same arguments give identical tables.
    programme : Programme, default=None
        A case-management programme with a known effect.
    params : SynthParams, default=None
        Hazard parameters (defaults are tuned to NHS-like figures).

    Returns
    -------
    SyntheticPopulation
        ``.tables`` (:class:`riskstrat.sources.Tables`) and ``.truth``.

    Examples
    --------
    >>> import datetime as dt
    >>> pop = make_population(200, start=dt.date(2022, 1, 1), end=dt.date(2023, 1, 1))
    >>> 150 < pop.tables.patients.num_rows < 200  # some register later or left
    True
    >>> pop.tables.admissions.column_names[:3]
    ['patient_id', 'admission_date', 'discharge_date']
    """
    if not isinstance(n_patients, int | np.integer) or n_patients < 1:
        raise ValueError(
            "The `n_patients` parameter of make_population must be an int >= 1. "
            f"Got {n_patients!r} instead."
        )
    start, end = _check_date("start", start), _check_date("end", end)
    if end <= start:
        raise ValueError(
            f"`end` ({end}) must be after `start` ({start}) in make_population."
        )
    if programme is not None and not start <= programme.start < end:
        raise ValueError(
            f"The programme's start ({programme.start}) must be within "
            f"[{start}, {end})."
        )
    params = SynthParams() if params is None else params
    truth = Truth(
        start=start,
        end=end,
        n_patients=int(n_patients),
        random_state=int(random_state),
        programme=programme,
        params=params,
    )
    days = (end - start).days
    tic = time.perf_counter()
    people, events, rngs = run(
        int(n_patients), days, params, int(random_state), truth._run_programme()
    )
    sim_s = time.perf_counter() - tic
    tables = assemble(
        people, events, start=start, days=days, params=params, rng=rngs["assemble"]
    )
    # Tables the simulation does not produce are absent, not empty.
    absent = tuple(t for t in TABLE_NAMES if t not in tables)
    counterfactual = None
    if programme is not None:
        cf_people, cf_events, cf_rngs = run(
            int(n_patients), days, params, int(random_state), None
        )
        cf_tables = assemble(
            cf_people,
            cf_events,
            start=start,
            days=days,
            params=params,
            rng=cf_rngs["assemble"],
        )
        enrolled = people.enrol_day < days
        cf_tables = {
            name: _splice(tables[name], cf_tables[name], enrolled)
            if name != "screenings"  # no programme, no screening of anyone
            else cf_tables[name]
            for name in tables
        }
        counterfactual = Tables(
            **cf_tables, counts=_counts(cf_tables), absent=absent, extract_date=end
        )
    logger.info(
        "synth: %d people, %d admissions, %d prescriptions over %d days "
        "(simulate %.1f s, assemble %.1f s)",
        tables["patients"].num_rows,
        tables["admissions"].num_rows,
        tables["prescriptions"].num_rows,
        days,
        sim_s,
        time.perf_counter() - tic - sim_s,
    )
    return SyntheticPopulation(
        tables=Tables(
            **tables, counts=_counts(tables), absent=absent, extract_date=end
        ),
        truth=truth,
        counterfactual=counterfactual,
    )


def _positions(all_ids: np.ndarray, wanted: Sequence[str]) -> np.ndarray:
    """Sorted positions of the ``wanted`` ids in the sorted ``all_ids``."""
    wanted_a = np.unique(np.asarray(list(wanted), dtype=str))  # never truncated
    pos = np.searchsorted(all_ids, wanted_a)
    found = pos < all_ids.size
    found[found] = all_ids[pos[found]] == wanted_a[found]
    if not found.all():
        raise ValueError(
            f"{int((~found).sum())} of the `patient_ids` are not people of this "
            "population."
        )
    return pos


def _counts(tables: dict[str, pa.Table]) -> pa.Table:
    return pa.table(
        {
            "table": list(TABLE_NAMES),
            "source_file": [None] * len(TABLE_NAMES),
            "read": [tables[t].num_rows if t in tables else 0 for t in TABLE_NAMES],
            "accepted": [tables[t].num_rows if t in tables else 0 for t in TABLE_NAMES],
            "rejected": [0] * len(TABLE_NAMES),
        },
        schema=COUNTS_SCHEMA,
    )


def _person_index(table: pa.Table) -> np.ndarray:
    """Person index of each row (ids are ``p`` + the 1-based index)."""
    digits = pc.utf8_slice_codeunits(table["patient_id"], 1)
    return np.asarray(pc.cast(digits, pa.int64()).to_numpy() - 1)


def _splice(factual: pa.Table, counter: pa.Table, enrolled: np.ndarray) -> pa.Table:
    """Rows of the never-enrolled from ``factual``, of the enrolled from ``counter``.

    The simulation gives never-enrolled people the same events in both runs
    (each person draws their own random numbers); taking their rows from the
    factual tables also keeps the assembly's decorations (diagnosis codes,
    admission times) identical, which a shared assembly stream could not.
    Row order is the assembly's: person by person, each person's rows in order.
    """
    keep_f = ~enrolled[_person_index(factual)]
    keep_c = enrolled[_person_index(counter)]
    both = pa.concat_tables([factual.filter(keep_f), counter.filter(keep_c)])
    order = np.argsort(_person_index(both), kind="stable")
    return both.take(pa.array(order))
