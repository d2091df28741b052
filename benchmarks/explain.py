"""Benchmark reasons: contributions and text per person, and the ratio to SHAP.

Usage::

    python benchmarks/explain.py                      # 100k people (default)
    python benchmarks/explain.py --patients 1000000   # ~4 min to generate

Generates a synthetic population (seeded), fits the risk model
(``RiskModel(random_state=0)``, adults, on the year after 2022-04-01), builds the
features as of 2023-04-01 and explains the top ``--share`` (5 %) by risk, the
people a caseload and waiting list would show. It times, on those people:

- ``contributions``: :func:`riskstrat.explain.contributions` (select the rows,
  encode, ``pred_contrib``, sum into reason groups);
- ``shap``: ``shap.TreeExplainer(booster)(X)`` on the same encoded rows (the
  encoding is not timed for SHAP, so the ratio favours SHAP slightly);
- ``reasons``: :func:`riskstrat.explain.reasons`, contributions and text together;
  ``text`` is ``reasons`` minus ``contributions``;
- ``contributions (everyone)``: every adult, for scale (skipped with
  ``--no-everyone``; at 1M it is ~0.5 ms x 660k people).

The target: reasons for the top 5 % of 1M people in ≤ 60 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import time

TRAIN_AS_OF = dt.date(2022, 4, 1)
RUN_AS_OF = dt.date(2023, 4, 1)


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--share", type=float, default=0.05)
    parser.add_argument("--no-everyone", action="store_true")
    args = parser.parse_args()

    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import shap

    from riskstrat.explain import contributions, reasons
    from riskstrat.features import build_features
    from riskstrat.model import CohortSettings, RiskModel, cohort_frame
    from riskstrat.synth import make_population

    tic = time.perf_counter()
    tables = make_population(args.patients, random_state=args.seed).tables
    print(
        f"population: {args.patients:,} people in {time.perf_counter() - tic:.1f} s",
        flush=True,
    )

    tic = time.perf_counter()
    train = cohort_frame(tables, as_of=TRAIN_AS_OF, cohort=CohortSettings())
    cols = [
        c
        for c in train.columns
        if c not in ("patient_id", "as_of", "label", "label_bed_days")
    ]
    model = RiskModel(random_state=0).fit(train[cols], train["label"])
    del train
    print(
        f"risk model: {model.best_iteration_} trees, depth <= {model.max_depth}, "
        f"in {time.perf_counter() - tic:.1f} s",
        flush=True,
    )

    feats = build_features(tables, as_of=RUN_AS_OF)
    if "as_of" not in feats.column_names:  # until the spine adds the key column
        feats = feats.add_column(
            1, "as_of", pa.array([RUN_AS_OF] * feats.num_rows, pa.date32())
        )
    adults = feats.filter(pc.greater_equal(feats["age"], 18))
    risk = model.predict_proba(adults.select(cols).to_pandas())[:, 1]
    k = max(1, round(args.share * adults.num_rows))
    top_rows = np.lexsort((np.arange(risk.size), -risk))[:k]
    ids = pc.take(adults["patient_id"], pa.array(top_rows)).to_pylist()
    print(
        f"explaining the top {args.share:.0%} by risk: {k:,} of {adults.num_rows:,}",
        flush=True,
    )

    def timed(fn):
        t0 = time.perf_counter()
        out = fn()
        return out, time.perf_counter() - t0

    contrib, t_contrib = timed(lambda: contributions(model, adults, patient_ids=ids))
    subset = adults.filter(pc.is_in(adults["patient_id"], value_set=pa.array(ids)))
    X = model.encoder_.transform(subset.select(cols).to_pandas())
    sv, t_shap = timed(lambda: shap.TreeExplainer(model.booster_)(X))
    text, t_reasons = timed(
        lambda: reasons(model, adults, tables, as_of=RUN_AS_OF, patient_ids=ids)
    )
    t_all = None if args.no_everyone else timed(lambda: contributions(model, adults))[1]
    t_text = max(t_reasons - t_contrib, 0.0)

    ms = 1000 / k
    rows = [
        ("contributions (top share)", t_contrib, t_contrib * ms),
        ("shap.TreeExplainer (same rows)", t_shap, t_shap * ms),
        ("text (reasons - contributions)", t_text, t_text * ms),
        ("reasons (contributions + text)", t_reasons, t_reasons * ms),
    ]
    if t_all is not None:
        everyone = f"contributions (everyone, {adults.num_rows:,})"
        rows.append((everyone, t_all, t_all * 1000 / adults.num_rows))
    print(f"\n{'step':<44} {'seconds':>9} {'ms/person':>10}")
    for name, secs, per in rows:
        print(f"{name:<44} {secs:9.2f} {per:10.3f}")
    print(f"\nratio contributions / shap.TreeExplainer: {t_contrib / t_shap:.2f}")
    people = len(set(text["patient_id"].to_pylist()))
    print(f"reasons: {text.num_rows:,} rows for {people:,} people")
    print(f"peak RSS: {_rss_gb():.2f} GB")
    print("\nfirst reasons:")
    for r in text.slice(0, 6).to_pylist():
        print(f"  {r['patient_id']} #{r['rank']} [{r['source']}] {r['text']}")
    _ = (contrib, sv)


if __name__ == "__main__":
    main()
