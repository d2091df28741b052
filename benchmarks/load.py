"""Benchmark the guarded reading: load_tables on CSV and Parquet, the scan check.

Usage::

    python benchmarks/load.py --patients 200000
    PYTHONPATH=/path/to/older/src python benchmarks/load.py --patients 200000

Writes a synthetic population as canonical CSV and as Parquet into a temporary
folder, then times (best of ``--repeat``) ``load_tables`` on each, the part of it
spent on the new checks (UTF-8 check of each CSV, exact-duplicate search of the
event tables), and ``validated_folder`` (which now hashes every file with
SHA-256). Run it against an older ``src`` to compare.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from riskstrat.synth import make_population


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        tic = time.perf_counter()
        fn()
        times.append(time.perf_counter() - tic)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--patients", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    from riskstrat.sources import load_tables

    pop = make_population(args.patients, random_state=0)
    with tempfile.TemporaryDirectory() as tmp:
        pq_dir = pop.tables.to_parquet(Path(tmp) / "parquet")
        csv_dir = Path(tmp) / "csv"
        csv_dir.mkdir()
        size = 0
        for name, table in pop.tables.items():
            if name in pop.tables.absent:
                continue
            plain = table.cast(
                pa.schema(
                    [
                        f.with_type(f.type.value_type)
                        if pa.types.is_dictionary(f.type)
                        else f
                        for f in table.schema
                    ]
                )
            )
            if name == "admissions":
                joined = plain.column("secondary_diagnoses").to_pylist()
                plain = plain.set_column(
                    plain.column_names.index("secondary_diagnoses"),
                    pa.field("secondary_diagnoses", pa.string()),
                    pa.array(
                        [None if v is None else "|".join(v) for v in joined],
                        pa.string(),
                    ),
                )
            pacsv.write_csv(plain, csv_dir / f"{name}.csv")
            size += (csv_dir / f"{name}.csv").stat().st_size
        rows = sum(t.num_rows for _, t in pop.tables.items())
        print(f"{args.patients:,} people, {rows:,} rows; CSV {size / 1e6:.0f} MB")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_csv = _best(lambda: load_tables(csv_dir), args.repeat)
            t_pq = _best(lambda: load_tables(pq_dir), args.repeat)
        print(f"load_tables CSV      {t_csv:6.2f} s")
        print(f"load_tables Parquet  {t_pq:6.2f} s")
        try:
            from riskstrat.sources._files import check_utf8
            from riskstrat.sources._loader import _duplicate_rows
        except ImportError:
            print("(older code: no guarded reading to time apart)")
        else:
            t_utf8 = _best(
                lambda: [check_utf8(p) for p in csv_dir.glob("*.csv")], args.repeat
            )
            events = [
                t
                for n, t in pop.tables.items()
                if n not in ("patients", "prescriptions")
            ]
            t_dup = _best(lambda: [_duplicate_rows(t) for t in events], args.repeat)
            print(f"  of which UTF-8 check of the CSV files  {t_utf8:6.2f} s")
            print(f"  of which duplicate search              {t_dup:6.2f} s")
        from riskstrat.features._scan import validated_folder

        t_scan = _best(lambda: validated_folder(pq_dir), args.repeat)
        print(f"validated_folder     {t_scan:6.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
