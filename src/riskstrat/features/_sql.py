"""The feature and label definitions, written once as SQL (DuckDB dialect).

Spark runs the same text after ``sqlglot.transpile(..., read="duckdb",
write="spark")``. Dates are substituted as literals computed in Python, so the
SQL needs no interval arithmetic. Windows are half-open: ``[as_of - d, as_of)``
for history, ``[as_of, as_of + horizon)`` for labels.
"""

from __future__ import annotations

import datetime as dt
import re

import pyarrow as pa

from riskstrat.features._comorbidity import CHARLSON, ELIXHAUSER
from riskstrat.features._spec import FeatureSpec

__all__: list[str] = []

BNF_CHAPTERS = tuple(f"{k:02d}" for k in range(1, 11))
FRAILTY = (
    "dehydration",
    "fall",
    "constipation",
    "nausea_vomiting",
    "urinary_tract_infection",
)
# Charlson hierarchy: the milder condition is not counted beside the severer one.
_CHARLSON_HIERARCHY = {
    "diabetes_without_complication": "diabetes_with_complication",
    "mild_liver_disease": "moderate_or_severe_liver_disease",
    "any_malignancy": "metastatic_solid_tumour",
}
RULES = (
    "rule_frail_admission",
    "rule_two_admissions",
    "rule_care_home",
    "rule_polypharmacy",
    "rule_nomination",
)


#: Feature groups that an absent optional table leaves unknown.
_ABSENT_GROUPS = {
    "prescriptions": ("drugs", "bnf_chapters"),
    "residences": ("residence",),
    "nominations": ("nominations",),
}


def _groups_of_absent(absent: frozenset[str]) -> frozenset[str]:
    return frozenset(g for t in absent for g in _ABSENT_GROUPS.get(t, ()))


def _nulls(names: list[str], sql_type: str) -> list[str]:
    return [f"CAST(NULL AS {sql_type}) AS {n}" for n in names]


def _d(day: dt.date) -> str:
    return f"DATE '{day.isoformat()}'"


def _cohort(as_of: dt.date) -> str:
    a = _d(as_of)
    m, d = as_of.month, as_of.day
    return f"""cohort AS (
    SELECT
        patient_id, sex, locality, practice_id, deprivation_decile, death_date,
        year({a}) - year(birth_date) - CASE
            WHEN month(birth_date) > {m} OR (month(birth_date) = {m} AND day(birth_date) > {d})
            THEN 1 ELSE 0 END AS age
    FROM patients
    WHERE birth_date <= {a}
      AND (death_date IS NULL OR death_date >= {a})
      AND (registration_date IS NULL OR registration_date <= {a})
      AND (deregistration_date IS NULL OR deregistration_date >= {a})
)"""


def feature_schema(spec: FeatureSpec | None = None) -> pa.Schema:
    """Names and Arrow types of the feature table, in order.

    Examples
    --------
    >>> feature_schema().names[:4]
    ['patient_id', 'as_of', 'age', 'sex']
    """
    spec = spec or FeatureSpec()
    f: list[tuple[str, pa.DataType]] = [
        ("patient_id", pa.string()),
        ("as_of", pa.date32()),
        ("age", pa.int64()),
        ("sex", pa.string()),
        ("locality", pa.string()),
        ("practice_id", pa.string()),
        ("deprivation_decile", pa.int64()),
    ]
    for w in spec.window_names:
        f += [(f"em_admissions_{w}", pa.int64()), (f"em_bed_days_{w}", pa.int64())]
    f += [
        ("admissions_12m", pa.int64()),
        ("elective_admissions_12m", pa.int64()),
        ("unknown_urgency_admissions_12m", pa.int64()),
        ("days_since_last_discharge", pa.int64()),
        ("days_since_last_em_admission", pa.int64()),
        ("in_hospital", pa.bool_()),
        ("em_out_of_hours_share_24m", pa.float64()),
    ]
    f += [(f"frail_{k}_12m", pa.bool_()) for k in FRAILTY] + [
        ("frail_any_12m", pa.bool_())
    ]
    f += [(f"cci_{c}", pa.bool_()) for c in CHARLSON] + [("cci_score", pa.int64())]
    f += [(f"elix_{c}", pa.bool_()) for c in ELIXHAUSER] + [("elix_count", pa.int64())]
    f += [
        ("drugs_90d", pa.int64()),
        ("prescription_items_90d", pa.int64()),
        ("bnf_chapters_90d", pa.int64()),
    ]
    f += [(f"bnf_ch{c}_90d", pa.int64()) for c in BNF_CHAPTERS]
    f += [
        ("residence_type", pa.string()),
        ("care_home", pa.bool_()),
        ("nominated_12m", pa.bool_()),
        ("nominated_ever", pa.bool_()),
    ]
    f += [(r, pa.bool_()) for r in RULES]
    f += [("essex_eligible", pa.bool_()), ("essex_priority", pa.int64())]
    return pa.schema(f)


