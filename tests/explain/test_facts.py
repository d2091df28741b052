from __future__ import annotations

import datetime as dt

import pytest

from explain._tiny import AS_OF
from riskstrat.explain._facts import (
    Admission,
    Record,
    bed_days,
    frailty_events,
    read_records,
)
from riskstrat.features import FeatureSpec

D = dt.date


@pytest.mark.parametrize(
    ("admitted", "discharged", "expected"),
    [
        (D(2023, 3, 1), D(2023, 3, 1), 0),  # same day: 0 bed days, still an admission
        (D(2023, 3, 1), D(2023, 3, 5), 4),
        (D(2023, 3, 25), None, 7),  # still in: counted up to as_of
        (D(2023, 3, 25), D(2023, 4, 20), 7),  # discharged after as_of: cut at as_of
    ],
)
def test_bed_days(admitted, discharged, expected):
    assert bed_days(Admission(admitted, discharged, True, []), AS_OF) == expected


def test_frailty_events_latest_per_indicator_and_the_age_rule():
    rec = Record(
        admissions=[
            Admission(D(2022, 1, 1), D(2022, 1, 2), True, ["W01"]),  # > 12 months
            Admission(D(2022, 6, 1), D(2022, 6, 2), True, ["W10"]),
            Admission(D(2022, 9, 1), D(2022, 9, 2), True, ["J18.9", "W19X"]),
            Admission(D(2022, 10, 1), D(2022, 10, 2), False, ["K59.0", "R11"]),
            Admission(D(2022, 12, 1), D(2022, 12, 2), True, ["n39.0"]),
        ]
    )
    spec = FeatureSpec()
    events = frailty_events(rec, as_of=AS_OF, spec=spec, age=70)
    assert events == [
        ("urinary_tract_infection", "N39.0", D(2022, 12, 1)),
        ("constipation", "K59.0", D(2022, 10, 1)),
        ("fall", "W19", D(2022, 9, 1)),
    ]
    older = frailty_events(rec, as_of=AS_OF, spec=spec, age=71)
    assert ("nausea_vomiting", "R11", D(2022, 10, 1)) in older
    assert frailty_events(rec, as_of=AS_OF, spec=spec, age=None) == events


def test_read_records_only_reads_before_as_of(tiny_tables):
    recs, absent = read_records(
        tiny_tables, ["p1", "p3"], as_of=AS_OF, spec=FeatureSpec()
    )
    assert absent == frozenset()
    p1 = recs["p1"]
    assert [a.admitted for a in p1.admissions] == [
        D(2020, 1, 1),
        D(2022, 6, 10),
        D(2022, 11, 20),
        D(2023, 3, 2),
    ]
    assert (p1.drugs, p1.items, p1.latest_issue) == (7, 8, D(2023, 3, 20))
    assert p1.residence == ("nursing_home", D(2023, 3, 11))
    assert p1.nomination is None  # the only nomination is after as_of
    assert "p3" not in recs  # everything p3 has happens on or after as_of


def test_drug_codes_in_chunks_with_different_dictionaries_are_counted():
    """Validated Parquet is read in chunks whose dictionaries differ (1 drug each)."""
    import datetime as dt

    import pyarrow as pa

    from riskstrat.explain._facts import read_records
    from riskstrat.features import FeatureSpec
    from riskstrat.sources import CONTRACT, Tables

    schema = CONTRACT["prescriptions"].arrow_schema()

    def chunk(codes):
        n = len(codes)
        return pa.table(
            {
                "patient_id": ["a"] * n,
                "issue_date": [dt.date(2024, 1, 2)] * n,
                "drug_code": pa.array(codes).dictionary_encode(),
                "drug_code_system": pa.array(["bnf"] * n).dictionary_encode(),
                "drug_name": pa.array([None] * n, pa.string()).dictionary_encode(),
            }
        ).cast(schema)

    rx = pa.concat_tables([chunk(["0205051R0", "0212000B0"]), chunk(["0101010A0"])])
    patients = pa.Table.from_pylist(
        [{"patient_id": "a", "birth_date": dt.date(1940, 1, 1), "sex": "female"}],
        schema=CONTRACT["patients"].arrow_schema(),
    )
    tables = Tables(
        patients=patients,
        admissions=CONTRACT["admissions"].arrow_schema().empty_table(),
        prescriptions=rx,
    )
    records, _ = read_records(
        tables, ["a"], as_of=dt.date(2024, 2, 1), spec=FeatureSpec()
    )
    assert (records["a"].drugs, records["a"].items) == (3, 3)
