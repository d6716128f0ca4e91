"""The prebuilt month grid (cchc_lib.measure_grid) gives exactly the engine's measures: every
breakdown, with and without a department filter, for months, quarters, years, and periods
before, across and after the data."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from cchc_lib import dossier_source
from cchc_lib.daily import FLOAT_MEASURES, build_daily
from cchc_lib.explorer.engine import under_conventions
from cchc_lib.indicators import BY_CHOICES, compute_many, dossier_measures
from cchc_lib.measure_grid import MeasureGrid, grid_basis, with_grid
from cchc_lib.periods import Period
from cchc_lib.processed import load_processed
from tests.test_daily import CONVENTIONS, random_data
from tests.test_indicators import dossier, make_data

PERIODS = [Period.parse(p) for p in ("2021-12", "2022-01", "2022-Q4", "2023-02", "2023-Q1", "2023",
                                     "2023-12", "2024-01", "2024-Q2", "2022")]


def _same(ours: pd.DataFrame, engine: pd.DataFrame) -> None:
    assert list(ours.columns) == list(engine.columns)
    assert ours[["period", "group"]].values.tolist() == engine[["period", "group"]].values.tolist()
    pd.testing.assert_frame_equal(ours.reset_index(drop=True), engine.reset_index(drop=True),
                                  check_exact=False, rtol=1e-9, atol=1e-9, check_dtype=False)


def test_grid_equals_the_engine_on_the_sample(sample_processed):
    gridded = with_grid(sample_processed)
    departments = sorted(sample_processed.dossiers["department"].dropna().unique())
    for department in (None, *departments, "Phòng không có"):
        for by in BY_CHOICES:
            _same(dossier_measures(gridded, PERIODS, by, department),
                  dossier_measures(sample_processed, PERIODS, by, department))
    # And the indicators themselves, with changes against earlier periods.
    for by in ("overall", "procedure"):
        _same(compute_many(gridded, PERIODS[3:6], by, departments[0]),
              compute_many(sample_processed, PERIODS[3:6], by, departments[0]))


def test_grid_on_odd_small_data():
    """A completion before receipt, a rating without a date, an open dossier, a channel label."""
    data = make_data([
        dossier(1, "2023-02-01 08:00", "2023-02-10", "2023-01-30 08:00", channel="online"),
        dossier(2, "2023-02-01 08:00", "2023-02-10", "2023-03-10 20:00", rating="satisfied",
                department="Phòng B", procedure_code="1.2"),
        dossier(3, "2023-03-02 08:00", "2023-03-05", None, channel="postal", field="Khác"),
    ])
    gridded = with_grid(data)
    periods = [Period.parse(p) for p in ("2023-01", "2023-02", "2023-03", "2023-Q1", "2023-04")]
    for department in (None, "Phòng A", "Phòng B"):
        for by in BY_CHOICES:
            _same(dossier_measures(gridded, periods, by, department),
                  dossier_measures(data, periods, by, department))
    pending = dossier_measures(gridded, [Period.parse("2023-03")], "overall")
    assert pending["pending"].tolist() == [1] and pending["pending_overdue"].tolist() == [1]


def test_grid_with_no_dossiers():
    data = make_data([dossier(1, "2023-02-01 08:00", "2023-02-10")])
    data.dossiers = data.dossiers.iloc[:0]
    gridded = with_grid(data)
    with pytest.raises(ValueError):
        dossier_measures(gridded, PERIODS, "nonsense")
    for by in BY_CHOICES:
        _same(dossier_measures(gridded, PERIODS[:3], by), dossier_measures(data, PERIODS[:3], by))


def _grid_pairs(data):
    """(grid from the half-month basis, grid straight from the day-level aggregate) for every
    combination of the counting conventions and both data windows."""
    basis = grid_basis(data.aggregate())
    for conventions in CONVENTIONS:
        under = under_conventions(data, conventions)
        for window in ("calendar", "nd09"):
            yield conventions, window, MeasureGrid(under, window, basis), MeasureGrid(under, window)


def _same_grid(ours: MeasureGrid, direct: MeasureGrid, periods: list[Period]) -> None:
    assert (ours.n_cells, ours.lo, ours.width) == (direct.n_cells, direct.lo, direct.width)
    labels = ("department", "field", "procedure", "channel")
    ours_cells = list(zip(*(ours.cells[k] for k in labels), strict=True))
    direct_cells = list(zip(*(direct.cells[k] for k in labels), strict=True))
    assert sorted(ours_cells, key=str) == sorted(direct_cells, key=str)
    at = {cell: i for i, cell in enumerate(direct_cells)}
    order = [at[cell] for cell in ours_cells]
    assert set(ours.sums) == set(direct.sums)
    for name, sums in ours.sums.items():
        if name in FLOAT_MEASURES:  # summed by half-month first: equal but for the last bits
            np.testing.assert_allclose(sums, direct.sums[name][order], rtol=1e-12, atol=1e-9)
        else:  # counts: exactly
            assert np.array_equal(sums, direct.sums[name][order]), name
    departments = sorted({d for d in direct.cells["department"] if isinstance(d, str)})[:2]
    for department in (None, *departments):
        for by in BY_CHOICES:
            _same(ours.measures(periods, by, department), direct.measures(periods, by, department))


@pytest.mark.parametrize("seed", [3, 4])
def test_grid_from_the_basis_equals_the_grid_from_the_aggregate_on_random_data(seed):
    data = random_data(seed, 400)
    data = replace(data, daily=build_daily(data.dossiers, data.procedures, data.feedback),
                   daily_of=data.dossiers)
    withdrawn = data.dossiers["status"] == "withdrawn"
    assert withdrawn.any() and (~withdrawn).any()  # so ``excluded`` leaves cells out
    seen = set()
    for conventions, window, ours, direct in _grid_pairs(data):
        _same_grid(ours, direct, PERIODS)
        seen.add((conventions.timeliness, conventions.withdrawn, window))
    assert len(seen) == 12


def test_grid_from_the_basis_equals_the_grid_from_the_aggregate_on_the_sample(sample_processed):
    assert sample_processed.aggregate() is not None, "ingest writes daily.parquet"
    for _, _, ours, direct in _grid_pairs(sample_processed):
        _same_grid(ours, direct, PERIODS)


def test_basis_by_hand():
    """Days summed into the 1st or the 15th of their month, per cell and kind; the cells' labels
    kept once; the same month sums under both windows as the days they stand for."""
    data = make_data([
        dossier(1, "2023-02-01 08:00", "2023-02-10", "2023-02-14 09:00", channel="online"),
        dossier(2, "2023-02-14 08:00", "2023-02-20", "2023-02-15 09:00", channel="online"),
        dossier(3, "2023-02-28 08:00", "2023-03-10", "2023-03-01 09:00", channel="online"),
        dossier(4, "2023-02-03 08:00", "2023-02-10", None, department="Phòng B"),
    ])
    daily = build_daily(data.dossiers, data.procedures)
    basis = grid_basis(daily)
    assert basis.cells["department"].tolist() == ["Phòng A", "Phòng B"]
    day = {s: int(np.datetime64(s, "D").astype(np.int64)) for s in ("2023-02-01", "2023-02-15",
                                                                      "2023-03-01")}
    rows = basis.rows[basis.rows["cell"] == 0]
    received = rows.groupby("day")["received"].sum().to_dict()
    resolved = rows.groupby("day")["resolved"].sum().to_dict()
    # Received on 01/02 and 14/02 (first half), 28/02 (second half); done 14/02, 15/02, 01/03.
    assert received == {day["2023-02-01"]: 2, day["2023-02-15"]: 1, day["2023-03-01"]: 0}
    assert resolved == {day["2023-02-01"]: 1, day["2023-02-15"]: 1, day["2023-03-01"]: 1}
    assert basis.rows[basis.rows["cell"] == 1]["received"].sum() == 1
    assert len(basis.rows) < len(daily)
    # NĐ 09's February runs 15/01-14/02: dossiers 1, 2 and 4 received, dossier 1 done.
    data = replace(data, daily=daily, daily_of=data.dossiers)
    grid = MeasureGrid(data, "nd09", basis)
    feb = grid.measures([Period.parse("2023-02")])
    assert feb[["received", "resolved"]].iloc[0].tolist() == [3, 1]
    with pytest.raises(ValueError, match="another day-level aggregate"):
        MeasureGrid(replace(data, daily=daily.copy()), "nd09", basis)


def test_a_grid_of_unread_dossiers_leaves_them_unread(sample_processed_dir):
    """Built from the aggregate, a grid needs no dossier; the copy carrying it keeps the dossier
    file unread and its aggregate (what the engine's other paths read)."""
    data = load_processed(sample_processed_dir)
    assert dossier_source.is_lazy(data) and data.aggregate() is not None
    gridded = with_grid(data, basis=grid_basis(data.aggregate()))
    assert dossier_source.is_lazy(gridded) and gridded.aggregate() is data.aggregate()
    _same(dossier_measures(gridded, PERIODS, "department"),
          dossier_measures(replace(data, grid=None), PERIODS, "department"))
