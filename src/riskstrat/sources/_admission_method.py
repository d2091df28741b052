"""Admission method: the NHS code (or a plain word) from which ``emergency`` follows.

The NHS Commissioning Data Set (CDS) records how a patient was admitted as a
two-character admission method. Its first character is the group:

==========  ===========  ============================================  =========
codes       group        meaning                                       emergency
==========  ===========  ============================================  =========
11, 12, 13  elective     waiting list, booked, planned                 false
21-28,      emergency    via A&E, GP, bed bureau, consultant clinic,   true
2A-2D                    mental-health crisis team, A&E of another
                         provider, other
31, 32      maternity    ante-partum, post-partum                      false
81, 82, 83  other        transfer from another provider, births        false
98, 99      unknown      not applicable, not known                     null
==========  ===========  ============================================  =========

Sources that write the method as text use the words of :data:`METHOD_WORDS`
(case and surrounding spaces ignored). Any other value is not allowed: the row
goes to rejects (``not_allowed`` on ``admission_method``) rather than being
guessed.
"""

from __future__ import annotations

from types import MappingProxyType

import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "CDS_ADMISSION_METHODS",
    "EMERGENCY_OF_GROUP",
    "METHOD_WORDS",
    "method_group",
]

_EMERGENCY_CODES: tuple[str, ...] = (
    *("21", "22", "23", "24", "25", "26", "27", "28"),
    *("2A", "2B", "2C", "2D"),
)

#: CDS admission method code -> group.
CDS_ADMISSION_METHODS: MappingProxyType[str, str] = MappingProxyType(
    {
        **dict.fromkeys(("11", "12", "13"), "elective"),
        **dict.fromkeys(_EMERGENCY_CODES, "emergency"),
        **dict.fromkeys(("31", "32"), "maternity"),
        **dict.fromkeys(("81", "82", "83"), "other"),
        **dict.fromkeys(("98", "99"), "unknown"),
    }
)

#: Words (lower case) a source may give instead of a CDS code -> group.
METHOD_WORDS: MappingProxyType[str, str] = MappingProxyType(
    {
        **dict.fromkeys(
            ("elective", "planned", "waiting list", "booked", "day case"), "elective"
        ),
        **dict.fromkeys(
            (
                "emergency",
                "urgent",
                "unplanned",
                "a&e",
                "accident and emergency",
                "emergency admission",
            ),
            "emergency",
        ),
        "maternity": "maternity",
        **dict.fromkeys(("transfer", "other"), "other"),
        **dict.fromkeys(("unknown", "not known"), "unknown"),
    }
)

#: Group -> the ``emergency`` flag (None = unknown).
EMERGENCY_OF_GROUP: MappingProxyType[str, bool | None] = MappingProxyType(
    {
        "elective": False,
        "emergency": True,
        "maternity": False,
        "other": False,
        "unknown": None,
    }
)


def method_group(methods: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The group of each admission method; null when empty or not in the tables.

    Examples
    --------
    >>> import pyarrow as pa
    >>> method_group(pa.array(["21", " 2a", "11", "Emergency", "x", None])).to_pylist()
    ['emergency', 'emergency', 'elective', 'emergency', None, None]
    """
    text = pc.utf8_trim_whitespace(pc.cast(methods, pa.string()))
    keys = list(CDS_ADMISSION_METHODS) + list(METHOD_WORDS)
    groups = list(CDS_ADMISSION_METHODS.values()) + list(METHOD_WORDS.values())
    by_code = pc.index_in(pc.utf8_upper(text), value_set=pa.array(keys))
    by_word = pc.index_in(pc.utf8_lower(text), value_set=pa.array(keys))
    idx = pc.coalesce(by_code, by_word)
    return pc.take(pa.array(groups), idx)


def emergency_of(groups: pa.Array) -> pa.Array:
    """``emergency`` from a method group (null for unknown or no group).

    Examples
    --------
    >>> import pyarrow as pa
    >>> emergency_of(pa.array(["emergency", "maternity", "unknown", None])).to_pylist()
    [True, False, None, None]
    """
    names = [g for g, e in EMERGENCY_OF_GROUP.items() if e is not None]
    flags = [EMERGENCY_OF_GROUP[g] for g in names]
    return pc.take(
        pa.array(flags, pa.bool_()), pc.index_in(groups, value_set=pa.array(names))
    )


def apply_admission_method(
    method: pa.Array | pa.ChunkedArray, emergency: pa.Array | pa.ChunkedArray
) -> tuple[pa.Array, pa.Array]:
    """``emergency`` with the method's verdict where the method is known.

    A method of a known group (elective, emergency, maternity, other) decides
    ``emergency``; an empty method, or one in the *unknown* group (98, 99),
    leaves the ``emergency`` column as it was (null when the source gave none).
    Returns the new ``emergency`` and a boolean mask of methods that are in
    neither table (``not_allowed``).

    Examples
    --------
    >>> import pyarrow as pa
    >>> em, bad = apply_admission_method(
    ...     pa.array(["22", "11", "99", None, "zz"]),
    ...     pa.array([None, True, True, False, None], pa.bool_()),
    ... )
    >>> em.to_pylist(), bad.to_pylist()
    ([True, False, True, False, None], [False, False, False, False, True])
    """
    if isinstance(method, pa.ChunkedArray):
        method = method.combine_chunks()
    if isinstance(emergency, pa.ChunkedArray):
        emergency = emergency.combine_chunks()
    text = pc.utf8_trim_whitespace(pc.cast(method, pa.string()))
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    group = method_group(text)
    bad = pc.and_(pc.is_valid(text), pc.is_null(group)).fill_null(False)
    derived = emergency_of(group)
    out = pc.if_else(pc.is_valid(derived), derived, emergency)
    return out, bad
