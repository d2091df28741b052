import datetime as dt

from _support.lists import tables
from riskstrat.alerts import EVENTS_SCHEMA, trigger_events

D = dt.date


def _adm(pid, day, emergency=True):
    return {
        "patient_id": pid,
        "admission_date": day,
        "discharge_date": day,
        "emergency": emergency,
    }


def _events(admissions, since=D(2024, 1, 1), as_of=D(2024, 2, 1)):
    t = tables(
        patients=[{"patient_id": "a"}, {"patient_id": "b"}], admissions=admissions
    )
    out = trigger_events(t, since=since, as_of=as_of)
    assert out.schema.equals(EVENTS_SCHEMA)
    return [
        (r["patient_id"], r["trigger"], r["event_date"], r["count_12m"])
        for r in out.to_pylist()
        if r["trigger"] != "any_admission"
    ]


def test_twelve_months_is_365_days_up_to_and_including_the_admission():
    # features as of D+1 count admissions dated >= D+1-365 = D-364
    got = _events(
        [_adm("a", D(2023, 1, 17)), _adm("a", D(2024, 1, 16), emergency=False)]
    )
    assert got == [("a", "second_admission_12m", D(2024, 1, 16), 2)]
    got = _events(
        [_adm("a", D(2023, 1, 16)), _adm("a", D(2024, 1, 16), emergency=False)]
    )
    assert got == []


def test_two_admissions_on_one_day_are_the_second_and_the_first():
    got = _events([_adm("b", D(2024, 1, 5)), _adm("b", D(2024, 1, 5))])
    assert ("b", "second_admission_12m", D(2024, 1, 5), 2) in got
    assert sum(1 for g in got if g[1] == "emergency_admission") == 2


def test_the_fourth_admission_is_not_a_third():
    days = [D(2023, 10, 1), D(2023, 11, 1), D(2023, 12, 1), D(2024, 1, 10)]
    got = _events([_adm("a", d, emergency=False) for d in days])
    assert got == []


def test_no_tables_means_no_events():
    assert trigger_events(None, since=D(2024, 1, 1), as_of=D(2024, 2, 1)).num_rows == 0