def label_schema() -> pa.Schema:
    """Names and Arrow types of the label table."""
    return pa.schema(
        [
            ("patient_id", pa.string()),
            ("as_of", pa.date32()),
            ("emergency_admission", pa.bool_()),
            ("emergency_admissions", pa.int64()),
            ("emergency_bed_days", pa.int64()),
            ("death", pa.bool_()),
            ("composite", pa.bool_()),
        ]
    )


def features_sql(
    as_of: dt.date,
    spec: FeatureSpec,
    absent: frozenset[str],
    unknown: frozenset[str] = frozenset(),
) -> str:
    """The SELECT that builds one feature row per person in the cohort.

    ``absent`` names the optional tables the source did not supply, ``unknown``
    the feature groups (:data:`riskstrat.sources.FEATURE_GROUPS`) it cannot
    support: their features are NULL for everyone, never 0 or false. Within a
    supported group, a person's emergency counts are NULL when an admission of
    unknown urgency falls in the window (the count could be higher).
    """
    a = _d(as_of)
    unknown = unknown | _groups_of_absent(absent)

    def start(days: int) -> str:
        return _d(as_of - dt.timedelta(days=days))

    bed = f"date_diff('day', admission_date, LEAST(COALESCE(discharge_date, {a}), {a}))"
    win = []
    for days, w in zip(spec.windows_days, spec.window_names, strict=True):
        cond = f"emergency AND admission_date >= {start(days)}"
        win.append(f"count(*) FILTER (WHERE {cond}) AS em_admissions_{w}")
        win.append(f"sum(CASE WHEN {cond} THEN {bed} ELSE 0 END) AS em_bed_days_{w}")
        win.append(
            f"count(*) FILTER (WHERE emergency IS NULL AND admission_date >= "
            f"{start(days)}) AS unk_{w}"
        )
    y1 = start(365)
    y2 = start(730)
    adm = f"""adm AS (
    SELECT patient_id,
        {", ".join(win)},
        count(*) FILTER (WHERE admission_date >= {y1}) AS admissions_12m,
        count(*) FILTER (WHERE NOT emergency AND admission_date >= {y1}) AS elective_admissions_12m,
        count(*) FILTER (WHERE emergency IS NULL AND admission_date >= {y1}) AS unknown_urgency_admissions_12m,
        count(*) FILTER (WHERE emergency IS NULL AND admission_date >= {y2}) AS unk_24m_all,
        max(CASE WHEN emergency IS NULL THEN admission_date END) AS last_unknown_admission,
        max(CASE WHEN discharge_date < {a} THEN discharge_date END) AS last_discharge,
        max(CASE WHEN emergency THEN admission_date END) AS last_em_admission,
        max(CASE WHEN discharge_date IS NULL OR discharge_date >= {a} THEN 1 ELSE 0 END) AS in_hosp,
        count(*) FILTER (WHERE emergency AND admission_hour IS NOT NULL AND admission_date >= {y2}) AS em_timed_24m,
        count(*) FILTER (WHERE emergency AND (admission_hour >= 17 OR admission_hour < 8) AND admission_date >= {y2}) AS em_ooh_24m
    FROM admissions
    WHERE admission_date < {a}
    GROUP BY patient_id
)"""
    fs = start(spec.frailty_days)
    frail = f"""frail AS (
    SELECT patient_id,
        max(CASE WHEN code3 = 'E86' THEN 1 ELSE 0 END) AS f_dehydration,
        max(CASE WHEN code3 >= 'W00' AND code3 <= 'W19' THEN 1 ELSE 0 END) AS f_fall,
        max(CASE WHEN code4 = 'K590' THEN 1 ELSE 0 END) AS f_constipation,
        max(CASE WHEN code3 = 'R11' THEN 1 ELSE 0 END) AS f_nausea_vomiting,
        max(CASE WHEN code4 = 'N390' THEN 1 ELSE 0 END) AS f_urinary_tract_infection
    FROM diagnoses
    WHERE admission_date >= {fs} AND admission_date < {a}
    GROUP BY patient_id
)"""
    cs = start(spec.comorbidity_days)
    picks = []
    for system, conds, prefix in (
        ("charlson", CHARLSON, "cci"),
        ("elixhauser", ELIXHAUSER, "elix"),
    ):
        for c in conds:
            picks.append(
                f"max(CASE WHEN system = '{system}' AND condition = '{c}' THEN 1 ELSE 0 END) AS {prefix}_{c}"
            )
    comorb = f"""hits AS (
    SELECT d.patient_id, m.system, m.condition
    FROM diagnoses d JOIN code_map m ON m.prefix_len = 3 AND d.code3 = m.prefix
    WHERE d.admission_date >= {cs} AND d.admission_date < {a}
    UNION ALL
    SELECT d.patient_id, m.system, m.condition
    FROM diagnoses d JOIN code_map m ON m.prefix_len = 4 AND d.code4 = m.prefix
    WHERE d.admission_date >= {cs} AND d.admission_date < {a}
),
comorb AS (
    SELECT patient_id,
        {", ".join(picks)}
    FROM hits
    GROUP BY patient_id
)"""
    ctes = [_cohort(as_of), adm, frail, comorb]
    joins = [
        "LEFT JOIN adm a ON a.patient_id = c.patient_id",
        "LEFT JOIN frail f ON f.patient_id = c.patient_id",
        "LEFT JOIN comorb k ON k.patient_id = c.patient_id",
    ]
    if "drugs" not in unknown:
        ds = start(spec.drug_days)
        # One pass to distinct (patient, drug) pairs, then plain counts: a drug
        # code belongs to one chapter, so per-chapter distinct drugs are sums.
        chapters = ", ".join(
            f"sum(CASE WHEN bnf_chapter = '{ch}' THEN 1 ELSE 0 END) AS bnf_ch{ch}_90d"
            for ch in BNF_CHAPTERS
        )
        ctes.append(f"""drug_pairs AS (
    SELECT patient_id, drug_code, bnf_chapter, count(*) AS items
    FROM prescriptions
    WHERE issue_date >= {ds} AND issue_date < {a}
    GROUP BY patient_id, drug_code, bnf_chapter
),
drugs AS (
    SELECT patient_id,
        count(DISTINCT drug_code) AS drugs_90d,
        CAST(sum(items) AS BIGINT) AS prescription_items_90d,
        count(DISTINCT bnf_chapter) AS bnf_chapters_90d,
        {chapters}
    FROM drug_pairs
    GROUP BY patient_id
)""")
        joins.append("LEFT JOIN drugs g ON g.patient_id = c.patient_id")
        drug_cols = [
            "COALESCE(g.drugs_90d, 0) AS drugs_90d",
            "COALESCE(g.prescription_items_90d, 0) AS prescription_items_90d",
            "COALESCE(g.bnf_chapters_90d, 0) AS bnf_chapters_90d",
        ]
        drug_cols += [
            f"COALESCE(g.bnf_ch{ch}_90d, 0) AS bnf_ch{ch}_90d" for ch in BNF_CHAPTERS
        ]
        if "bnf_chapters" in unknown:
            drug_cols = drug_cols[:2] + _nulls(
                ["bnf_chapters_90d"] + [f"bnf_ch{ch}_90d" for ch in BNF_CHAPTERS],
                "BIGINT",
            )
    else:
        drug_cols = [
            "CAST(NULL AS BIGINT) AS drugs_90d",
            "CAST(NULL AS BIGINT) AS prescription_items_90d",
            "CAST(NULL AS BIGINT) AS bnf_chapters_90d",
        ]
        drug_cols += [f"CAST(NULL AS BIGINT) AS bnf_ch{ch}_90d" for ch in BNF_CHAPTERS]
    if "residence" not in unknown:
        ctes.append(f"""res AS (
    SELECT patient_id, residence_type FROM (
        SELECT patient_id, residence_type,
            row_number() OVER (PARTITION BY patient_id ORDER BY start_date DESC, residence_type DESC) AS rn
        FROM residences
        WHERE start_date < {a} AND (end_date IS NULL OR end_date >= {a})
    ) WHERE rn = 1
)""")
        joins.append("LEFT JOIN res r ON r.patient_id = c.patient_id")
        res_cols = ["COALESCE(r.residence_type, 'private') AS residence_type"]
    else:
        res_cols = ["CAST(NULL AS VARCHAR) AS residence_type"]
    if "nominations" not in unknown:
        ns = start(spec.nomination_days)
        ctes.append(f"""noms AS (
    SELECT patient_id, max(CASE WHEN date >= {ns} THEN 1 ELSE 0 END) AS nom_recent
    FROM nominations WHERE date < {a}
    GROUP BY patient_id
)""")
        joins.append("LEFT JOIN noms n ON n.patient_id = c.patient_id")
        nom_cols = [
            "COALESCE(n.nom_recent, 0) = 1 AS nominated_12m",
            "n.patient_id IS NOT NULL AS nominated_ever",
        ]
    else:
        nom_cols = [
            "CAST(NULL AS BOOLEAN) AS nominated_12m",
            "CAST(NULL AS BOOLEAN) AS nominated_ever",
        ]

    em_known = "emergency_admissions" not in unknown

    def unless_unknown(n_unknown: str, expr: str, name: str) -> str:
        # NULL when an admission of unknown urgency could change the value.
        return f"CASE WHEN COALESCE({n_unknown}, 0) > 0 THEN NULL ELSE {expr} END AS {name}"

    w_cols = []
    for w in spec.window_names:
        if em_known:
            w_cols += [
                unless_unknown(
                    f"a.unk_{w}",
                    f"COALESCE(a.em_admissions_{w}, 0)",
                    f"em_admissions_{w}",
                ),
                unless_unknown(
                    f"a.unk_{w}", f"COALESCE(a.em_bed_days_{w}, 0)", f"em_bed_days_{w}"
                ),
            ]
        else:
            w_cols += _nulls([f"em_admissions_{w}", f"em_bed_days_{w}"], "BIGINT")
    if "elective_admissions" in unknown:
        elective = _nulls(["elective_admissions_12m"], "BIGINT")[0]
    else:
        elective = unless_unknown(
            "a.unknown_urgency_admissions_12m",
            "COALESCE(a.elective_admissions_12m, 0)",
            "elective_admissions_12m",
        )
    if em_known:
        # The latest emergency admission is unknown when an admission of unknown
        # urgency came after the latest known one (or there is no known one).
        last_em = (
            "CASE WHEN a.last_unknown_admission IS NOT NULL AND (a.last_em_admission "
            "IS NULL OR a.last_unknown_admission > a.last_em_admission) THEN NULL "
            f"ELSE date_diff('day', a.last_em_admission, {a}) END "
            "AS days_since_last_em_admission"
        )
    else:
        last_em = _nulls(["days_since_last_em_admission"], "BIGINT")[0]
    if em_known and "admission_time" not in unknown:
        ooh = (
            "CASE WHEN COALESCE(a.unk_24m_all, 0) > 0 THEN NULL "
            "WHEN a.em_timed_24m > 0 THEN CAST(a.em_ooh_24m AS DOUBLE) / a.em_timed_24m "
            "END AS em_out_of_hours_share_24m"
        )
    else:
        ooh = _nulls(["em_out_of_hours_share_24m"], "DOUBLE")[0]
    if "frailty_diagnoses" in unknown:
        frail_cols = _nulls([f"frail_{k}_12m" for k in FRAILTY], "BOOLEAN")
    else:
        frail_cols = [f"COALESCE(f.f_{k}, 0) = 1 AS frail_{k}_12m" for k in FRAILTY]
        frail_cols[FRAILTY.index("nausea_vomiting")] = (
            f"(COALESCE(f.f_nausea_vomiting, 0) = 1 AND c.age > {spec.nausea_over_age}) "
            "AS frail_nausea_vomiting_12m"
        )
    if "comorbidities" in unknown:
        cci_cols = _nulls([f"cci_{c}" for c in CHARLSON], "BOOLEAN")
        elix_cols = _nulls([f"elix_{c}" for c in ELIXHAUSER], "BOOLEAN")
    else:
        cci_cols = [f"COALESCE(k.cci_{c}, 0) = 1 AS cci_{c}" for c in CHARLSON]
        elix_cols = [f"COALESCE(k.elix_{c}, 0) = 1 AS elix_{c}" for c in ELIXHAUSER]
    base = [
        "c.patient_id",
        f"{a} AS as_of",
        "c.age",
        "c.sex",
        "c.locality",
        "c.practice_id",
        "c.deprivation_decile",
        *w_cols,
        "COALESCE(a.admissions_12m, 0) AS admissions_12m",
        elective,
        "COALESCE(a.unknown_urgency_admissions_12m, 0) AS unknown_urgency_admissions_12m",
        f"date_diff('day', a.last_discharge, {a}) AS days_since_last_discharge",
        last_em,
        "COALESCE(a.in_hosp, 0) = 1 AS in_hospital",
        ooh,
        *frail_cols,
        *cci_cols,
        *elix_cols,
        *drug_cols,
        *res_cols,
        *nom_cols,
    ]
    ctes.append(
        "base AS (\n    SELECT\n        "
        + ",\n        ".join(base)
        + "\n    FROM cohort c\n    "
        + "\n    ".join(joins)
        + "\n)"
    )
    frail_any = " OR ".join(f"frail_{k}_12m" for k in FRAILTY)
    score_terms = []
    for c, weight in CHARLSON.items():
        if c in _CHARLSON_HIERARCHY:
            score_terms.append(
                f"CASE WHEN cci_{c} AND NOT cci_{_CHARLSON_HIERARCHY[c]} THEN {weight} ELSE 0 END"
            )
        else:
            score_terms.append(f"CASE WHEN cci_{c} THEN {weight} ELSE 0 END")
    elix_terms = [f"CASE WHEN elix_{c} THEN 1 ELSE 0 END" for c in ELIXHAUSER]
    if "comorbidities" in unknown:
        score_terms = elix_terms = ["CAST(NULL AS BIGINT)"]
    old = f"age >= {spec.rule_min_age}"
    rules = {
        "rule_frail_admission": f"{old} AND ({frail_any})",
        "rule_two_admissions": f"{old} AND admissions_12m >= 2",
        "rule_care_home": f"{old} AND residence_type IN ('residential_home', 'nursing_home')",
        "rule_polypharmacy": f"{old} AND drugs_90d >= {spec.polypharmacy_threshold}",
        "rule_nomination": f"{old} AND nominated_12m",
    }
    names = list(feature_schema(spec).names)
    head = names[: names.index("frail_any_12m")]
    rest_start = names.index("cci_" + next(iter(CHARLSON)))
    middle = names[rest_start : names.index("cci_score")]
    elix = names[names.index("cci_score") + 1 : names.index("elix_count")]
    tail = names[names.index("elix_count") + 1 : names.index("care_home")]
    select = [
        *head,
        f"({frail_any}) AS frail_any_12m",
        *middle,
        f"({' + '.join(score_terms)}) AS cci_score",
        *elix,
        f"({' + '.join(elix_terms)}) AS elix_count",
        *tail,
        "residence_type IN ('residential_home', 'nursing_home') AS care_home",
        "nominated_12m",
        "nominated_ever",
        *(f"{expr} AS {name}" for name, expr in rules.items()),
        "("
        + " OR ".join(f"COALESCE({e}, FALSE)" for e in rules.values())
        + ") AS essex_eligible",
        "CASE "
        + " ".join(
            f"WHEN COALESCE({e}, FALSE) THEN {i}"
            for i, e in enumerate(rules.values(), 1)
        )
        + " END AS essex_priority",
    ]
    return (
        "WITH "
        + ",\n".join(ctes)
        + "\nSELECT\n    "
        + ",\n    ".join(select)
        + "\nFROM base"
    )


