"""The command line: synth, validate, demo (run in-process with Typer's runner)."""

from __future__ import annotations

import datetime as dt
import json
import re

import pandas as pd
import pyarrow.csv as pacsv
import pytest
from typer.testing import CliRunner

from _support.canonical import VALID, load_quietly, write_folder
from riskstrat.cli import app

runner = CliRunner()


def _plain(output: str) -> str:
    """CLI output without Rich's box drawing and line wrapping."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", output).split())


def test_help_lists_the_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for cmd in ("synth", "validate", "features", "demo"):
        assert cmd in result.output


def test_synth_then_validate(tmp_path):
    out = tmp_path / "pop"
    r = runner.invoke(
        app, ["synth", "--patients", "300", "--out", str(out), "--seed", "3"]
    )
    assert r.exit_code == 0, r.output
    assert (out / "patients.parquet").exists()
    truth = json.loads((out / "truth.json").read_text())
    assert truth["random_state"] == 3 and truth["n_patients"] == 300
    rejects = tmp_path / "rejects.csv"
    r = runner.invoke(app, ["validate", str(out), "--rejects", str(rejects)])
    assert r.exit_code == 0, r.output
    assert "patients" in r.output and "accepted" in r.output
    assert pacsv.read_csv(rejects).num_rows == 0


def test_validate_reports_rejects_and_can_fail_on_them(tmp_path):
    files = dict(VALID)
    files["admissions"] = VALID["admissions"] + "p404,2021-02-01,2021-02-02,true,,,\n"
    folder = write_folder(tmp_path / "d", files)
    rejects = tmp_path / "r.csv"
    r = runner.invoke(app, ["validate", str(folder), "--rejects", str(rejects)])
    assert r.exit_code == 0, r.output
    assert "admissions: 1 rows rejected by unknown_patient" in r.output
    rows = pacsv.read_csv(rejects).to_pylist()
    assert rows[0]["rule"] == "unknown_patient" and rows[0]["row"] == 4
    r = runner.invoke(
        app, ["validate", str(folder), "--rejects", str(rejects), "--fail-on-rejects"]
    )
    assert r.exit_code == 1


def test_validate_out_writes_validated_tables_that_features_scan(tmp_path):
    import pyarrow.parquet as pq

    from riskstrat.sources._scan import validated_folder

    files = dict(VALID)
    files["admissions"] = VALID["admissions"] + "p404,2021-02-01,2021-02-02,true,,,\n"
    folder = write_folder(tmp_path / "d", files)
    out = tmp_path / "validated"
    args = ["validate", str(folder), "--rejects", str(tmp_path / "r.csv")]
    r = runner.invoke(app, [*args, "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert validated_folder(out) is not None
    assert pq.read_table(out / "_rejects.parquet").num_rows == 1
    target = tmp_path / "f.parquet"
    args = ["features", "--data", str(out), "--as-of", "2022-01-01"]
    r = runner.invoke(app, [*args, "--out", str(target), "--labels"])
    assert r.exit_code == 0, r.output
    # Read as validated, without a second validation: the same as building from
    # the original folder's validated tables.
    from riskstrat.features import build_features, make_labels

    tables = load_quietly(folder)
    day = dt.date(2022, 1, 1)
    assert pq.read_table(target).equals(build_features(tables, as_of=day))
    labels = pq.read_table(tmp_path / "f-labels.parquet")
    assert labels.equals(make_labels(tables, as_of=day))


def test_validate_schema_error_exits_2_with_the_reason(tmp_path):
    files = {k: v for k, v in VALID.items() if k != "patients"}
    folder = write_folder(tmp_path / "d", files)
    r = runner.invoke(
        app, ["validate", str(folder), "--rejects", str(tmp_path / "r.csv")]
    )
    assert r.exit_code == 2
    assert "required patients table is missing" in r.output


def test_bad_date_option_is_explained(tmp_path):
    r = runner.invoke(app, ["synth", "--out", str(tmp_path), "--start", "01/04/2020"])
    assert r.exit_code != 0
    assert "YYYY-MM-DD" in r.output


def test_demo_runs_and_says_where_outputs_are(tmp_path, monkeypatch, mlflow_store):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_store(tmp_path / "mlflow.db"))
    r = runner.invoke(
        app, ["demo", "--out", str(tmp_path / "demo"), "--patients", "3000"]
    )
    assert r.exit_code == 0, r.output
    assert "Outputs:" in r.output
    assert (tmp_path / "demo" / "source" / "truth.json").exists()
    assert (tmp_path / "demo" / "evaluation" / "overall.csv").exists()
    assert (tmp_path / "demo" / "evaluation" / "roc.png").exists()
    assert "registered" in r.output and "emergency-risk@champion" in r.output
    # step 6: the impact evaluation, with the truth beside the estimate
    assert (tmp_path / "demo" / "impact" / "impact_truth.csv").exists()
    assert "matched (DiD)" in r.output and "truth" in r.output
    flat = " ".join(r.output.split())
    assert "Hidden selection (E-value)" in flat
    enrolled = pd.read_csv(tmp_path / "demo" / "impact" / "impact_enrolled.csv")
    n_matched = int((enrolled["n_controls"] > 0).sum())
    assert (f"Only {n_matched} matched sets" in flat) == (n_matched < 50)


@pytest.fixture(scope="module")
def population(tmp_path_factory):
    out = tmp_path_factory.mktemp("pop") / "source"
    r = runner.invoke(app, ["synth", "--patients", "3000", "--out", str(out)])
    assert r.exit_code == 0, r.output
    return out


def test_train_logs_registers_and_model_loads_by_alias(
    population, tmp_path, mlflow_store
):
    uri = mlflow_store(tmp_path / "mlflow.db")
    args = ["train", "--data", str(population), "--as-of", "2021-04-01"]
    args += ["--oracle-paths", "4"]  # the oracle's plumbing, not its figures
    r = runner.invoke(
        app,
        [*args, "--register", "risk", "--tracking-uri", uri, "--bootstraps", "20"],
    )
    assert r.exit_code == 0, r.output
    for model in ("lightgbm", "logistic", "rules", "oracle"):
        assert model in r.output
    assert "Registered risk@champion (version 1)" in r.output
    assert "2023-04-01: AUROC" in r.output  # the stale-score check, two years on

    from riskstrat.model import load_model

    loaded = load_model("risk@champion", tracking_uri=uri)
    assert loaded.version == "1"


def test_train_on_a_validated_folder_equals_train_after_loading(
    population, tmp_path, mlflow_store
):
    # The synthetic folder is validated (with its extract date): train reads it at
    # each date. Without _counts.parquet it is loaded and validated first. Both
    # must give the same models and figures.
    import shutil

    from riskstrat.sources._scan import validated_folder

    found = validated_folder(population)
    assert found is not None
    assert found.extract_date == dt.date.fromisoformat(
        json.loads((population / "truth.json").read_text())["end"]
    )
    loaded = tmp_path / "loaded"
    shutil.copytree(population, loaded)
    (loaded / "_counts.parquet").unlink()
    outputs = []
    for data in (population, loaded):
        uri = mlflow_store(tmp_path / f"{data.name}.db")
        args = ["train", "--data", str(data), "--as-of", "2021-04-01"]
        args += ["--oracle-paths", "4", "--no-bed-days"]
        r = runner.invoke(app, [*args, "--tracking-uri", uri, "--bootstraps", "0"])
        assert r.exit_code == 0, r.output
        assert "nan" not in r.output  # no interval is printed without bootstraps
        outputs.append([line for line in r.output.splitlines() if "│" in line])
    assert outputs[0] and outputs[0] == outputs[1]


def test_train_refuses_a_test_year_past_the_extract(population, tmp_path, mlflow_store):
    uri = mlflow_store(tmp_path / "mlflow.db")
    args = ["train", "--data", str(population), "--as-of", "2023-04-01"]
    r = runner.invoke(app, [*args, "--tracking-uri", uri])
    assert r.exit_code == 2
    assert "extract" in r.output


def test_unknown_source_is_explained(population):
    r = runner.invoke(app, ["validate", str(population), "--source", "fhir"])
    assert r.exit_code != 0
    assert "--source must be one of" in r.output


def test_features_command_writes_parquet(tmp_path):
    import pyarrow.parquet as pq

    out = tmp_path / "pop"
    runner.invoke(app, ["synth", "--patients", "300", "--out", str(out)])
    target = tmp_path / "f" / "features.parquet"
    args = ["features", "--data", str(out), "--as-of", "2022-04-01"]
    r = runner.invoke(app, [*args, "--out", str(target), "--labels"])
    assert r.exit_code == 0, r.output
    feats = pq.read_table(target)
    assert feats.num_rows > 200 and "essex_priority" in feats.column_names
    labels = pq.read_table(tmp_path / "f" / "features-labels.parquet")
    assert labels.num_rows == feats.num_rows


def test_validate_and_features_read_an_omop_folder(tmp_path):
    import pyarrow.parquet as pq

    from _support.omop import OMOP, write_csv

    folder = write_csv(tmp_path / "omop", OMOP, case="upper")
    rejects = tmp_path / "rejects.csv"
    r = runner.invoke(
        app, ["validate", str(folder), "--source", "omop", "--rejects", str(rejects)]
    )
    assert r.exit_code == 0, r.output
    assert "Mapping from omop" in r.output and "visit_occurrence" in r.output
    assert rejects.exists()
    out = tmp_path / "f.parquet"
    args = ["features", "--data", str(folder), "--source", "omop"]
    r = runner.invoke(app, [*args, "--as-of", "2021-01-01", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert pq.read_table(out).num_rows > 0


# --- score: a registered model on a date, refusing features unlike its own ---------


@pytest.fixture(scope="module")
def scored_folder(registered, tmp_path_factory):
    pop, uri, loaded = registered
    folder = tmp_path_factory.mktemp("score") / "pop"
    pop.write(folder)
    return folder, uri, loaded


def test_score_writes_keyed_scores_with_the_pinned_version(scored_folder, tmp_path):
    import pyarrow.parquet as pq

    folder, uri, loaded = scored_folder
    out = tmp_path / "out"
    args = ["score", "--data", str(folder), "--as-of", "2023-04-01", "--out", str(out)]
    r = runner.invoke(app, [*args, "--model", "risk@champion", "--tracking-uri", uri])
    assert r.exit_code == 0, r.output
    assert f"risk v{loaded.version}" in r.output
    s = pq.read_table(out / "runs" / "2023-04-01" / "scores.parquet")
    assert s.column_names == [
        "patient_id", "as_of", "risk", "model_name", "model_version",
    ]  # fmt: skip
    assert set(s["model_version"].to_pylist()) == {loaded.version}
    assert min(s.to_pandas()["as_of"]) == dt.date(2023, 4, 1)
    # Cohort of the model's design: adults only.
    ages = pq.read_table(folder / "patients.parquet")
    assert s.num_rows < ages.num_rows


def test_score_refuses_features_built_with_another_spec(scored_folder, tmp_path):
    folder, uri, _ = scored_folder
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"windows_days": [30, 91, 365, 730]}))
    feats = tmp_path / "f.parquet"
    r = runner.invoke(
        app,
        ["features", "--data", str(folder), "--as-of", "2023-04-01",
         "--out", str(feats), "--spec", str(spec)],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    out = tmp_path / "out"
    r = runner.invoke(
        app,
        ["score", "--data", str(folder), "--as-of", "2023-04-01", "--out", str(out),
         "--model", "risk@champion", "--tracking-uri", uri, "--features", str(feats)],
    )  # fmt: skip
    assert r.exit_code == 4, r.output
    assert "trained on" in r.output and "+em_admissions_30d: int64" in r.output
    assert not (out / "runs" / "2023-04-01").exists()


def test_score_names_a_missing_model(scored_folder, tmp_path):
    folder, uri, _ = scored_folder
    r = runner.invoke(
        app,
        ["score", "--data", str(folder), "--as-of", "2023-04-01",
         "--out", str(tmp_path / "out"), "--model", "nope@champion",
         "--tracking-uri", uri],
    )  # fmt: skip
    assert r.exit_code == 3, r.output
    assert "No registered model 'nope@champion'" in r.output


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--register", "bad/name"], "registered model name 'bad/name'"),
        (["--register", "ok", "--alias", "latest"], "alias 'latest'"),
        (["--tracking-uri", "sqlit:///x.db"], "unknown scheme 'sqlit'"),
        (["--as-of", "9999-06-01"], "between 1900-01-01 and 2200-12-31"),
    ],
)
def test_train_refuses_bad_arguments_before_any_work(
    scored_folder, tmp_path, extra, message
):
    folder, _, _ = scored_folder
    uri = f"sqlite:///{tmp_path / 'fresh.db'}"
    args = ["train", "--data", str(folder), "--as-of", "2021-04-01"]
    if "--tracking-uri" not in extra:
        args += ["--tracking-uri", uri]
    r = runner.invoke(app, [*args, *extra])
    assert r.exit_code == 2, r.output
    assert message in _plain(r.output)
    assert not (tmp_path / "fresh.db").exists()  # nothing was trained or logged


def test_score_exit_codes_for_rejects_missing_input_and_a_held_lock(
    scored_folder, tmp_path
):
    from riskstrat.batch._publish import publish_lock

    _, uri, _ = scored_folder
    files = dict(VALID)
    files["admissions"] = VALID["admissions"] + "p404,2021-02-01,2021-02-02,true,,,\n"
    bad = write_folder(tmp_path / "bad", files)
    out = tmp_path / "out"

    def run(data):
        return runner.invoke(
            app,
            ["score", "--data", str(data), "--as-of", "2023-04-01", "--out", str(out),
             "--model", "risk@champion", "--tracking-uri", uri],
        )  # fmt: skip

    r = run(bad)
    assert r.exit_code == 1, r.output
    assert "admissions: 1 of 4 rows rejected (25.0%)" in _plain(r.output)
    r = run(tmp_path / "nowhere")
    assert r.exit_code == 2, r.output
    with publish_lock(out):
        r = run(scored_folder[0])
    assert r.exit_code == 5, r.output
    assert "Another riskstrat run is writing" in _plain(r.output)
    assert not (out / "runs" / "2023-04-01").exists()


def test_scope_reproduces_table_one_and_writes_the_tables(tmp_path):
    r = runner.invoke(app, ["scope", "--out", str(tmp_path / "s")])
    assert r.exit_code == 0, r.output
    assert "7,644 case-management patients (first tranche 1,911)" in _plain(r.output)
    areas = pacsv.read_csv(tmp_path / "s" / "scope_areas.csv").to_pylist()
    assert sum(a["expected_patients"] for a in areas) in range(7_640, 7_650)
    costs = pacsv.read_csv(tmp_path / "s" / "scope_costs.csv").to_pylist()
    assert {c["band"] for c in costs} >= {"Level 7"}
