"""Plain-language reasons: the strongest risk-raising contributions, citing records."""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from collections.abc import Iterable
from typing import Any

import numpy as np
import pyarrow as pa

from riskstrat.explain._contributions import (
    group_order,
    raw_contributions,
    select_people,
)
from riskstrat.explain._facts import (
    Record,
    bed_days,
    frailty_events,
    is_care_home,
    read_records,
)
from riskstrat.explain._groups import reason_group
from riskstrat.explain._templates import (
    ReasonTemplates,
    format_ago,
    format_date,
    format_month,
    load_templates,
)
from riskstrat.features import FeatureSpec

__all__ = ["reasons", "reasons_schema"]

logger = logging.getLogger(__name__)

#: The seed's case-finding rules in priority order (``essex_priority`` 1–5).
_RULES = (
    ("rule_frail_admission", "frailty"),
    ("rule_two_admissions", "hospital_admissions"),
    ("rule_care_home", "residence"),
    ("rule_polypharmacy", "medicines"),
    ("rule_nomination", "nomination"),
)
_MAX_CONDITIONS = 4
#: A milder condition is not named beside its severer form (as in Charlson).
_MILDER = (
    (
        {"cci_diabetes_without_complication", "elix_diabetes_uncomplicated"},
        {"cci_diabetes_with_complication", "elix_diabetes_complicated"},
    ),
    (
        {"cci_mild_liver_disease", "elix_liver_disease"},
        {"cci_moderate_or_severe_liver_disease"},
    ),
    (
        {"cci_any_malignancy", "elix_solid_tumour_without_metastasis"},
        {"cci_metastatic_solid_tumour", "elix_metastatic_cancer"},
    ),
    ({"elix_hypertension_uncomplicated"}, {"elix_hypertension_complicated"}),
)
#: Feature columns the wording reads (besides the conditions and "other" inputs).
_ROW_COLUMNS = frozenset(
    {
        "age",
        "sex",
        "deprivation_decile",
        "locality",
        "practice_id",
        "essex_priority",
        "nominated_12m",
        "bnf_chapters_90d",
    }
)


def reasons_schema() -> pa.Schema:
    """Columns of a reasons table."""
    return pa.schema(
        [
            ("patient_id", pa.string()),
            ("as_of", pa.date32()),
            ("rank", pa.int32()),
            ("reason_group", pa.string()),
            ("source", pa.string()),
            ("contribution", pa.float64()),
            ("text", pa.string()),
        ]
    )


def _value(row: dict[str, Any], name: str) -> Any:
    v = row.get(name)
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def _window_text(days: int) -> str:
    months = {91: "3 months", 182: "6 months", 365: "12 months", 730: "24 months"}
    return months.get(days, f"{days} days")