def labels_sql(
    as_of: dt.date,
    horizon_days: int,
    observed_until: dt.date,
    unknown: frozenset[str] = frozenset(),
) -> str:
    """The SELECT that builds one label row per person in the cohort on ``as_of``.

    Unknown stays unknown: the emergency labels are NULL for everyone when the
    ``emergency_admissions`` group is in ``unknown``, and for a person whose
    window holds an admission of unknown urgency and no known emergency one
    (the count and bed days: any admission of unknown urgency). ``death`` is
    NULL when the ``death`` group is unknown; ``composite`` is true when either
    part is true, NULL when neither is true and one is unknown.
    """
    a = _d(as_of)
    end = _d(as_of + dt.timedelta(days=horizon_days))
    stop = _d(min(observed_until, as_of + dt.timedelta(days=horizon_days)))
    if "emergency_admissions" in unknown:
        em = [
            "CAST(NULL AS BOOLEAN) AS emergency_admission",
            "CAST(NULL AS BIGINT) AS emergency_admissions",
            "CAST(NULL AS BIGINT) AS emergency_bed_days",
        ]
        em_any = "CAST(NULL AS BOOLEAN)"
    else:
        em_any = (
            "CASE WHEN COALESCE(f.n_em, 0) > 0 THEN TRUE "
            "WHEN COALESCE(f.n_unk, 0) > 0 THEN NULL ELSE FALSE END"
        )
        em = [
            f"{em_any} AS emergency_admission",
            "CASE WHEN COALESCE(f.n_unk, 0) > 0 THEN NULL "
            "ELSE COALESCE(f.n_em, 0) END AS emergency_admissions",
            "CASE WHEN COALESCE(f.n_unk, 0) > 0 THEN NULL "
            "ELSE COALESCE(f.bed_days, 0) END AS emergency_bed_days",
        ]
    if "death" in unknown:
        death = "CAST(NULL AS BOOLEAN)"
    else:
        death = (
            f"(c.death_date IS NOT NULL AND c.death_date >= {a} "
            f"AND c.death_date < {end})"
        )
    return f"""WITH {_cohort(as_of)},
fut AS (
    SELECT patient_id,
        count(*) FILTER (WHERE emergency) AS n_em,
        count(*) FILTER (WHERE emergency IS NULL) AS n_unk,
        sum(CASE WHEN emergency THEN date_diff('day', admission_date,
            LEAST(COALESCE(discharge_date, {stop}), {stop})) ELSE 0 END) AS bed_days
    FROM admissions
    WHERE (emergency OR emergency IS NULL)
      AND admission_date >= {a} AND admission_date < {end}
    GROUP BY patient_id
)
SELECT
    c.patient_id,
    {a} AS as_of,
    {", ".join(em)},
    {death} AS death,
    ({em_any}) OR {death} AS composite
FROM cohort c LEFT JOIN fut f ON f.patient_id = c.patient_id"""


