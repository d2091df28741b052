"""Reason wording: one TOML file of templates, validated when it is loaded."""

from __future__ import annotations

import os
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["ReasonTemplates", "load_templates"]

#: Placeholders each group's ``text`` may use (``item`` for the frailty list).
PLACEHOLDERS: dict[str, frozenset[str]] = {
    "nomination": frozenset({"date", "ago", "reason"}),
    "emergency_admissions": frozenset(
        {"count", "window", "latest_date", "latest_ago", "bed_days"}
    ),
    "in_hospital": frozenset({"admission_date", "ago", "days"}),
    "recent_discharge": frozenset({"discharge_date", "ago"}),
    "hospital_admissions": frozenset(
        {"count", "planned", "unknown_urgency", "latest_date"}
    ),
    "frailty": frozenset({"events", "count"}),
    "conditions": frozenset({"count", "conditions"}),
    "medicines": frozenset({"count", "items", "chapters", "latest_date"}),
    "residence": frozenset({"residence", "start_date", "ago"}),
    "case_finding_rules": frozenset({"priority"}),
    "age": frozenset({"age"}),
    "sex": frozenset({"sex"}),
    "deprivation": frozenset({"decile"}),
    "area": frozenset({"locality", "practice_id"}),
    "other": frozenset({"feature", "value"}),
}
_ITEM_PLACEHOLDERS = frozenset({"indicator", "code", "month", "date"})
_RULES = (
    "rule_frail_admission",
    "rule_two_admissions",
    "rule_care_home",
    "rule_polypharmacy",
    "rule_nomination",
)
_FRAILTY = (
    "dehydration",
    "fall",
    "constipation",
    "nausea_vomiting",
    "urinary_tract_infection",
)
_RESIDENCES = ("residential_home", "nursing_home")
_MONTHS = (
    "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()  # noqa: SIM905
)


class _Formatter(string.Formatter):
    """``{n:word|words}`` picks a plural; any other spec is Python's own."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if "|" in format_spec:
            one, many = format_spec.split("|", 1)
            return one if value == 1 else many
        return super().format_field(value, format_spec)


_FORMATTER = _Formatter()


def _check(where: str, template: Any, allowed: frozenset[str], source: str) -> str:
    if not isinstance(template, str) or not template.strip():
        raise ValueError(
            f"{source}: {where} must be a non-empty text. Got {template!r} instead."
        )
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError as exc:
        raise ValueError(f"{source}: {where} is not a valid template: {exc}.") from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in allowed:
            raise ValueError(
                f"{source}: {where} uses the unknown placeholder {{{name}}}; "
                f"it may use {sorted(allowed)}."
            )
        if conversion or (spec and "|" in spec and spec.count("|") != 1):
            raise ValueError(
                f"{source}: {where} has a bad format in {{{name}:{spec}}}; a plural "
                "is written {count:word|words}."
            )
    return template


@dataclass(frozen=True)
class GroupTemplate:
    """Wording of one reason group."""

    label: str
    text: str
    extra: Mapping[str, Any] = field(default_factory=dict)

    def render(self, values: Mapping[str, Any]) -> str:
        """Fill the template with a person's values."""
        return _FORMATTER.format(self.text, **values)


@dataclass(frozen=True)
class ReasonTemplates:
    """All reason wording, as loaded from one TOML file.

    Attributes
    ----------
    groups : mapping of str to GroupTemplate
        In the file's order (which is also the column order of contribution tables).
    rules : mapping of str to str
        Wrappers for the first reason of people listed by a seed rule.
    source : str
        Where the wording came from (for messages).
    """

    groups: Mapping[str, GroupTemplate]
    rules: Mapping[str, str]
    source: str

    def render(self, group: str, values: Mapping[str, Any]) -> str:
        """The text of ``group`` for one person's values."""
        return self.groups[group].render(values)

    def render_rule(self, rule: str, detail: str) -> str:
        """The first reason of a person listed by ``rule``."""
        return _FORMATTER.format(self.rules[rule], detail=detail)

    def render_item(self, values: Mapping[str, Any]) -> str:
        """One frail-elderly indicator event."""
        return _FORMATTER.format(self.groups["frailty"].extra["item"], **values)


