"""The data contract: the canonical tables, declared once, as data.

Every source adapter produces these tables; :func:`riskstrat.sources.load_tables`
validates against them at the edge and everything downstream trusts them.
``docs/data-contract.md`` documents the same contract and a test keeps both in sync.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import pyarrow as pa

__all__ = [
    "CONTRACT",
    "DIAGNOSIS_CODE_SYSTEMS",
    "DICTIONARY_STRING",
    "DRUG_CODE_SYSTEMS",
    "EARLIEST_DATE",
    "LATEST_DATE",
    "REJECTS_SCHEMA",
    "RESIDENCE_TYPES",
    "SCREENING_OUTCOMES",
    "SEXES",
    "Column",
    "TableSchema",
]

DType = Literal["string", "date", "bool", "int", "time", "list<string>"]

SEXES = ("female", "male", "other", "unknown")
RESIDENCE_TYPES = ("private", "residential_home", "nursing_home")
SCREENING_OUTCOMES = ("accepted", "declined", "unsuitable")
DRUG_CODE_SYSTEMS = ("bnf", "dmd", "atc", "rxnorm")
DIAGNOSIS_CODE_SYSTEMS = ("icd10", "icd9", "snomed", "read")

#: Dates before this are treated as impossible (rule ``impossible_date``).
EARLIEST_DATE = dt.date(1900, 1, 1)

#: Dates after this are treated as impossible even with no extract date (an
#: "open" sentinel such as 9999-12-31 must be left empty instead).
LATEST_DATE = dt.date(2199, 12, 31)

#: Arrow type of a dictionary-encoded string column (``Column.dictionary``).
DICTIONARY_STRING = pa.dictionary(pa.int32(), pa.string())

_ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "date": pa.date32(),
    "bool": pa.bool_(),
    "int": pa.int32(),
    "time": pa.time32("s"),
    "list<string>": pa.list_(pa.string()),
}


@dataclass(frozen=True, kw_only=True)
class Column:
    """One column of a canonical table.

    Parameters
    ----------
    name : str
        snake_case column name.
    dtype : {"string", "date", "bool", "int", "time", "list<string>"}
        Logical type; :meth:`arrow_type` gives the Arrow type it is stored as.
    required : bool, default=False
        The column must be present in the source. Missing is a ``SchemaError``.
    nullable : bool, default=True
        Empty values are allowed. A null in a non-nullable column sends the row to
        rejects (rule ``missing_required``).
    allowed : tuple of str, default=None
        Allowed values (compared after trimming and lower-casing).
    min_value, max_value : int, default=None
        Inclusive bounds for ``int`` columns (rule ``out_of_range``).
    dictionary : bool, default=False
        Store a ``string`` column dictionary-encoded (``dictionary<int32,
        string>``): for codes and names that repeat across tens of millions of
        rows, each row then costs four bytes instead of its text (decision 0008).
    description : str
        One line for ``docs/data-contract.md``.
    """

    name: str
    dtype: DType
    required: bool = False
    nullable: bool = True
    allowed: tuple[str, ...] | None = None
    min_value: int | None = None
    max_value: int | None = None
    dictionary: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        if self.dtype not in _ARROW_TYPES:
            raise ValueError(
                f"The `dtype` of column {self.name!r} must be one of "
                f"{sorted(_ARROW_TYPES)}. Got {self.dtype!r} instead."
            )
        if self.dictionary and self.dtype != "string":
            raise ValueError(
                f"Column {self.name!r}: only a string column can be dictionary-"
                f"encoded. Got dtype {self.dtype!r}."
            )

    @property
    def arrow_type(self) -> pa.DataType:
        """Arrow type of the column in an accepted table.

        Examples
        --------
        >>> Column(name="drug_name", dtype="string", dictionary=True).arrow_type
        DictionaryType(dictionary<values=string, indices=int32, ordered=0>)
        """
        if self.dictionary:
            return DICTIONARY_STRING
        return _ARROW_TYPES[self.dtype]


@dataclass(frozen=True, kw_only=True)
class TableSchema:
    """One canonical table: its columns and how its rows relate to patients.

    Parameters
    ----------
    name : str
        Table name; a source file is ``<name>.csv`` or ``<name>.parquet``.
    columns : tuple of Column
        In canonical order.
    required : bool
        The table must be supplied. An optional table that is absent is an empty
        table and is listed in ``Tables.absent``.
    event_date : str or None
        The column dating each row (checked against death and extract dates).
    end_date : str or None
        The column ending each row's interval, if any (must not precede
        ``event_date``: rule ``end_before_start``).
    description : str
        One line for ``docs/data-contract.md``.
    """

    name: str
    columns: tuple[Column, ...]
    required: bool
    event_date: str | None = None
    end_date: str | None = None
    description: str = ""
    _by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {c.name: c for c in self.columns})

    def __getitem__(self, name: str) -> Column:
        return self._by_name[name]

    @property
    def names(self) -> tuple[str, ...]:
        """Column names in canonical order."""
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        """Names of the columns a source must supply."""
        return tuple(c.name for c in self.columns if c.required)

    def arrow_schema(self) -> pa.Schema:
        """Arrow schema of an accepted table.

        Examples
        --------
        >>> CONTRACT["nominations"].arrow_schema().names
        ['patient_id', 'date', 'reason']
        """
        return pa.schema(
            [pa.field(c.name, c.arrow_type, nullable=c.nullable) for c in self.columns]
        )

    def empty(self) -> pa.Table:
        """An empty table with this schema."""
        return self.arrow_schema().empty_table()


_PID = Column(
    name="patient_id",
    dtype="string",
    required=True,
    nullable=False,
    description="Pseudonymous patient identifier.",
)

CONTRACT: MappingProxyType[str, TableSchema] = MappingProxyType(
    {
        "patients": TableSchema(
            name="patients",
            required=True,
            description="One row per person. A person counts on `as_of` when alive "
            "and, where the dates are given, registered.",
            columns=(
                _PID,
                Column(
                    name="birth_date",
                    dtype="date",
                    required=True,
                    nullable=False,
                    description="Date of birth. A source with only `year_of_birth` "
                    "gets 1 July of that year.",
                ),
                Column(
                    name="sex",
                    dtype="string",
                    required=True,
                    nullable=False,
                    allowed=SEXES,
                    description="Sex.",
                ),
                Column(name="locality", dtype="string", description="Locality."),
                Column(name="practice_id", dtype="string", description="GP practice."),
                Column(
                    name="deprivation_decile",
                    dtype="int",
                    min_value=1,
                    max_value=10,
                    description="Index of multiple deprivation decile, 1 = most "
                    "deprived.",
                ),
                Column(name="death_date", dtype="date", description="Date of death."),
                Column(
                    name="registration_date",
                    dtype="date",
                    description="Date registered with the practice.",
                ),
                Column(
                    name="deregistration_date",
                    dtype="date",
                    description="Date left the practice (null = still registered).",
                ),
            ),
        ),
        "admissions": TableSchema(
            name="admissions",
            required=True,
            event_date="admission_date",
            end_date="discharge_date",
            description="One row per hospital spell. Bed days = discharge_date - "
            "admission_date (a same-day spell is 0 bed days and still an admission).",
            columns=(
                _PID,
                Column(
                    name="admission_date",
                    dtype="date",
                    required=True,
                    nullable=False,
                    description="Date of admission.",
                ),
                Column(
                    name="discharge_date",
                    dtype="date",
                    description="Date of discharge (null = still in hospital).",
                ),
                Column(
                    name="emergency",
                    dtype="bool",
                    nullable=True,
                    description="Emergency admission, from the admission method. "
                    "Empty = urgency unknown: counted apart, never guessed. "
                    "Required unless `admission_method` is given.",
                ),
                Column(
                    name="primary_diagnosis",
                    dtype="string",
                    description="ICD-10, upper case without dot (K59.0 -> K590).",
                ),
                Column(
                    name="secondary_diagnoses",
                    dtype="list<string>",
                    description="ICD-10 codes; in CSV split on a pipe or semicolon.",
                ),
                Column(
                    name="admission_time",
                    dtype="time",
                    description="Time of admission, HH:MM or HH:MM:SS.",
                ),
                Column(
                    name="admission_method",
                    dtype="string",
                    description="NHS CDS admission method code (11-13 elective, "
                    "21-2D emergency, 31-32 maternity, 81-83 other, 98-99 not "
                    "known) or a word of the documented table; when known it "
                    "decides `emergency`.",
                ),
                Column(
                    name="diagnosis_code_system",
                    dtype="string",
                    allowed=DIAGNOSIS_CODE_SYSTEMS,
                    description="Coding system of the diagnoses: icd10, icd9, "
                    "snomed or read. Features use ICD-10 only. When the column is "
                    "absent: icd10, and a row with a code not shaped like ICD-10 "
                    "is rejected.",
                ),
            ),
        ),
        "prescriptions": TableSchema(
            name="prescriptions",
            required=False,
            event_date="issue_date",
            description="One row per prescription issue.",
            columns=(
                _PID,
                Column(
                    name="issue_date",
                    dtype="date",
                    required=True,
                    nullable=False,
                    description="Date issued.",
                ),
                Column(
                    name="drug_code",
                    dtype="string",
                    required=True,
                    nullable=False,
                    dictionary=True,
                    description="Drug code in the system named by drug_code_system.",
                ),
                Column(
                    name="drug_code_system",
                    dtype="string",
                    allowed=DRUG_CODE_SYSTEMS,
                    dictionary=True,
                    description="Coding system of drug_code: bnf, dmd, atc or "
                    "rxnorm. When the column is absent `load_tables` fills it from "
                    "its `drug_code_system` argument.",
                ),
                Column(
                    name="drug_name",
                    dtype="string",
                    dictionary=True,
                    description="Drug name.",
                ),
            ),
        ),
        "residences": TableSchema(
            name="residences",
            required=False,
            event_date="start_date",
            end_date="end_date",
            description="One row per period at a residence type. No row = private.",
            columns=(
                _PID,
                Column(
                    name="start_date",
                    dtype="date",
                    required=True,
                    nullable=False,
                    description="First day at this residence.",
                ),
                Column(
                    name="end_date",
                    dtype="date",
                    description="First day no longer there (null = still there).",
                ),
                Column(
                    name="residence_type",
                    dtype="string",
                    required=True,
                    nullable=False,
                    allowed=RESIDENCE_TYPES,
                    description="private, residential_home or nursing_home.",
                ),
            ),
        ),
        "nominations": TableSchema(
            name="nominations",
            required=False,
            event_date="date",
            description="Clinician nominations for case management (clinical "
            "judgement).",
            columns=(
                _PID,
                Column(
                    name="date",
                    dtype="date",
                    required=True,
                    nullable=False,
                    description="Date of nomination.",
                ),
                Column(name="reason", dtype="string", description="Free-text reason."),
            ),
        ),
        "enrolments": TableSchema(
            name="enrolments",
            required=False,
            event_date="enrol_date",
            end_date="end_date",
            description="Case-management enrolments.",
            columns=(
                _PID,
                Column(
                    name="enrol_date",
                    dtype="date",
                    required=True,
                    nullable=False,
                    description="Date enrolled.",
                ),
                Column(
                    name="end_date",
                    dtype="date",
                    description="Date discharged from case management (null = open).",
                ),
                Column(name="locality", dtype="string", description="Locality."),
            ),
        ),
        "screenings": TableSchema(
            name="screenings",
            required=False,
            event_date="date",
            description="Case managers' screening decisions on listed people.",
            columns=(
                _PID,
                Column(
                    name="date",
                    dtype="date",
                    required=True,
                    nullable=False,
                    description="Date of the screening decision.",
                ),
                Column(
                    name="outcome",
                    dtype="string",
                    required=True,
                    nullable=False,
                    allowed=SCREENING_OUTCOMES,
                    description="accepted, declined or unsuitable.",
                ),
            ),
        ),
    }
)

#: One row per rejected source row.
REJECTS_SCHEMA = pa.schema(
    [
        pa.field("table", pa.string(), nullable=False),
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("row", pa.int64(), nullable=False),
        pa.field("patient_id", pa.string()),
        pa.field("column", pa.string()),
        pa.field("rule", pa.string(), nullable=False),
        pa.field("value", pa.string()),
        pa.field("message", pa.string(), nullable=False),
    ]
)