def cohort_sql(
    features: str,
    labels: str | None,
    *,
    min_age: int = 0,
    max_age: int | None = None,
) -> str:
    """Features joined to labels on ``(patient_id, as_of)``, restricted by age.

    ``features`` and ``labels`` are the SELECTs of :func:`features_sql` and
    :func:`labels_sql` for the same ``as_of`` (both over the same cohort of people
    alive and registered on it). Label columns come out prefixed ``label_``. The
    age range ``[min_age, max_age]`` is applied here, in SQL, on either engine.
    """
    where = f"f.age >= {int(min_age)}"
    if max_age is not None:
        where += f" AND f.age <= {int(max_age)}"
    if labels is None:
        return f"SELECT f.* FROM (\n{features}\n) f\nWHERE {where}"
    # sqlglot lifts the two halves' CTEs to one WITH for Spark: keep names apart.
    labels = re.sub(r"\b(cohort|fut)\b", r"label_\1", labels)
    keys = ("patient_id", "as_of")
    label_cols = ",\n    ".join(
        f"l.{n} AS label_{n}" for n in label_schema().names if n not in keys
    )
    return (
        f"SELECT f.*,\n    {label_cols}\nFROM (\n{features}\n) f\n"
        f"JOIN (\n{labels}\n) l ON l.patient_id = f.patient_id AND l.as_of = f.as_of\n"
        f"WHERE {where}"
    )


def cohort_schema(spec: FeatureSpec | None = None, *, labels: bool = True) -> pa.Schema:
    """Schema of :func:`cohort_sql`: the features, then ``label_*`` columns."""
    fields = list(feature_schema(spec))
    if labels:
        fields += [
            pa.field(f"label_{f.name}", f.type)
            for f in label_schema()
            if f.name not in ("patient_id", "as_of")
        ]
    return pa.schema(fields)
