"""A batch's indicator frames computed together (issue 15): every run of
``indicator_runs.compute_runs`` is exactly ``compute_many`` of that run (second method: the
engine's own call, one run at a time); a report's frames taken from its batch equal the frames
it computes alone, whatever the batch and its order; the runner hands each job its own
environment in the kernel (whose missing output cache still shows a cell's value)."""

from __future__ import annotations

import os
from dataclasses import replace

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from cchc_lib.conventions import as_conventions
from cchc_lib.indicator_runs import compute_runs
from cchc_lib.indicators import compute_indicators, compute_many, dossier_measures, monthly_indicators
from cchc_lib.periods import Period, months_between, periods_in_year
from cchc_lib.publish import batch_frames
from cchc_lib.publish.report import _late_by_procedure, chart_window

P = Period.parse
YEAR = periods_in_year(2023)


def _exactly(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(ours, theirs, check_exact=True)
    assert list(ours.dtypes) == list(theirs.dtypes)


def _departments(data) -> list[str]:
    return sorted(data.dossiers["department"].dropna().astype(str).unique())


@pytest.mark.parametrize("by", ["overall", "department", "procedure", "field", "channel"])
def test_each_run_is_exactly_compute_many_of_that_run(sample_processed, by):
    data = sample_processed
    departments = _departments(data)
    runs = [[p] for p in YEAR] + [
        [P("2023-02"), P("2023-03")], [], [P("2022")], [P("2021-Q4"), P("2023-Q1")],
        [P("2023-05"), P("2023-05")],  # a period asked twice counts once, as in compute_many
    ]
    for department in (None, departments[0], departments[-1]):
        for with_changes in (True, False):
            got = compute_runs(data, runs, by, department, with_changes)
            assert len(got) == len(runs)
            for frame, run in zip(got, runs, strict=True):
                _exactly(frame, compute_many(data, run, by, department, with_changes))


def test_monthly_windows_are_exactly_the_monthly_series(sample_processed):
    data = sample_processed
    windows = [chart_window(p) for p in YEAR]
    got = compute_runs(data, [months_between(*w) for w in windows], with_changes=False)
    for frame, (start, end) in zip(got, windows, strict=True):
        _exactly(frame, monthly_indicators(data, start, end))


def test_runs_are_exact_from_the_dossiers_and_under_other_conventions(sample_processed):
    """Without the day-level aggregate (the engine reads the dossiers) and under the ND 09
    window with due dates judged by the day: still the single call's rows, bit for bit."""
    from_dossiers = replace(sample_processed, daily=None, daily_of=None)
    assert from_dossiers.aggregate() is None
    nd09 = replace(sample_processed, conventions=as_conventions({"window": "nd09", "timeliness": "day"}))
    runs = [[p] for p in YEAR[::3]]
    for data in (from_dossiers, nd09):
        for by in ("overall", "department"):
            for frame, run in zip(compute_runs(data, runs, by), runs, strict=True):
                _exactly(frame, compute_many(data, run, by))


def test_a_department_without_dossiers_in_some_runs_gets_the_single_calls_empty_frame(sample_processed):
    data = sample_processed
    department = _departments(data)[0]
    far = [[P("2010-01")], [P("2023-03")]]  # nothing at all in 2010 (and nothing a year before)
    got = compute_runs(data, far, "department", department)
    for frame, run in zip(got, far, strict=True):
        _exactly(frame, compute_many(data, run, "department", department))
    assert got[0].empty and not got[1].empty


def test_one_call_for_every_period_would_not_give_each_periods_own_sums(sample_processed):
    """Why compute_runs keeps one measure sum per run: the fractional sums (processing days) of
    one engine call over the whole year differ, in their last bits, from the single period's
    call for some periods (running sums from another starting month round differently), while
    each run's own call gives them exactly (the tests above)."""
    data = sample_processed
    together = dossier_measures(data, YEAR, "overall")
    apart = pd.concat([dossier_measures(data, [p], "overall") for p in YEAR], ignore_index=True)
    assert together["processing_days_sum"].tolist() != apart["processing_days_sum"].tolist()
    assert together["processing_days_sum"].to_numpy() == pytest.approx(
        apart["processing_days_sum"].to_numpy())


# -- a report's frames from its batch ----------------------------------------------------------


@pytest.fixture()
def batch_env(monkeypatch):
    def set_batch(periods):
        for name, value in batch_frames.batch_environment(periods).items():
            monkeypatch.setenv(name, value)
    monkeypatch.delenv(batch_frames.BATCH_ENV, raising=False)
    return set_batch


def _alone(data, period, department):
    start, end = chart_window(period)
    return {"indicators": compute_indicators(data, period, "overall", department),
            "monthly": monthly_indicators(data, start, end, "overall", department),
            "by_department": compute_indicators(data, period, "department"),
            "late": _late_by_procedure(data, period, department)}


@pytest.mark.parametrize("department", [None, "first"])
def test_a_reports_frames_from_its_batch_equal_the_frames_it_computes_alone(
        sample_processed_dir, batch_env, department):
    from cchc_lib import datacache

    data = datacache.load_processed(sample_processed_dir)
    department = _departments(data)[0] if department else None
    batch_env(YEAR)
    for period in YEAR:
        shared = batch_frames.shared_frames(data, period, department)
        assert shared is not None
        alone = _alone(data, period, department)
        for name in ("indicators", "monthly", "by_department", "late"):
            _exactly(shared[name], alone[name])


def test_the_order_of_the_batch_and_what_ran_before_change_nothing(sample_processed_dir, batch_env):
    from cchc_lib import datacache

    data = datacache.load_processed(sample_processed_dir)
    batch_env(YEAR)
    first = batch_frames.shared_frames(data, P("2023-Q2"), None)
    first["indicators"]["value"] = -1.0  # a report that alters what it got
    batch_env(list(reversed(YEAR)))
    again = batch_frames.shared_frames(datacache.load_processed(sample_processed_dir), P("2023-Q2"), None)
    alone = _alone(data, P("2023-Q2"), None)
    _exactly(again["indicators"], alone["indicators"])
    batch_env(YEAR)  # the first batch's frames, kept: still untouched by the alteration
    _exactly(batch_frames.shared_frames(data, P("2023-Q2"), None)["indicators"], alone["indicators"])


def test_outside_a_batch_or_for_a_period_it_does_not_list_a_report_computes_its_own(
        sample_processed_dir, batch_env):
    from cchc_lib import datacache

    data = datacache.load_processed(sample_processed_dir)
    assert batch_frames.shared_frames(data, P("2023-03"), None) is None
    batch_env([P("2023-01"), P("2023-02")])
    assert batch_frames.shared_frames(data, P("2023-03"), None) is None
    assert batch_frames.batch_environment([P("2023-03")]) == {}  # one report: nothing to share
    os.environ[batch_frames.BATCH_ENV] = "2023-01,not-a-period"
    assert batch_frames.batch_periods() == ()


def test_the_late_counts_of_one_call_for_every_period_are_each_periods_own(sample_processed):
    """The late dossiers per procedure are whole numbers: one engine call over all the batch's
    periods gives each period's counts exactly (unlike the fractional measures above)."""
    data = sample_processed
    measures = dossier_measures(data, YEAR, "procedure")
    size = len(measures) // len(YEAR)
    for k, period in enumerate(YEAR):
        own = dossier_measures(data, [period], "procedure")
        mine = measures.iloc[k * size:(k + 1) * size].reset_index(drop=True)
        assert mine["group"].tolist() == own["group"].tolist()
        assert mine["late"].tolist() == own["late"].tolist()


# -- the runner: a job's environment in the kernel ------------------------------------------------


def test_each_job_sees_its_own_environment_in_the_kernel_and_not_the_last_ones(tmp_path):
    from cchc_lib.publish.runner import KernelSession, ReportJob, resolve_kernel, run_job

    cell = new_code_cell("import os\nprint(repr(os.environ.get('CCHC_TEST_A')), "
                         "repr(os.environ.get('CCHC_TEST_B')))")
    params = new_code_cell("period = ''")
    params.metadata["tags"] = ["parameters"]
    value = new_code_cell("6 * 7")  # the kernels keep no output cache: a value still shows
    notebook = tmp_path / "env.ipynb"
    nbformat.write(new_notebook(cells=[params, value, cell], metadata={"kernelspec": {
        "name": resolve_kernel(), "display_name": "Python 3", "language": "python"}}), notebook)

    def job(name: str, environment: dict[str, str]) -> ReportJob:
        return ReportJob(key=name, period=name, notebook=notebook, parameters={"period": name},
                         html=tmp_path / f"{name}.html", ipynb=tmp_path / f"{name}.ipynb", title=name,
                         environment=environment)

    session = KernelSession()
    try:
        seen = []
        for j in (job("one", {"CCHC_TEST_A": "1", "CCHC_TEST_B": 'x"y'}), job("two", {"CCHC_TEST_A": "2"}),
                  job("three", {})):
            result = run_job(j, session)
            record = nbformat.read(result.notebook, as_version=4)
            seen.append(record.cells[-1].outputs[0]["text"].strip())
            shown = record.cells[-2].outputs
            assert [(o["output_type"], o["data"]["text/plain"]) for o in shown] == [("execute_result", "42")]
    finally:
        session.shutdown()
    assert seen == ["'1' 'x\"y'", "'2' None", "None None"]
