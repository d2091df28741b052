"""build_cohort: features joined to labels on (patient_id, as_of) in SQL, age rule in SQL."""

from __future__ import annotations

import datetime as dt

import pytest

from _support.canonical import tables_from_rows
from riskstrat.features import build_cohort, build_features, cohort_schema

D = dt.date
AS_OF = D(2022, 4, 1)


@pytest.fixture
def tables():
    """Four people: 17, 64, 65 and 90 on AS_OF; the 65-year-old is admitted after."""
    return tables_from_rows(
        extract_date=D(2023, 6, 1),
        patients=[
            {"patient_id": "kid", "birth_date": D(2004, 4, 2), "sex": "female"},
            {"patient_id": "p64", "birth_date": D(1957, 4, 2), "sex": "male"},
            {"patient_id": "p65", "birth_date": D(1957, 4, 1), "sex": "male"},
            {"patient_id": "p90", "birth_date": D(1931, 6, 1), "sex": "female"},
        ],
        admissions=[
            {
                "patient_id": "p65",
                "admission_date": D(2022, 5, 1),
                "discharge_date": D(2022, 5, 4),
                "emergency": True,
            },
            {  # before AS_OF: a feature, not a label
                "patient_id": "p90",
                "admission_date": D(2022, 1, 1),
                "discharge_date": D(2022, 1, 3),
                "emergency": True,
            },
        ],
    )


def test_labels_sit_on_their_own_person_and_ages_are_cut_in_sql(tables):
    c = build_cohort(tables, as_of=AS_OF, min_age=18, max_age=89)
    assert c.schema.equals(cohort_schema())
    rows = {r["patient_id"]: r for r in c.to_pylist()}
    assert sorted(rows) == ["p64", "p65"]  # 17 and 90 are outside [18, 89]
    assert rows["p64"]["age"] == 64 and rows["p65"]["age"] == 65
    assert rows["p65"]["label_emergency_admission"] is True
    assert rows["p65"]["label_emergency_bed_days"] == 3
    assert rows["p64"]["label_emergency_admission"] is False
    assert {r["as_of"] for r in rows.values()} == {AS_OF}


def test_without_labels_the_features_are_build_features_rows(tables):
    c = build_cohort(tables, as_of=AS_OF, labels=False)
    assert c.equals(build_features(tables, as_of=AS_OF))
    # No labels: the extract date need not cover a horizon.
    late = build_cohort(tables, as_of=D(2023, 5, 1), labels=False)
    assert late.num_rows == 4
    with pytest.raises(ValueError, match="runs past the extract date"):
        build_cohort(tables, as_of=D(2023, 5, 1))


def test_an_index_date_out_of_range_is_refused(tables):
    with pytest.raises(ValueError, match="between 1900-01-01 and 2200-12-31"):
        build_cohort(tables, as_of=D(9999, 12, 31))


@pytest.mark.spark
def test_spark_builds_the_same_cohort(cached_population):
    pytest.importorskip("pyspark")
    from riskstrat.features import spark_session

    pop = cached_population(4_000, random_state=5)
    spark = spark_session()
    duck = build_cohort(pop.tables, as_of=AS_OF, min_age=65)
    sprk = build_cohort(
        pop.tables, as_of=AS_OF, min_age=65, engine="spark", spark=spark
    )
    assert duck.num_rows > 100
    for name in duck.column_names:
        assert duck[name].equals(sprk[name]), name


def test_an_index_date_far_past_the_extract_is_refused(tables):
    # 76 years after the extract nobody's death or move is known.
    with pytest.raises(ValueError, match=r"27,\d{3} days after the extract date"):
        build_features(tables, as_of=D(2099, 6, 1))
    with pytest.raises(ValueError, match="days after the extract date 2023-06-01"):
        build_cohort(tables, as_of=D(2024, 7, 1), labels=False)
    assert build_features(tables, as_of=D(2024, 5, 1)).num_rows == 4  # within a year
