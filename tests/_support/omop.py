"""A literal OMOP CDM 5.4 database of a few rows, and writers for every storage.

Each row is there for one mapping rule or one unmapped reason; the comment at
the end of a CSV line says which. ``cdm53`` renames the 5.4 columns to 5.3.
"""

from __future__ import annotations

import io
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

PERSON = """person_id,gender_concept_id,year_of_birth,month_of_birth,day_of_birth,birth_datetime,care_site_id
1,8532,1940,5,17,,P1
2,8507,1950,6,,,P1
3,8551,1960,,,,
4,8507,1935,,,1935-03-09 00:00:00,
5,8532,,,,,
6,8532,1945,2,30,,
"""
# 1 year_month_day/female; 2 mid_month/male; 3 mid_year/unknown;
# 4 birth_datetime; 5 no year -> rejected; 6 Feb 30 -> rejected

DEATH = """person_id,death_date,death_type_concept_id
2,2022-03-01,32817
2,2022-04-01,32817
99,2021-01-01,32817
3,,32817
"""
# earliest_death_date; duplicate_death; unknown_person; missing_death_date

OBSERVATION_PERIOD = """observation_period_id,person_id,observation_period_start_date,observation_period_end_date,period_type_concept_id
1,1,2000-01-01,2015-12-31,32817
2,1,2016-01-01,2023-01-01,32817
3,2,2000-01-01,2022-03-01,32817
4,98,2000-01-01,2022-01-01,32817
5,3,not a date,2022-01-01,32817
"""

VISIT_OCCURRENCE = """visit_occurrence_id,person_id,visit_concept_id,visit_start_date,visit_start_datetime,visit_end_date,visit_type_concept_id,admitted_from_concept_id,preceding_visit_occurrence_id
100,1,262,2021-01-10,2021-01-10 18:30:00,2021-01-15,32817,0,
101,1,9201,2021-03-01,2021-03-01 00:00:00,2021-03-03,32817,8870,
102,1,9203,2021-05-01,,2021-05-01,32817,,
103,1,9201,2021-05-02,,2021-05-06,32817,,102
104,1,9201,2021-07-01,,2021-07-01,32817,,
105,1,9201,2021-09-01,,,32817,,
106,2,9203,2021-10-01,,2021-10-01,32817,,
107,2,9202,2021-10-05,,2021-10-05,32817,,
108,2,0,2021-10-06,,2021-10-06,32817,,
109,2,9201,2021-11-01,,2021-10-30,32817,,
110,2,8717,2021-12-01,,2021-12-02,32817,,
"""
# 100 ER+inpatient (262), 18:30; 101 admitted from ER (8870), midnight = no time;
# 102 ER visit before 103 (after_er_visit); 104 ER visit_detail; 105 unknown,
# still in; 106 ER not admitted; 107 outpatient; 108 no concept;
# 109 discharge before admission -> rejected; 110 inpatient by concept_ancestor

VISIT_DETAIL = """visit_detail_id,person_id,visit_detail_concept_id,visit_detail_start_date,visit_detail_end_date,visit_detail_type_concept_id,admitted_from_concept_id,parent_visit_detail_id,visit_occurrence_id
500,1,9203,2021-07-01,2021-07-01,32817,,,104
501,1,9201,2021-07-01,2021-07-01,32817,,500,104
502,2,9202,2021-10-05,2021-10-05,32817,,,107
"""

