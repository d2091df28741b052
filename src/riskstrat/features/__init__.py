"""Features: point-in-time features and labels, defined once, on DuckDB and Spark.

:func:`build_features` gives one row per person alive and registered on ``as_of``
from events strictly before ``as_of``; :func:`make_labels` gives the outcomes in
``[as_of, as_of + horizon)``. The definitions are SQL written once (DuckDB
dialect) and run on DuckDB (embedded, the default) or on Apache Spark after
transpiling with sqlglot (see ``docs/decisions/0001``); both engines return the
same Arrow schema, sorted by ``patient_id``. Every table is keyed by
``(patient_id, as_of)``; :func:`build_cohort` joins features to labels on that key
in SQL and applies the cohort's age rule there.
"""

from riskstrat.features._build import (
    build_cohort,
    build_features,
    check_label_window,
    enrolment_time,
    make_labels,
)
from riskstrat.features._comorbidity import CHARLSON, ELIXHAUSER, expand_codes
from riskstrat.features._engine import spark_session
from riskstrat.features._spec import FeatureSpec
from riskstrat.features._sql import cohort_schema, feature_schema, label_schema

__all__ = [
    "CHARLSON",
    "ELIXHAUSER",
    "FeatureSpec",
    "build_cohort",
    "build_features",
    "check_label_window",
    "cohort_schema",
    "enrolment_time",
    "expand_codes",
    "feature_schema",
    "label_schema",
    "make_labels",
    "spark_session",
]
