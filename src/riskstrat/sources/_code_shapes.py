"""Code systems are declared, and codes are checked against their system's shape.

Diagnoses (``admissions.diagnosis_code_system``) and drugs
(``prescriptions.drug_code_system``) each name their coding system. A code is
checked against the shape of the system its row declares (after the loader's
normalisation: upper case, no dot, no space); a code of the wrong shape sends
the row to rejects (``unparseable``, naming the system). A shape cannot tell
every system apart (ICD-9 ``E870`` and ICD-10 ``E87.0`` look alike), which is
why the system is declared, not guessed. When a file has no system column, one
is inferred only if every code fits exactly one system's shape; otherwise the
file is refused with a :class:`~riskstrat.exceptions.SchemaError`.

===========  ===================================================  ==============
system       shape (normalised)                                   example
===========  ===================================================  ==============
icd10        letter, digit, digit or letter; then a digit or X,   ``K590``,
             then up to three letters or digits                   ``I10X``,
                                                                  ``S72001A``
icd9         three digits, ``V`` and two, or ``E`` and three;     ``4280``,
             then up to two digits                                ``E870``
snomed       6 to 18 digits, a concept's partition (00 or 10)     ``22298006``
             before the check digit
read         five letters or digits (Read v2 / CTV3; the dots     ``C10E7``,
             that pad short codes are dropped)                    ``G30``
bnf          a drug, not a chapter: seven digits (chapter to       ``0205051R0``
             sub-paragraph), the chemical substance (a letter and
             a letter or digit), then product, strength and
             equivalent (two characters each, optional)
dmd          as snomed (dm+d codes are SNOMED CT concepts)        ``317896006``
atc          an ATC code at any level                             ``C09AA05``
rxnorm       1 to 7 digits (RxCUI), or ``OMOP`` and digits (RxNorm  ``197361``
             Extension)
===========  ===================================================  ==============
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "DIAGNOSIS_SHAPES",
    "DRUG_SHAPES",
    "ICD10_ONLY",
    "infer_system",
    "wrong_shape",
]

#: A SNOMED CT concept identifier: 6 to 18 digits whose partition identifier
#: (the two digits before the check digit) is 00 or 10 (a concept).
_SCTID = r"^[0-9]{3,15}[01]0[0-9]$"

DIAGNOSIS_SHAPES: MappingProxyType[str, str] = MappingProxyType(
    {
        "icd10": r"^[A-Z][0-9][0-9A-Z]([0-9X][0-9A-Z]{0,3})?$",
        "icd9": r"^([0-9]{3}|V[0-9]{2}|E[0-9]{3})[0-9]{0,2}$",
        "snomed": _SCTID,
        "read": r"^[0-9A-Z]{2,5}$",
    }
)
#: Diagnoses without a declared system are ICD-10 only if every code fits it
#: (a Read or ICD-9 code that looks like ICD-10 cannot be told apart: declare).
ICD10_ONLY: MappingProxyType[str, str] = MappingProxyType(
    {"icd10": DIAGNOSIS_SHAPES["icd10"]}
)
DRUG_SHAPES: MappingProxyType[str, str] = MappingProxyType(
    {
        "bnf": r"^[0-9]{7}[A-Z][0-9A-Z]([0-9A-Z]{2}([0-9A-Z]{2}([0-9A-Z]{2})?)?)?$",
        "dmd": _SCTID,
        "atc": r"^[A-Z]([0-9]{2}([A-Z]([A-Z]([0-9]{2})?)?)?)?$",
        "rxnorm": r"^([0-9]{1,7}|OMOP[0-9]{1,9})$",
    }
)


def _upper(codes: pa.Array) -> pa.Array:
    return pc.utf8_upper(pc.cast(codes, pa.string()))


def infer_system(codes: pa.Array, shapes: Mapping[str, str]) -> str | None:
    """The one system every (non-null) code fits, or None when not exactly one.

    Examples
    --------
    >>> import pyarrow as pa
    >>> infer_system(pa.array(["0205051R0", "0212000B0"]), DRUG_SHAPES)
    'bnf'
    >>> infer_system(pa.array(["00021433580"]), DRUG_SHAPES) is None  # NDC
    True
    >>> infer_system(pa.array(["K590", "I10X"]), ICD10_ONLY)
    'icd10'
    >>> infer_system(pa.array(["K590", "4280"]), ICD10_ONLY) is None
    True
    """
    values = pc.unique(_upper(distinct_text(codes)))
    if len(values) == 0:
        return None
    fits = [
        name
        for name, shape in shapes.items()
        if pc.all(pc.match_substring_regex(values, shape)).as_py()
    ]
    return fits[0] if len(fits) == 1 else None


def wrong_shape(
    codes: pa.Array, systems: pa.Array, shapes: Mapping[str, str]
) -> np.ndarray:
    """Mask of codes that do not fit the shape of their row's declared system.

    A null code or a null or unknown system is not flagged (the system column's
    own check handles an unknown system).

    Examples
    --------
    >>> import pyarrow as pa
    >>> wrong_shape(
    ...     pa.array(["C10E7", "C10E7", "K590", "4280", None]),
    ...     pa.array(["icd10", "read", "icd10", "icd10", "icd10"]),
    ...     DIAGNOSIS_SHAPES,
    ... ).tolist()
    [True, False, False, True, False]
    """
    text = _upper(codes)
    systems = pc.cast(systems, pa.string())
    bad = np.zeros(len(text), dtype=bool)
    for name, shape in shapes.items():
        of_system = pc.equal(systems, name).fill_null(False)
        misfit = pc.invert(pc.match_substring_regex(text, shape))
        hit = pc.and_(of_system, misfit).fill_null(False)
        bad |= np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)
    return bad


def wrong_diagnosis_rows(
    primary: pa.Array, secondary: pa.Array, systems: pa.Array
) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose primary, and rows whose secondary, diagnoses misfit the system.

    Examples
    --------
    >>> import pyarrow as pa
    >>> p, s = wrong_diagnosis_rows(
    ...     pa.array(["K590", "G3011"]),
    ...     pa.array([["E86", "4280"], []], pa.list_(pa.string())),
    ...     pa.array(["icd10", "icd10"]),
    ... )
    >>> p.tolist(), s.tolist()
    ([False, False], [True, False])
    """
    n = len(primary)
    bad_primary = wrong_shape(primary, systems, DIAGNOSIS_SHAPES)
    if isinstance(secondary, pa.ChunkedArray):
        secondary = secondary.combine_chunks()
    if isinstance(systems, pa.ChunkedArray):
        systems = systems.combine_chunks()
    flat = pc.list_flatten(secondary)
    parent = pc.list_parent_indices(secondary)
    bad_flat = wrong_shape(flat, pc.take(systems, parent), DIAGNOSIS_SHAPES)
    bad_secondary = np.zeros(n, dtype=bool)
    parents = np.asarray(parent.to_numpy(zero_copy_only=False))
    bad_secondary[parents[bad_flat]] = True
    return bad_primary, bad_secondary