CONDITION_OCCURRENCE = """condition_occurrence_id,person_id,condition_concept_id,condition_start_date,condition_type_concept_id,condition_status_concept_id,visit_occurrence_id,visit_detail_id,condition_source_value,condition_source_concept_id
1,1,4000001,2021-01-10,32020,32902,100,,E86.0,0
2,1,4000002,2021-01-10,32020,,100,,13645005,0
3,1,4000003,2021-01-11,32020,,100,,I10,45000003
4,1,4000004,2021-03-01,38000199,,101,,11111111,0
5,1,4000005,2021-03-01,32020,,101,,22222222,0
6,1,4000001,2021-07-01,32020,,,501,W19,0
7,1,4000001,2021-06-01,32020,,,,K59.0,0
8,2,4000001,2021-10-05,32020,,107,,N39.0,0
9,1,4000001,2021-10-05,32020,,999,,N39.0,0
10,1,4000001,2021-01-12,32020,32902,100,,R11,0
11,1,0,2021-03-02,32020,,101,,G30..,0
"""
# 1 icd10_source_value, primary; 2 icd10_maps_to (J44.9); 3 icd10_source_concept;
# 4 primary by type but ambiguous_icd10; 5 no_icd10 (SNOMED); 6 via visit_detail;
# 7 no_visit; 8 visit_not_admission; 9 unknown_visit; 10 later primary ->
# secondary; 11 a Read code (G30..), not ICD-10 -> no_icd10

DRUG_EXPOSURE = """drug_exposure_id,person_id,drug_concept_id,drug_exposure_start_date,drug_type_concept_id
1,1,19059056,2021-02-01,38000177
2,1,1112807,2021-02-02,38000177
3,1,19002770,2021-02-03,38000177
4,1,36000001,2021-02-04,38000177
5,1,40213160,2021-02-05,38000177
6,1,0,2021-02-06,38000177
7,1,123456789,2021-02-07,38000177
8,77,1112807,2021-02-08,38000177
"""
# ingredient_rollup; is_ingredient; multi_ingredient_product; own_code;
# not_rxnorm (CVX); no_concept; concept_not_found; unknown patient -> rejected

OBSERVATION = """observation_id,person_id,observation_concept_id,observation_date,observation_type_concept_id,observation_source_value
1,1,4000100,2021-06-01,32817,
2,2,0,2021-06-01,32817,394923006
3,1,4000101,2021-06-01,32817,77176002
"""

CONCEPT = """concept_id,concept_name,domain_id,vocabulary_id,concept_class_id,standard_concept,concept_code,valid_start_date,valid_end_date,invalid_reason
4000001,Dehydration,Condition,SNOMED,Clinical Finding,S,34095006,1970-01-01,2099-12-31,
4000002,Chronic obstructive lung disease,Condition,SNOMED,Clinical Finding,S,13645005,1970-01-01,2099-12-31,
4000004,Typhoid or paratyphoid,Condition,SNOMED,Clinical Finding,S,11111111,1970-01-01,2099-12-31,
4000005,Something else,Condition,SNOMED,Clinical Finding,S,22222222,1970-01-01,2099-12-31,
45000002,COPD unspecified,Condition,ICD10,ICD10 code,,J44.9,1970-01-01,2099-12-31,
45000003,Essential hypertension,Condition,ICD10,ICD10 code,,I10,1970-01-01,2099-12-31,
45000041,Typhoid fever,Condition,ICD10CM,4-char billing code,,A01.0,1970-01-01,2099-12-31,
45000042,Paratyphoid A,Condition,ICD10CM,4-char billing code,,A01.1,1970-01-01,2099-12-31,
1112807,aspirin,Drug,RxNorm,Ingredient,S,1191,1970-01-01,2099-12-31,
19059056,aspirin 81 MG Oral Tablet,Drug,RxNorm,Clinical Drug,S,243670,1970-01-01,2099-12-31,
1125315,acetaminophen,Drug,RxNorm,Ingredient,S,161,1970-01-01,2099-12-31,
1201620,codeine,Drug,RxNorm,Ingredient,S,2670,1970-01-01,2099-12-31,
19002770,acetaminophen 300 MG / codeine 30 MG Oral Tablet,Drug,RxNorm,Clinical Drug,S,993781,1970-01-01,2099-12-31,
36000001,some extension drug,Drug,RxNorm Extension,Clinical Drug,S,OMOP123,1970-01-01,2099-12-31,
40213160,poliovirus vaccine,Drug,CVX,CVX,S,10,1970-01-01,2099-12-31,
4000100,Lives in a nursing home,Observation,SNOMED,Clinical Finding,S,160734000,1970-01-01,2099-12-31,
4000101,Smoker,Observation,SNOMED,Clinical Finding,S,77176002,1970-01-01,2099-12-31,
"""

