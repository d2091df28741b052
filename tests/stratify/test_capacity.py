from pathlib import Path

import pytest

from riskstrat.exceptions import SchemaError
from riskstrat.stratify import StratifySettings, localities_table, read_localities

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "localities-example.csv"
HEADER = "locality,case_managers_fte,caseload_per_fte,reserve_share\n"


def _write(tmp_path, body, header=HEADER):
    f = tmp_path / "localities.csv"
    f.write_text(header + body)
    return f


def test_the_documented_example_reads_with_defaults_filled():
    t = read_localities(EXAMPLE)
    rows = {r["locality"]: r for r in t.to_pylist()}
    assert len(rows) == 5
    assert rows["West Essex"]["capacity"] == 1200
    assert rows["West Essex"]["reserve"] == 180
    assert rows["West Essex"]["listable"] == 1020
    # empty cells take the defaults: 50 per FTE and a 15 % reserve
    assert rows["South East Essex"]["caseload_per_fte"] == 50
    assert rows["South East Essex"]["reserve_share"] == 0.15


def test_capacity_arithmetic_by_hand():
    t = localities_table(
        [
            {
                "locality": "A",
                "case_managers_fte": 2.3,
                "caseload_per_fte": 50,
                "reserve_share": 0.1,
            },
            {
                "locality": "B",
                "case_managers_fte": "0.5",
                "caseload_per_fte": "35",
                "reserve_share": "0",
            },
        ]
    )
    assert t.select(["capacity", "reserve", "listable"]).to_pylist() == [
        {"capacity": 115, "reserve": 12, "listable": 103},  # 11.5 reserved rounds up
        {"capacity": 17, "reserve": 0, "listable": 17},
    ]


def test_settings_give_the_defaults():
    t = localities_table(
        [{"locality": "A", "case_managers_fte": 1}],
        settings=StratifySettings(caseload_per_fte=30, reserve_share=0.2),
    )
    assert t.select(["capacity", "reserve", "listable"]).to_pylist() == [
        {"capacity": 30, "reserve": 6, "listable": 24}
    ]


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (
            "A,2,10,0.1\n",
            r"localities.csv: row 1, column caseload_per_fte: must be between 20 and 100 .* Got '10'",
        ),
        ("A,2,101,0.1\n", r"row 1, column caseload_per_fte: .* Got '101'"),
        (
            "A,2,50,0.1\nB,2,50,0.6\n",
            r"localities.csv: row 2, column reserve_share: .* Got '0.6'",
        ),
        ("A,2,50,-0.1\n", r"row 1, column reserve_share: .* Got '-0.1'"),
        ("A,two,50,0.1\n", r"row 1, column case_managers_fte: not a number. Got 'two'"),
        (
            "A,-1,50,0.1\n",
            r"row 1, column case_managers_fte: must be a number >= 0. Got '-1'",
        ),
        (
            "A,2,50.5,0.1\n",
            r"row 1, column caseload_per_fte: must be a whole number. Got '50.5'",
        ),
        (
            "A,2,50,0.1\nA,1,50,0.1\n",
            r"row 2, column locality: 'A' is listed twice \(rows 1 and 2\)",
        ),
        (",2,50,0.1\n", r"row 1, column locality: empty"),
        (
            "A,2,50,0.1\n\nB,1,50,x\n",
            r"row 3, column reserve_share: not a number. Got 'x'",
        ),
    ],
)
def test_bad_values_name_file_row_column_and_value(tmp_path, body, match):
    with pytest.raises(ValueError, match=match):
        read_localities(_write(tmp_path, body))


def test_missing_column_and_empty_file_are_schema_errors(tmp_path):
    with pytest.raises(SchemaError, match="no case_managers_fte column"):
        read_localities(
            _write(tmp_path, "A,50\n", header="locality,caseload_per_fte\n")
        )
    with pytest.raises(SchemaError, match="has no rows"):
        read_localities(_write(tmp_path, ""))
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(SchemaError, match=r"empty\.csv: the localities file is empty"):
        read_localities(tmp_path / "empty.csv")


def test_optional_columns_may_be_left_out_and_headers_ignore_case(tmp_path):
    t = read_localities(
        _write(tmp_path, "A,2\n", header=" Locality ,CASE_MANAGERS_FTE\n")
    )
    assert t.to_pylist()[0]["capacity"] == 100