def distinct_text(codes: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The distinct non-null values of a (possibly dictionary-encoded) column."""
    chunks = codes.chunks if isinstance(codes, pa.ChunkedArray) else [codes]
    parts = []
    for chunk in chunks:
        if pa.types.is_dictionary(chunk.type):
            chunk = pc.take(chunk.dictionary, pc.unique(chunk.indices))
        parts.append(pc.cast(chunk, pa.string()))
    if not parts:
        return pa.array([], pa.string())
    return pc.drop_null(pc.unique(pa.concat_arrays(parts)))


def wrong_drug_rows(
    codes: pa.Array | pa.ChunkedArray, systems: pa.Array | pa.ChunkedArray
) -> np.ndarray:
    """Rows whose drug code misfits the shape of its declared system.

    Dictionary-encoded columns are checked on their dictionaries, so tens of
    millions of rows cost one pass over the distinct codes per system.

    Examples
    --------
    >>> import pyarrow as pa
    >>> wrong_drug_rows(
    ...     pa.array(["0205051R0", "00021433580", "197361"]).dictionary_encode(),
    ...     pa.array(["bnf", "bnf", "rxnorm"]),
    ... ).tolist()
    [False, True, False]
    """
    if isinstance(codes, pa.ChunkedArray):
        codes = codes.combine_chunks() if codes.num_chunks != 1 else codes.chunk(0)
    if isinstance(systems, pa.ChunkedArray):
        systems = (
            systems.combine_chunks() if systems.num_chunks != 1 else systems.chunk(0)
        )
    if pa.types.is_dictionary(codes.type):
        values, indices = codes.dictionary, codes.indices
    else:
        values, indices = codes, pa.array(np.arange(len(codes), dtype=np.int32))
    values = _upper(values)
    systems = pc.cast(systems, pa.string())
    bad = np.zeros(len(codes), dtype=bool)
    for name, shape in DRUG_SHAPES.items():
        of_system = np.asarray(
            pc.equal(systems, name).fill_null(False).to_numpy(zero_copy_only=False),
            dtype=bool,
        )
        if not of_system.any():
            continue
        misfit = pc.invert(pc.match_substring_regex(values, shape)).fill_null(False)
        row_misfit = pc.take(misfit, indices).fill_null(False)
        bad |= of_system & np.asarray(
            row_misfit.to_numpy(zero_copy_only=False), dtype=bool
        )
    return bad
