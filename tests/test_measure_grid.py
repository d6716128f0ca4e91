"""The prebuilt month grid (cchc_lib.measure_grid) gives exactly the engine's measures: every
breakdown, with and without a department filter, for months, quarters, years, and periods
before, across and after the data."""

from __future__ import annotations

import pandas as pd
import pytest

from cchc_lib.indicators import BY_CHOICES, compute_many, dossier_measures
from cchc_lib.measure_grid import with_grid
from cchc_lib.periods import Period
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
