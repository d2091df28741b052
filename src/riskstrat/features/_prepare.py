"""Engine-neutral inputs for the feature SQL, derived from the canonical tables.

Both engines receive exactly these tables, so the SQL never needs engine-specific
list or time functions: diagnoses are exploded to one row per code, the hour of
admission is an integer, and the BNF chapter is a column.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from riskstrat.features._comorbidity import code_map

__all__: list[str] = []


def unknown_groups(tables) -> frozenset[str]:
    """Feature groups the tables' source cannot support: their features are NULL.

    The groups the mapping report of a :class:`~riskstrat.sources.SourceTables`
    lists as ``not_computable``; for plain tables, those that
    ``assess_features`` finds from the tables themselves (an absent table, all
    urgency unknown, no diagnosis at all).
    """
    mapping = getattr(tables, "mapping", None)
    if mapping is not None:
        return frozenset(mapping.not_computable)
    from riskstrat.sources._mapping import assess_features

    status = assess_features(tables).to_pydict()
    return frozenset(
        g
        for g, st in zip(status["feature_group"], status["status"], strict=True)
        if st == "not_computable"
    )


def prepare(tables, *, issued_from=None, issued_before=None) -> dict[str, pa.Table]:
    """The tables the feature SQL reads (names are the SQL view names).

    ``issued_from`` / ``issued_before`` keep only the prescriptions the SQL can
    use (a predicate pushed down before either engine scans them).
    """
    adm = tables.admissions
    hour = pc.divide(adm["admission_time"].cast(pa.int32()), 3600)
    admissions = pa.table(
        {
            "patient_id": adm["patient_id"],
            "admission_date": adm["admission_date"],
            "discharge_date": adm["discharge_date"],
            "emergency": adm["emergency"],
            "admission_hour": hour.cast(pa.int32()),
        }
    )
    # Diagnoses: primary and every secondary code, one row each.
    n = adm.num_rows
    sec = (
        adm["secondary_diagnoses"].combine_chunks()
        if n
        else pa.array([], pa.list_(pa.string()))
    )
    parent = pc.list_parent_indices(sec) if n else pa.array([], pa.int64())
    flat = pc.list_flatten(sec) if n else pa.array([], pa.string())
    idx = pa.concat_arrays([pa.array(range(n), pa.int64()), parent.cast(pa.int64())])
    codes = pa.concat_arrays(
        [
            adm["primary_diagnosis"].combine_chunks().cast(pa.string()),
            flat.cast(pa.string()),
        ]
    )
    # Features use ICD-10 only; codes of other systems are counted in the
    # mapping report (assess_features), never read as ICD-10.
    system = pc.take(adm["diagnosis_code_system"], idx)
    keep = pc.and_(pc.is_valid(codes), pc.equal(system, "icd10").fill_null(False))
    idx, codes = pc.filter(idx, keep), pc.filter(codes, keep)
    diagnoses = pa.table(
        {
            "patient_id": pc.take(adm["patient_id"], idx),
            "admission_date": pc.take(adm["admission_date"], idx),
            "code": codes,
            "code3": pc.utf8_slice_codeunits(codes, 0, 3),
            "code4": pc.utf8_slice_codeunits(codes, 0, 4),
        }
    )
    rx = tables.prescriptions
    if issued_from is not None and issued_before is not None:
        d = rx["issue_date"]
        lo = pa.scalar(issued_from, pa.date32())
        hi = pa.scalar(issued_before, pa.date32())
        rx = rx.filter(pc.and_(pc.greater_equal(d, lo), pc.less(d, hi)))
    # Codes are dictionary-encoded in the contract; the SQL gets plain text (only
    # the rows in the drug window are decoded).
    code = rx["drug_code"].cast(pa.string())
    is_bnf = pc.equal(rx["drug_code_system"], "bnf")
    chapter = pc.if_else(
        is_bnf, pc.utf8_slice_codeunits(code, 0, 2), pa.scalar(None, pa.string())
    )
    prescriptions = pa.table(
        {
            "patient_id": rx["patient_id"],
            "issue_date": rx["issue_date"],
            "drug_code": code,
            "bnf_chapter": chapter,
        }
    )
    return {
        "patients": tables.patients,
        "admissions": admissions,
        "diagnoses": diagnoses,
        "prescriptions": prescriptions,
        "residences": tables.residences,
        "nominations": tables.nominations.select(["patient_id", "date"]),
        "code_map": code_map(),
    }