CONCEPT_RELATIONSHIP = """concept_id_1,concept_id_2,relationship_id,valid_start_date,valid_end_date,invalid_reason
45000002,4000002,Maps to,1970-01-01,2099-12-31,
4000002,45000002,Mapped from,1970-01-01,2099-12-31,
45000041,4000004,Maps to,1970-01-01,2099-12-31,
45000042,4000004,Maps to,1970-01-01,2099-12-31,
"""

CONCEPT_ANCESTOR = """ancestor_concept_id,descendant_concept_id,min_levels_of_separation,max_levels_of_separation
1112807,1112807,0,0
1112807,19059056,1,1
1125315,19002770,1,1
1201620,19002770,1,1
9201,8717,1,1
"""

CDM_SOURCE = """cdm_source_name,cdm_source_abbreviation,cdm_holder,cdm_version,vocabulary_version
Tiny test CDM,TINY,riskstrat tests,v5.4,v5.0 TEST
"""

OMOP: dict[str, str] = {
    "person": PERSON,
    "death": DEATH,
    "observation_period": OBSERVATION_PERIOD,
    "visit_occurrence": VISIT_OCCURRENCE,
    "visit_detail": VISIT_DETAIL,
    "condition_occurrence": CONDITION_OCCURRENCE,
    "drug_exposure": DRUG_EXPOSURE,
    "observation": OBSERVATION,
    "concept": CONCEPT,
    "concept_relationship": CONCEPT_RELATIONSHIP,
    "concept_ancestor": CONCEPT_ANCESTOR,
    "cdm_source": CDM_SOURCE,
}
VOCABULARY = ("concept", "concept_relationship", "concept_ancestor")

#: CDM 5.4 column -> CDM 5.3 column.
RENAMED_IN_54 = {
    "admitted_from_concept_id": "admitting_source_concept_id",
    "parent_visit_detail_id": "visit_detail_parent_id",
}


def cdm53(tables: dict[str, str]) -> dict[str, str]:
    """The same tables with CDM 5.3 column names (and version)."""
    out = {}
    for name, text in tables.items():
        header, _, body = text.partition("\n")
        for new, old in RENAMED_IN_54.items():
            header = header.replace(new, old)
        out[name] = header + "\n" + body.replace("v5.4,", "v5.3.1,")
    return out


def typed(text: str) -> pa.Table:
    """A CSV text as an Arrow table with inferred types (ints, dates, text)."""
    return pacsv.read_csv(io.BytesIO(text.encode()))


def write_csv(
    folder: Path, tables: dict[str, str], *, case: str = "lower", sep: str = ","
) -> Path:
    """One CSV per table; ``case="upper"`` upper-cases file names and headers."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in tables.items():
        header, _, body = text.partition("\n")
        if case == "upper":
            name, header = name.upper(), header.upper()
        elif case == "mixed":
            name = name.capitalize()
            header = ",".join(h.title() for h in header.split(","))
        content = (header + "\n" + body).replace(",", sep)
        (folder / f"{name}.csv").write_text(content, encoding="utf-8")
    return folder


def write_parquet(folder: Path, tables: dict[str, str]) -> Path:
    """One typed Parquet file per table."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in tables.items():
        pq.write_table(typed(text), folder / f"{name}.parquet")
    return folder


def write_duckdb(path: Path, tables: dict[str, str], *, schema: str = "main") -> Path:
    """A DuckDB database with one typed table per table, in ``schema``."""
    con = duckdb.connect(str(path))
    try:
        if schema != "main":
            con.execute(f"CREATE SCHEMA {schema}").fetchall()
        for name, text in tables.items():
            con.register("incoming", typed(text))
            con.execute(
                f'CREATE TABLE {schema}."{name.upper()}" AS SELECT * FROM incoming'
            ).fetchall()
            con.unregister("incoming")
    finally:
        con.close()
    return path