def load_templates(path: str | os.PathLike[str] | None = None) -> ReasonTemplates:
    """Read and validate reason templates (the packaged wording by default).

    Parameters
    ----------
    path : path-like, optional
        A TOML file laid out like the packaged ``reasons.toml``. Every group and
        rule must be present, and every placeholder must be one the group knows.

    Returns
    -------
    ReasonTemplates

    Raises
    ------
    ValueError
        If the file is not TOML, misses a group, names an unknown group or uses a
        placeholder the group does not know; the message names the file, the
        group and the placeholder.

    Examples
    --------
    >>> t = load_templates()
    >>> t.render("age", {"age": 84})
    'aged 84'
    >>> t.render("emergency_admissions", {"count": 1, "window": "12 months",
    ...     "latest_date": "2 Mar 2023", "latest_ago": "", "bed_days": 6})
    '1 emergency admission in the last 12 months (latest 2 Mar 2023, 6 bed days in all)'
    """
    if path is None:
        ref = resources.files("riskstrat.explain").joinpath("reasons.toml")
        source, raw = "reasons.toml (packaged)", ref.read_text(encoding="utf-8")
    else:
        source = Path(path).name
        raw = Path(path).read_text(encoding="utf-8")
    try:
        doc = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{source} is not valid TOML: {exc}.") from None
    unknown_top = sorted(set(doc) - {"rules", "groups"})
    if unknown_top:
        raise ValueError(
            f"{source}: unknown section(s) {unknown_top}; expected [rules] and "
            "[groups.NAME]."
        )
    raw_groups = doc.get("groups", {})
    missing = [g for g in PLACEHOLDERS if g not in raw_groups]
    extra = [g for g in raw_groups if g not in PLACEHOLDERS]
    if missing or extra:
        raise ValueError(
            f"{source}: the reason groups do not match. Missing: {missing}; "
            f"unknown: {extra}."
        )
    groups: dict[str, GroupTemplate] = {}
    for name, body in raw_groups.items():
        where = f"[groups.{name}]"
        if not isinstance(body, dict):
            raise ValueError(f"{source}: {where} must be a table.")
        label = _check(f"{where} label", body.get("label"), frozenset(), source)
        text = _check(f"{where} text", body.get("text"), PLACEHOLDERS[name], source)
        more: dict[str, Any] = {}
        if name == "nomination":
            more["no_reason"] = _check(
                f"{where} no_reason", body.get("no_reason"), frozenset(), source
            )
        if name == "frailty":
            more["item"] = _check(
                f"{where} item", body.get("item"), _ITEM_PLACEHOLDERS, source
            )
            more["indicators"] = _names(
                f"{where}.indicators", body.get("indicators"), _FRAILTY, source
            )
        if name == "conditions":
            more["names"] = _condition_names(
                f"{where}.names", body.get("names", {}), source
            )
        if name == "residence":
            more["names"] = _names(
                f"{where}.names", body.get("names"), _RESIDENCES, source
            )
        groups[name] = GroupTemplate(label=label, text=text, extra=more)
    raw_rules = doc.get("rules", {})
    missing = [r for r in _RULES if r not in raw_rules]
    extra = [r for r in raw_rules if r not in _RULES]
    if missing or extra:
        raise ValueError(
            f"{source}: [rules] must name each seed rule once. Missing: {missing}; "
            f"unknown: {extra}."
        )
    rules = {
        r: _check(f"[rules] {r}", raw_rules[r], frozenset({"detail"}), source)
        for r in _RULES
    }
    return ReasonTemplates(groups=groups, rules=rules, source=source)


def _names(where: str, body: Any, keys: tuple[str, ...], source: str) -> dict:
    if not isinstance(body, dict) or sorted(body) != sorted(keys):
        got = sorted(body) if isinstance(body, dict) else body
        raise ValueError(
            f"{source}: {where} must name exactly {list(keys)}. Got {got}."
        )
    return {k: _check(f"{where} {k}", body[k], frozenset(), source) for k in keys}


def _condition_names(where: str, body: Any, source: str) -> dict[str, str]:
    from riskstrat.features import CHARLSON, ELIXHAUSER

    known = {f"cci_{c}" for c in CHARLSON} | {f"elix_{c}" for c in ELIXHAUSER}
    if not isinstance(body, dict):
        raise ValueError(f"{source}: {where} must be a table of column = name.")
    unknown = sorted(set(body) - known)
    if unknown:
        raise ValueError(
            f"{source}: {where} names unknown condition column(s) {unknown}."
        )
    return {k: _check(f"{where} {k}", v, frozenset(), source) for k, v in body.items()}


def format_date(day) -> str:
    """``2 Mar 2023`` (no locale involved).

    >>> import datetime as dt
    >>> format_date(dt.date(2023, 3, 2))
    '2 Mar 2023'
    """
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def format_month(day) -> str:
    """``Mar 2023``."""
    return f"{_MONTHS[day.month - 1]} {day.year}"


def format_ago(days: int) -> str:
    """``5 days ago``, ``3 weeks ago``, ``4 months ago`` from a count of days.

    >>> format_ago(1), format_ago(21), format_ago(100)
    ('1 day ago', '3 weeks ago', '3 months ago')
    """
    if days < 14:
        return f"{days} day ago" if days == 1 else f"{days} days ago"
    if days < 60:
        return f"{days // 7} weeks ago"
    months = days * 12 // 365
    if months < 24:
        return f"{months} months ago"
    return f"{days // 365} years ago"