class _Person:
    """Everything needed to word one person's reasons."""

    def __init__(
        self,
        row: dict[str, Any],
        record: Record,
        contrib: np.ndarray,
        *,
        index: dict[str, int],
        as_of: dt.date,
        spec: FeatureSpec,
        templates: ReasonTemplates,
        absent: frozenset[str],
    ) -> None:
        self.row, self.record, self.contrib, self.index = row, record, contrib, index
        self.as_of, self.spec, self.t, self.absent = as_of, spec, templates, absent

    def text(self, group: str) -> str | None:
        """The group's sentence, or None when the record has nothing to cite."""
        values = getattr(self, f"_{group}")()
        if values is None:
            return None
        if isinstance(values, str):
            return values
        return self.t.render(group, values)

    def _c(self, feature: str) -> float:
        j = self.index.get(feature)
        return 0.0 if j is None else float(self.contrib[j])

    def _ago(self, day: dt.date) -> str:
        return format_ago((self.as_of - day).days)

    def _nomination(self):
        if self.record.nomination is None:
            return None
        day, why = self.record.nomination
        reason = why if why else self.t.groups["nomination"].extra["no_reason"]
        return {"date": format_date(day), "ago": self._ago(day), "reason": reason}

    def _emergency_admissions(self):
        em = [a for a in self.record.admissions if a.emergency is True]
        best = None
        for days, name in zip(
            self.spec.windows_days, self.spec.window_names, strict=True
        ):
            start = self.as_of - dt.timedelta(days=days)
            inside = [a for a in em if a.admitted >= start]
            if not inside:
                continue
            weight = self._c(f"em_admissions_{name}") + self._c(f"em_bed_days_{name}")
            if best is None or weight > best[0]:
                best = (weight, days, inside)
        if best is None:
            return None
        _, days, inside = best
        latest = max(a.admitted for a in inside)
        return {
            "count": len(inside),
            "window": _window_text(days),
            "latest_date": format_date(latest),
            "latest_ago": self._ago(latest),
            "bed_days": sum(bed_days(a, self.as_of) for a in inside),
        }

    def _in_hospital(self):
        open_ = [
            a
            for a in self.record.admissions
            if a.discharged is None or a.discharged >= self.as_of
        ]
        if not open_:
            return None
        day = max(a.admitted for a in open_)
        return {
            "admission_date": format_date(day),
            "ago": self._ago(day),
            "days": (self.as_of - day).days,
        }

    def _recent_discharge(self):
        done = [
            a.discharged
            for a in self.record.admissions
            if a.discharged is not None and a.discharged < self.as_of
        ]
        if not done:
            return None
        day = max(done)
        return {"discharge_date": format_date(day), "ago": self._ago(day)}

    def _hospital_admissions(self):
        start = self.as_of - dt.timedelta(days=365)
        inside = [a for a in self.record.admissions if a.admitted >= start]
        if not inside:
            return None
        return {
            "count": len(inside),
            "planned": sum(a.emergency is False for a in inside),
            "unknown_urgency": sum(a.emergency is None for a in inside),
            "latest_date": format_date(max(a.admitted for a in inside)),
        }

    def _frailty(self):
        events = frailty_events(
            self.record, as_of=self.as_of, spec=self.spec, age=_value(self.row, "age")
        )
        if not events:
            return None
        names = self.t.groups["frailty"].extra["indicators"]
        items = [
            self.t.render_item(
                {
                    "indicator": names[kind],
                    "code": code,
                    "month": format_month(day),
                    "date": format_date(day),
                }
            )
            for kind, code, day in events
        ]
        joined = items[0] if len(items) == 1 else ", ".join(items[:-1])
        if len(items) > 1:
            joined += " and " + items[-1]
        return {"events": joined, "count": len(events)}

    def _conditions(self):
        given = self.t.groups["conditions"].extra["names"]
        flags = {
            c
            for c, v in self.row.items()
            if v is True and c.startswith(("cci_", "elix_"))
        }
        for milder, severer in _MILDER:
            if flags & severer:
                flags -= milder
        names: list[str] = []
        for col in self.row:  # in the feature table's column order
            if col in flags:
                name = given.get(col) or col.split("_", 1)[1].replace("_", " ")
                if name not in names:
                    names.append(name)
        if not names:
            return None
        shown = ", ".join(names[:_MAX_CONDITIONS])
        if len(names) > _MAX_CONDITIONS:
            shown += f" and {len(names) - _MAX_CONDITIONS} more"
        return {"count": len(names), "conditions": shown}

    def _medicines(self):
        r = self.record
        if "prescriptions" in self.absent or not r.drugs:
            return None
        chapters = _value(self.row, "bnf_chapters_90d")
        return {
            "count": r.drugs,
            "items": r.items,
            "chapters": chapters if chapters is not None else "unknown",
            "latest_date": format_date(r.latest_issue),
        }

    def _residence(self):
        res = self.record.residence
        if res is None or not is_care_home(res[0]):
            return None
        kind, start = res
        return {
            "residence": self.t.groups["residence"].extra["names"][kind],
            "start_date": format_date(start),
            "ago": self._ago(start),
        }

    def _case_finding_rules(self):
        p = _value(self.row, "essex_priority")
        return None if p is None else {"priority": p}

    def _age(self):
        age = _value(self.row, "age")
        return None if age is None else {"age": age}

    def _sex(self):
        sex = _value(self.row, "sex")
        return None if sex is None else {"sex": sex}

    def _deprivation(self):
        d = _value(self.row, "deprivation_decile")
        return None if d is None else {"decile": d}

    def _area(self):
        loc, prac = _value(self.row, "locality"), _value(self.row, "practice_id")
        if loc is None and prac is None:
            return None
        return {
            "locality": loc if loc is not None else "an unknown locality",
            "practice_id": prac if prac is not None else "unknown",
        }

    def _other(self):
        others = [
            (self._c(c), c)
            for c in self.index
            if reason_group(c) == "other" and _value(self.row, c) is not None
        ]
        if not others:
            return None
        _, col = max(others)
        return {"feature": col, "value": _value(self.row, col)}


