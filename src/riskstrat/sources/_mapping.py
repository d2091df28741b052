"""The mapping report of a source adapter, and the tables that carry it.

An adapter (OMOP, Synthea) translates source rows into canonical rows. Every
source row read is either *mapped* (it went into a canonical row, by a named
rule) or *unmapped* (with a reason). Features the source cannot support are
listed as not computable rather than faked. The canonical tables then go
through the same validation as :func:`load_tables`, whose rejects and counts
sit beside the report on :class:`SourceTables`.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from riskstrat.sources._reading import SourceView, run
from riskstrat.sources._tables import Tables

if TYPE_CHECKING:
    from riskstrat.sources._spells import JoinedSpells

__all__ = [
    "FEATURE_GROUPS",
    "MappingReport",
    "SourceTables",
    "read_mapping",
]

logger = logging.getLogger(__name__)

Status = Literal["computable", "partial", "not_computable"]

#: Feature groups of :func:`riskstrat.features.build_features` and what each needs.
FEATURE_GROUPS: MappingProxyType[str, str] = MappingProxyType(
    {
        "emergency_admissions": "em_admissions_*, em_bed_days_*, "
        "days_since_last_em_admission and the labels emergency_admission(s), "
        "emergency_bed_days, composite: need admissions with a known urgency",
        "elective_admissions": "elective_admissions_12m: needs admissions known "
        "to be elective (emergency = false)",
        "admission_time": "em_out_of_hours_share_24m: needs admission times",
        "frailty_diagnoses": "frail_*_12m, rule_frail_admission: need ICD-10 "
        "diagnoses of admissions",
        "comorbidities": "cci_*, cci_score, elix_*, elix_count (Quan 2005 "
        "ICD-10): need ICD-10 diagnoses of admissions",
        "drugs": "drugs_90d, rule_polypharmacy: need prescriptions",
        "bnf_chapters": "bnf_chapters_90d, bnf_ch01_90d ... bnf_ch10_90d: need "
        "BNF drug codes",
        "residence": "residence_type, care_home, rule_care_home: need residences",
        "nominations": "nominated_12m, nominated_ever, rule_nomination: need "
        "clinician nominations",
        "deprivation": "deprivation_decile",
        "locality": "locality",
        "practice": "practice_id",
        "death": "labels death and composite, and leaving the cohort at death: "
        "need death dates",
    }
)

TABLES_SCHEMA = pa.schema(
    [
        pa.field("source_table", pa.string(), nullable=False),
        pa.field("source_file", pa.string()),
        pa.field("canonical_table", pa.string()),
        pa.field("read", pa.int64(), nullable=False),
        pa.field("mapped", pa.int64(), nullable=False),
        pa.field("unmapped", pa.int64(), nullable=False),
    ]
)
MAPPED_SCHEMA = pa.schema(
    [
        pa.field("source_table", pa.string(), nullable=False),
        pa.field("aspect", pa.string(), nullable=False),
        pa.field("rule", pa.string(), nullable=False),
        pa.field("rows", pa.int64(), nullable=False),
        pa.field("description", pa.string()),
    ]
)
UNMAPPED_SCHEMA = pa.schema(
    [
        pa.field("source_table", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("rows", pa.int64(), nullable=False),
        pa.field("first_row", pa.int64()),
        pa.field("description", pa.string()),
    ]
)
FEATURES_SCHEMA = pa.schema(
    [
        pa.field("feature_group", pa.string(), nullable=False),
        pa.field("status", pa.string(), nullable=False),
        pa.field("reason", pa.string()),
        pa.field("features", pa.string()),
    ]
)
_STATUSES = ("computable", "partial", "not_computable")


@dataclass(frozen=True, kw_only=True)
class MappingReport:
    """How a source's rows became canonical rows, and what cannot be computed.

    Parameters
    ----------
    source : {"canonical", "omop", "synthea"}
    tables : pyarrow.Table
        One row per source table: ``source_table``, ``source_file``,
        ``canonical_table``, ``read``, ``mapped``, ``unmapped``;
        ``read == mapped + unmapped``.
    mapped : pyarrow.Table
        Mapped rows by rule: ``source_table``, ``aspect`` (what the rule
        decides, e.g. ``urgency``), ``rule``, ``rows``, ``description``. Within
        one source table and aspect the rows add up to ``mapped``.
    unmapped : pyarrow.Table
        Unmapped rows by reason: ``source_table``, ``reason``, ``rows``,
        ``first_row`` (1-based source row of the first one), ``description``.
        They add up to ``unmapped``.
    features : pyarrow.Table
        One row per feature group of :data:`FEATURE_GROUPS`: ``status``
        (computable, partial, not_computable) and ``reason``.
    notes : tuple of str
        Anything else worth knowing (CDM version, vocabularies present).

    Raises
    ------
    ValueError
        The counts do not reconcile (a bug in the adapter, never in the data).

    Examples
    --------
    >>> from riskstrat.sources import load_source
    >>> from riskstrat.synth import make_population
    >>> import datetime as dt, tempfile
    >>> pop = make_population(50, start=dt.date(2020, 1, 1), end=dt.date(2021, 1, 1))
    >>> folder = pop.tables.to_parquet(tempfile.mkdtemp())
    >>> report = load_source(folder).mapping
    >>> report.tables.column_names
    ['source_table', 'source_file', 'canonical_table', 'read', 'mapped', 'unmapped']
    >>> "drugs" in report.not_computable
    False
    """

    source: str
    tables: pa.Table
    mapped: pa.Table = field(default_factory=MAPPED_SCHEMA.empty_table)
    unmapped: pa.Table = field(default_factory=UNMAPPED_SCHEMA.empty_table)
    features: pa.Table = field(default_factory=FEATURES_SCHEMA.empty_table)
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name, schema in (
            ("tables", TABLES_SCHEMA),
            ("mapped", MAPPED_SCHEMA),
            ("unmapped", UNMAPPED_SCHEMA),
            ("features", FEATURES_SCHEMA),
        ):
            if not getattr(self, name).schema.equals(schema):
                raise ValueError(f"MappingReport.{name} must have schema {schema}.")
        unmapped = _sum_by(self.unmapped, ["source_table"])
        for row in self.tables.to_pylist():
            t = row["source_table"]
            if row["read"] != row["mapped"] + row["unmapped"]:
                raise ValueError(f"{t}: read != mapped + unmapped: {row}")
            if unmapped.get((t,), 0) != row["unmapped"]:
                raise ValueError(f"{t}: unmapped reasons do not add up: {row}")
        mapped = _sum_by(self.mapped, ["source_table", "aspect"])
        totals = {r["source_table"]: r["mapped"] for r in self.tables.to_pylist()}
        for (t, aspect), n in mapped.items():
            if totals.get(t) != n:
                raise ValueError(
                    f"{t}: mapped rows by {aspect} add up to {n}, not {totals.get(t)}"
                )

    @property
    def not_computable(self) -> tuple[str, ...]:
        """Feature groups this source cannot support."""
        mask = pc.equal(self.features["status"], "not_computable")
        return tuple(self.features.filter(mask)["feature_group"].to_pylist())

    @property
    def partial(self) -> tuple[str, ...]:
        """Feature groups this source supports only in part."""
        mask = pc.equal(self.features["status"], "partial")
        return tuple(self.features.filter(mask)["feature_group"].to_pylist())

    def summary(self) -> str:
        """A few lines for a log or a terminal."""
        lines = [f"source: {self.source}"]
        for r in self.tables.to_pylist():
            target = r["canonical_table"] or "-"
            lines.append(
                f"  {r['source_table']} -> {target}: read {r['read']}, mapped "
                f"{r['mapped']}, unmapped {r['unmapped']}"
            )
        for r in self.unmapped.to_pylist():
            lines.append(f"    unmapped {r['source_table']}.{r['reason']}: {r['rows']}")
        for r in self.features.to_pylist():
            if r["status"] != "computable":
                lines.append(f"  {r['status']}: {r['feature_group']} ({r['reason']})")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def _sum_by(table: pa.Table, keys: list[str]) -> dict[tuple, int]:
    out: dict[tuple, int] = {}
    for r in table.to_pylist():
        k = tuple(r[c] for c in keys)
        out[k] = out.get(k, 0) + int(r["rows"])
    return out


@dataclass(frozen=True, kw_only=True)
class SourceTables(Tables):
    """:class:`Tables` from :func:`load_source`, carrying the mapping report.

    Everything that accepts :class:`Tables` accepts these. ``mapping`` says how
    the source's rows became canonical rows and which features the source
    cannot support; ``rejects`` and ``counts`` are those of the shared
    validation, as for :func:`load_tables`.

    Examples
    --------
    >>> issubclass(SourceTables, Tables)
    True
    """

    mapping: MappingReport | None = None

    def to_parquet(self, directory: str | os.PathLike[str]) -> Path:
        """:meth:`Tables.to_parquet`, and the mapping report beside the tables.

        The report goes into ``_mapping_{tables,mapped,unmapped,features}.parquet``
        so that later runs on the folder (``features``, ``train``) know what the
        source could not support; :func:`read_mapping` reads it back.
        """
        out = super().to_parquet(directory)
        if self.mapping is not None:
            write_mapping(self.mapping, out, self.counts)
        return out


_MAPPING_PARTS = ("tables", "mapped", "unmapped", "features")
_MAPPING_META = b"riskstrat.mapping"


def _accepted(counts: pa.Table) -> str:
    return json.dumps(
        sorted((r["table"], r["accepted"]) for r in counts.to_pylist()),
    )


def write_mapping(report: MappingReport, folder: Path, counts: pa.Table) -> None:
    """Write ``report`` into ``folder`` (see :meth:`SourceTables.to_parquet`)."""
    from riskstrat.sources._tables import write_parquet_atomic

    meta = json.dumps(
        {
            "source": report.source,
            "notes": list(report.notes),
            "accepted": _accepted(counts),
        }
    )
    for part in _MAPPING_PARTS:
        table = getattr(report, part).replace_schema_metadata({_MAPPING_META: meta})
        write_parquet_atomic(table, folder / f"_mapping_{part}.parquet")


def read_mapping(folder: str | os.PathLike[str]) -> MappingReport | None:
    """The mapping report kept in a validated folder, or None.

    None when the folder has no report, or when the report was written for
    other tables (its accepted counts differ from ``_counts.parquet``): a stale
    report is not trusted.

    Examples
    --------
    >>> import tempfile
    >>> read_mapping(tempfile.mkdtemp()) is None
    True
    """
    import pyarrow.parquet as pq

    path = Path(folder)
    files = {p: path / f"_mapping_{p}.parquet" for p in _MAPPING_PARTS}
    if (
        not all(f.is_file() for f in files.values())
        or not (path / "_counts.parquet").is_file()
    ):
        return None
    parts = {p: pq.read_table(f) for p, f in files.items()}
    meta = json.loads((parts["tables"].schema.metadata or {})[_MAPPING_META])
    if meta["accepted"] != _accepted(pq.read_table(path / "_counts.parquet")):
        logger.warning(
            "%s: the mapping report does not match _counts.parquet; ignored", path
        )
        return None
    return MappingReport(
        source=meta["source"],
        notes=tuple(meta["notes"]),
        **{p: t.replace_schema_metadata(None) for p, t in parts.items()},
    )


def assess_features(
    tables: Tables,
    overrides: dict[str, tuple[Status, str]] | None = None,
) -> pa.Table:
    """Status of each feature group of :data:`FEATURE_GROUPS` on ``tables``.

    What the canonical tables show (an absent table, empty columns, urgency
    unknown) is found here; an adapter adds what only it knows through
    ``overrides`` (for example that its diagnoses are SNOMED CT, not ICD-10).
    """
    status: dict[str, tuple[Status, str]] = {}
    adm = tables.admissions
    n = adm.num_rows
    unknown = adm["emergency"].null_count
    if unknown and unknown == n:
        status["emergency_admissions"] = (
            "not_computable",
            f"urgency unknown for all {n} admissions (emergency empty)",
        )
    elif unknown:
        status["emergency_admissions"] = (
            "partial",
            f"urgency unknown for {unknown} of {n} admissions",
        )
    n_false = pc.sum(pc.equal(adm["emergency"], False)).as_py() or 0
    if unknown and n_false == 0:
        status["elective_admissions"] = (
            "not_computable",
            "no admission is known to be elective; urgency unknown for "
            f"{unknown} of {n}",
        )
    elif unknown:
        status["elective_admissions"] = (
            "partial",
            f"urgency unknown for {unknown} of {n} admissions",
        )
    timed = n - adm["admission_time"].null_count
    if n and timed == 0:
        status["admission_time"] = ("not_computable", "no admission times")
    elif timed < n:
        status["admission_time"] = (
            "partial",
            f"admission time known for {timed} of {n} admissions",
        )
    has_dx = pc.or_(
        pc.is_valid(adm["primary_diagnosis"]),
        pc.greater(pc.list_value_length(adm["secondary_diagnoses"]), 0),
    ).fill_null(False)
    is_icd10 = pc.equal(adm["diagnosis_code_system"], "icd10").fill_null(False)
    n_dx = pc.sum(pc.and_(has_dx, is_icd10)).as_py() or 0
    other = _other_systems(adm.filter(pc.and_(has_dx, pc.invert(is_icd10))))
    for group in ("frailty_diagnoses", "comorbidities"):
        if n and n_dx == 0:
            status[group] = (
                "not_computable",
                "no admission has an ICD-10 diagnosis" + other,
            )
        elif n_dx < n:
            status[group] = (
                "partial",
                f"{n - n_dx} of {n} admissions have no ICD-10 diagnosis" + other,
            )
    if "prescriptions" in tables.absent:
        status["drugs"] = ("not_computable", "no prescriptions")
        status["bnf_chapters"] = ("not_computable", "no prescriptions")
    else:
        systems = tables.prescriptions["drug_code_system"]
        n_rx = tables.prescriptions.num_rows
        n_bnf = pc.sum(pc.equal(systems, "bnf")).as_py() or 0
        if n_rx and n_bnf == 0:
            used = sorted(set(systems.to_pylist()) - {None})
            status["bnf_chapters"] = (
                "not_computable",
                f"drug codes are {', '.join(used)}, not BNF",
            )
        elif n_bnf < n_rx:
            status["bnf_chapters"] = (
                "partial",
                f"{n_rx - n_bnf} of {n_rx} prescriptions are not BNF-coded",
            )
    for name, group in (("residences", "residence"), ("nominations", "nominations")):
        if name in tables.absent:
            status[group] = ("not_computable", f"no {name}")
    pts = tables.patients
    for column, group in (
        ("deprivation_decile", "deprivation"),
        ("locality", "locality"),
        ("practice_id", "practice"),
    ):
        known = pts.num_rows - pts[column].null_count
        if pts.num_rows and known == 0:
            status[group] = ("not_computable", f"no {column}")
        elif known < pts.num_rows:
            status[group] = (
                "partial",
                f"{column} known for {known} of {pts.num_rows} patients",
            )
    status.update(overrides or {})
    rows = []
    for group, needs in FEATURE_GROUPS.items():
        st, reason = status.get(group, ("computable", None))
        if st not in _STATUSES:
            raise ValueError(f"unknown feature status {st!r} for {group}")
        rows.append(
            {"feature_group": group, "status": st, "reason": reason, "features": needs}
        )
    return pa.Table.from_pylist(rows, schema=FEATURES_SCHEMA)


def _other_systems(adm: pa.Table) -> str:
    """``; codes in other systems: icd9 12, read 3`` (diagnosis codes, not rows)."""
    if adm.num_rows == 0:
        return ""
    codes = pc.add(
        pc.is_valid(adm["primary_diagnosis"]).cast(pa.int64()),
        pc.list_value_length(adm["secondary_diagnoses"]).fill_null(0).cast(pa.int64()),
    )
    by = (
        pa.table({"system": adm["diagnosis_code_system"], "codes": codes})
        .group_by("system")
        .aggregate([("codes", "sum")])
        .sort_by("system")
        .to_pylist()
    )
    return "; codes in other systems: " + ", ".join(
        f"{r['system'] or 'undeclared'} {r['codes_sum']}" for r in by
    )


def canonical_report(
    tables: Tables, notes: Sequence[str] = (), spells: JoinedSpells | None = None
) -> MappingReport:
    """The report of a canonical folder: every row read is mapped as it is.

    Admissions rows are stays: the ``spell`` aspect says how each became part
    of a spell after validation (``first_stay_of_spell``, ``joined_into_spell``,
    or ``stay_not_joined`` when joining was off; ``rejected_stay`` for rows
    validation rejected), and a note gives stays and spells.
    """
    from riskstrat.sources._spells import REJECTED_STAY_RULE, SPELL_RULES

    rows, mapped = [], []
    notes = list(notes)
    for r in tables.counts.to_pylist():
        if r["source_file"] is None:
            continue
        rows.append(
            {
                "source_table": r["table"],
                "source_file": r["source_file"],
                "canonical_table": r["table"],
                "read": r["read"],
                "mapped": r["read"],
                "unmapped": 0,
            }
        )
        if r["table"] != "admissions":
            continue
        joined = tables.joined_stays
        by_rule = {
            "first_stay_of_spell": 0 if joined is None else r["accepted"] - joined,
            "joined_into_spell": 0 if joined is None else joined,
            "stay_not_joined": r["accepted"] if joined is None else 0,
            "rejected_stay": r["rejected"],
        }
        descriptions = SPELL_RULES | REJECTED_STAY_RULE
        mapped += [
            {
                "source_table": "admissions",
                "aspect": "spell",
                "rule": rule,
                "rows": n,
                "description": descriptions[rule],
            }
            for rule, n in by_rule.items()
            if n
        ]
        if joined is None:
            notes.append(
                f"admissions: {r['accepted']:,} accepted stays kept as admissions "
                "(join_spells=False)"
            )
        else:
            notes.append(
                f"admissions: {r['accepted']:,} accepted stays joined into "
                f"{r['accepted'] - joined:,} spells ({joined:,} stays joined)"
            )
        if spells is not None and spells.held_by_open:
            notes.append(
                f"admissions: {spells.held_by_open:,} stays joined into the spell "
                "of an earlier stay with no discharge_date (still in hospital)"
            )
        if spells is not None and spells.codes_other_system:
            notes.append(
                f"admissions: {spells.codes_other_system:,} diagnosis codes of "
                "joined stays left out: their stay declared another "
                "diagnosis_code_system than the spell's first stay"
            )
    return MappingReport(
        source="canonical",
        tables=pa.Table.from_pylist(rows, schema=TABLES_SCHEMA),
        mapped=pa.Table.from_pylist(mapped, schema=MAPPED_SCHEMA),
        features=assess_features(tables),
        notes=tuple(notes),
    )


@dataclass(kw_only=True)
class ReportParts:
    """Rows of a :class:`MappingReport`, gathered table by table by an adapter.

    ``rules`` and ``reasons`` describe, one line each, every mapping rule and
    unmapped reason the adapter's relations name.
    """

    rules: Mapping[str, str] = field(default_factory=dict)
    reasons: Mapping[str, str] = field(default_factory=dict)
    tables: list[dict] = field(default_factory=list)
    mapped: list[dict] = field(default_factory=list)
    unmapped: list[dict] = field(default_factory=list)

    def tally(
        self,
        con: duckdb.DuckDBPyConnection,
        relation: str,
        view: SourceView,
        *,
        canonical_table: str | None,
        aspects: Sequence[str],
        reasons: Mapping[str, str] | None = None,
    ) -> None:
        """Count the rows of ``relation`` (one per row of ``view``) by rule and reason.

        ``relation`` has ``_row``, ``reason`` (null when the row was mapped) and
        one column per aspect naming the rule that decided it for mapped rows.
        Every rule and reason met must be described in ``rules`` / ``reasons``;
        ``reasons`` given here replaces the adapter's texts for this table (to
        add what was found in the data).
        """
        source_table = view.name
        reasons = self.reasons if reasons is None else reasons
        read, n_unmapped = run(con, f"SELECT count(*), count(reason) FROM {relation}")[
            0
        ]
        self.tables.append(
            {
                "source_table": source_table,
                "source_file": view.label,
                "canonical_table": canonical_table,
                "read": int(read),
                "mapped": int(read - n_unmapped),
                "unmapped": int(n_unmapped),
            }
        )
        for reason, rows, first in run(
            con,
            f"SELECT reason, count(*), min(_row) FROM {relation} "
            "WHERE reason IS NOT NULL GROUP BY reason ORDER BY reason",
        ):
            self.unmapped.append(
                {
                    "source_table": source_table,
                    "reason": reason,
                    "rows": int(rows),
                    "first_row": int(first),
                    "description": reasons[reason],
                }
            )
        for aspect in aspects:
            for rule, rows in run(
                con,
                f"SELECT {aspect}, count(*) FROM {relation} WHERE reason IS NULL "
                f"GROUP BY {aspect} ORDER BY {aspect}",
            ):
                self.mapped.append(
                    {
                        "source_table": source_table,
                        "aspect": aspect,
                        "rule": rule,
                        "rows": int(rows),
                        "description": self.rules[rule],
                    }
                )

    def count(self, source_table: str, key: str) -> int:
        """``read``, ``mapped`` or ``unmapped`` of one source table (0 if absent)."""
        for r in self.tables:
            if r["source_table"] == source_table:
                return int(r[key])
        return 0

    def reason_rows(self, source_table: str, reason: str) -> int:
        """Unmapped rows of ``source_table`` for ``reason``."""
        return sum(
            r["rows"]
            for r in self.unmapped
            if r["source_table"] == source_table and r["reason"] == reason
        )

    def report(
        self, source: str, features: pa.Table, notes: Sequence[str] = ()
    ) -> MappingReport:
        """The finished report."""
        return MappingReport(
            source=source,
            tables=pa.Table.from_pylist(self.tables, schema=TABLES_SCHEMA),
            mapped=pa.Table.from_pylist(self.mapped, schema=MAPPED_SCHEMA),
            unmapped=pa.Table.from_pylist(self.unmapped, schema=UNMAPPED_SCHEMA),
            features=features,
            notes=tuple(notes),
        )


def with_report(tables: Tables, report: MappingReport) -> SourceTables:
    """``tables`` as :class:`SourceTables` carrying ``report``."""
    values = {f.name: getattr(tables, f.name) for f in fields(Tables)}
    return SourceTables(**values, mapping=report)