def _rule_of(row: dict[str, Any]) -> tuple[str, str] | None:
    p = _value(row, "essex_priority")
    if p is not None and 1 <= int(p) <= len(_RULES):
        return _RULES[int(p) - 1]
    if _value(row, "nominated_12m") is True:
        return _RULES[-1]
    return None


def reasons(
    model,
    features: pa.Table,
    tables,
    *,
    as_of: dt.date,
    patient_ids: Iterable[str] | None = None,
    top: int = 3,
    templates: ReasonTemplates | None = None,
    spec: FeatureSpec | None = None,
    min_contribution: float = 0.0,
) -> pa.Table:
    """Up to ``top`` plain-language reasons per person, strongest first.

    Reasons are the reason groups (see :func:`contributions`) whose contribution
    raises the person's risk, ordered by contribution, each worded from the
    person's own record before ``as_of`` (counts and dates read from the
    canonical tables; events on or after ``as_of`` are never read). A group the
    record has nothing to cite for (say, a positive contribution of "no
    admissions") is skipped. People listed by a seed case-finding rule
    (``essex_priority``), or nominated by a clinician in the nomination window,
    get that rule as their first reason (``source="rule"``), whatever its
    contribution; the model's reasons follow (``source="model"``).

    Parameters
    ----------
    model : RiskModel, CalibratedRiskModel or LoadedModel
    features : pyarrow.Table
        Feature table keyed by ``patient_id`` and ``as_of``.
    tables : riskstrat.sources.Tables
        The canonical tables the features were built from.
    as_of : datetime.date
        Only feature rows of this date are used, and only events before it.
    patient_ids : iterable of str, optional
        Explain only these people (the listed, waiting and alerted). Default: all.
    top : int, default=3
        Reasons per person, the rule reason included.
    templates : ReasonTemplates, optional
        Wording (:func:`load_templates`); the packaged ``reasons.toml`` by default.
    spec : FeatureSpec, optional
        Windows the features were built with; default ``FeatureSpec()``.
    min_contribution : float, default=0.0
        A model reason needs a contribution above this (log-odds); raise it to
        drop reasons too small to matter.

    Returns
    -------
    pyarrow.Table
        :func:`reasons_schema`: ``patient_id``, ``as_of``, ``rank`` (1 first),
        ``reason_group``, ``source`` (``"rule"`` or ``"model"``),
        ``contribution`` (the group's log-odds contribution) and ``text``; sorted
        by ``patient_id`` and ``rank``. A person with no risk-raising reason to
        cite has no rows.

    See Also
    --------
    contributions : the numbers behind the reasons.
    load_templates : the wording.

    Examples
    --------
    >>> import datetime as dt, pyarrow as pa
    >>> from riskstrat.features import build_features, make_labels
    >>> from riskstrat.model import RiskModel
    >>> from riskstrat.synth import make_population
    >>> tables = make_population(400, random_state=0).tables
    >>> as_of = dt.date(2023, 4, 1)
    >>> f = build_features(tables, as_of=as_of)
    >>> labels = make_labels(tables, as_of=as_of).to_pandas().set_index("patient_id")
    >>> y = labels.loc[f["patient_id"].to_pylist(), "emergency_admission"]
    >>> m = RiskModel(max_trees=20, min_child_samples=20, random_state=0).fit(
    ...     f.drop_columns(["patient_id", "as_of"]).to_pandas(), y)
    >>> r = reasons(m, f, tables, as_of=as_of, patient_ids=["p0000003"])
    >>> r.column_names
    ['patient_id', 'as_of', 'rank', 'reason_group', 'source', 'contribution', 'text']
    >>> r["rank"].to_pylist(), r["text"][0].as_py()
    ([1, 2, 3], 'aged 94')
    """
    if not isinstance(top, int) or isinstance(top, bool) or top < 1:
        raise ValueError(
            f"The `top` parameter of reasons must be an int >= 1. Got {top!r} instead."
        )
    if not isinstance(min_contribution, (int, float)) or min_contribution < 0:
        raise ValueError(
            "The `min_contribution` parameter of reasons must be a number >= 0. "
            f"Got {min_contribution!r} instead."
        )
    tic = time.perf_counter()
    templates = templates if templates is not None else load_templates()
    spec = spec if spec is not None else FeatureSpec()
    rows = select_people(features, patient_ids, as_of=as_of)
    values, cols = raw_contributions(model, rows)
    groups = group_order(cols)
    member = np.zeros((len(cols), len(groups)))
    for j, c in enumerate(cols):
        member[j, groups.index(reason_group(c))] = 1.0
    summed = values[:, :-1] @ member
    ids = rows["patient_id"].to_pylist()
    records, absent = read_records(tables, ids, as_of=as_of, spec=spec)
    index = {c: j for j, c in enumerate(cols)}
    wanted = [
        c
        for c in rows.column_names
        if c in _ROW_COLUMNS
        or c.startswith(("cci_", "elix_"))
        or (c in index and reason_group(c) == "other")
    ]
    feature_rows = rows.select(wanted).to_pylist()
    empty = Record()

    out: dict[str, list] = {n: [] for n in reasons_schema().names}
    for i, pid in enumerate(ids):
        person = _Person(
            feature_rows[i],
            records.get(pid, empty),
            values[i],
            index=index,
            as_of=as_of,
            spec=spec,
            templates=templates,
            absent=absent,
        )
        chosen: list[tuple[str, str, float, str]] = []
        rule = _rule_of(feature_rows[i])
        used = set()
        if rule is not None:
            name, group = rule
            detail = person.text(group)
            if detail is not None:
                w = float(summed[i, groups.index(group)]) if group in groups else 0.0
                chosen.append((group, "rule", w, templates.render_rule(name, detail)))
                used |= {group, "case_finding_rules"}
        # Strongest first; ties in the templates' order (a stable sort).
        for k in np.argsort(-summed[i], kind="stable"):
            if len(chosen) >= top:
                break
            w = float(summed[i, k])
            if w <= min_contribution:
                break
            group = groups[k]
            if group in used:
                continue
            said = person.text(group)
            if said is not None:
                chosen.append((group, "model", w, said))
        for rank, (group, source, w, said) in enumerate(chosen, 1):
            out["patient_id"].append(pid)
            out["as_of"].append(as_of)
            out["rank"].append(rank)
            out["reason_group"].append(group)
            out["source"].append(source)
            out["contribution"].append(w)
            out["text"].append(said)
    table = pa.table(out, schema=reasons_schema())
    logger.info(
        "reasons: %d people, %d reasons in %.2f s",
        len(ids),
        table.num_rows,
        time.perf_counter() - tic,
    )
    return table
