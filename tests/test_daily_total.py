"""The running total that ingest adds batch aggregates to (daily_total.DailyTotal) is, byte for
byte, the table daily.add_daily gives when each batch's aggregate is added to the total in turn
(what ingest did before): same rows in the same order, same dtypes, every count and the bits of
both float sums; by the packed one-key sort and by the four-key fallback."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import cchc_lib.ingest.daily_total as daily_total
from cchc_lib.daily import FLOAT_MEASURES, NO_DAY, add_daily, build_daily
from cchc_lib.ingest.daily_total import DailyTotal
from cchc_lib.schema import conform
from tests.test_daily import random_data


def _parts(dossiers: pd.DataFrame, procedures, feedback, batch_rows: int) -> list[pd.DataFrame]:
    parts = []
    for start in range(0, len(dossiers), batch_rows):
        parts.append(build_daily(dossiers.iloc[start:start + batch_rows], procedures, feedback))
    return parts


def _chained(parts: list[pd.DataFrame]) -> pd.DataFrame:
    total = parts[0]
    for part in parts[1:]:
        total = add_daily([total, part])
    return total


def _same_bits(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(ours, theirs, check_exact=True)
    for name in FLOAT_MEASURES:
        assert (ours[name].to_numpy().view(np.int64) == theirs[name].to_numpy().view(np.int64)).all()


def _total(parts: list[pd.DataFrame]) -> pd.DataFrame:
    total = DailyTotal()
    for part in parts:
        total.add(part)
    return total.frame()


@pytest.mark.parametrize("packed", [True, False])
@pytest.mark.parametrize("batch_rows", [1, 7, 100, 599, 10_000])
def test_total_is_add_daily_in_turn(monkeypatch, packed, batch_rows):
    data = random_data(5)
    # Missing dates (NO_DAY rows) and missing cells among them.
    dossiers = data.dossiers.copy()
    dossiers.loc[dossiers.index[::37], "received_at"] = pd.NaT
    dossiers.loc[dossiers.index[::41], "department"] = pd.NA
    if not packed:
        monkeypatch.setattr(daily_total, "_pack", lambda *keys: None)
    parts = _parts(dossiers, data.procedures, data.feedback, batch_rows)
    assert any((p["day"] == NO_DAY).any() for p in parts)
    _same_bits(_total(parts), _chained(parts))


def test_on_the_sample(sample_processed_dir):
    dossiers = conform(pd.read_parquet(sample_processed_dir / "dossiers.parquet"), "dossiers")
    procedures = conform(pd.read_parquet(sample_processed_dir / "procedures.parquet"), "procedures")
    feedback = conform(pd.read_parquet(sample_processed_dir / "feedback.parquet"), "feedback")
    parts = _parts(dossiers, procedures, feedback, 997)
    assert len(parts) > 2
    _same_bits(_total(parts), _chained(parts))


def test_float_sums_in_order_by_hand():
    """A row in three batches sums as ((a + b) + c), the running total's order: with values whose
    sum depends on the grouping, the bits tell the orders apart."""
    cells = {"department": "A", "field": "F", "procedure_code": "1.1", "channel": "online"}
    other = {"department": "B", "field": "F", "procedure_code": "1.1", "channel": None}

    def part(rows):
        frame = pd.DataFrame([{**c, "day": d, "lag": 0, "kind": 0} for c, d, _ in rows])
        frame = frame.astype({c: "string" for c in cells}).astype(
            {"day": np.int32, "lag": np.int32, "kind": np.int8})
        for name in daily_total.MEASURES:
            frame[name] = np.array([w if name == "wait_sum" else (1 if name == "received" else 0)
                                    for *_, w in rows],
                                   dtype=np.float64 if name in FLOAT_MEASURES else np.int64)
        return frame

    a, b, c = 1e16, 1.0, 1.0  # (a + b) + c == a, a + (b + c) == a + 2
    parts = [part([(cells, 3, a)]), part([(other, 1, 5.0), (cells, 3, b)]), part([(cells, 3, c)])]
    got = _total(parts)
    assert list(got["department"]) == ["A", "B"]
    assert got["wait_sum"].tolist() == [(a + b) + c, 5.0]
    assert got["wait_sum"].iloc[0] != a + (b + c)
    assert got["received"].tolist() == [3, 1]
    _same_bits(got, _chained(parts))


def test_pack_keeps_the_order():
    rng = np.random.default_rng(1)
    n = 5000
    cell = rng.integers(0, 40, n)
    day = np.where(rng.random(n) < 0.1, NO_DAY, rng.integers(18_000, 20_000, n))
    lag = rng.integers(-3, 400, n)
    kind = rng.integers(0, 15, n)
    packed = daily_total._pack(cell, day, lag, kind)
    assert packed is not None
    assert (np.argsort(packed, kind="stable") == np.lexsort((kind, lag, day, cell))).all()
    # Too wide for 63 bits: no packing, the caller sorts on four keys.
    assert daily_total._pack(np.array([0, 2**40]), np.array([0, 2**20]), np.array([0, 2**10]),
                             np.array([0, 1])) is None


def test_counts_past_int32_held_wide(monkeypatch):
    """Counts are held as int32 while every sum is sure to fit; past that (here a bound of 5,
    so from the first batch on), as int64: the same table."""
    monkeypatch.setattr(daily_total, "_INT32_MAX", 5)
    data = random_data(7)
    parts = _parts(data.dossiers, data.procedures, data.feedback, 50)
    total = DailyTotal()
    for part in parts:
        total.add(part)
    assert total.measures["received"].dtype == np.int64
    _same_bits(total.frame(), _chained(parts))


@pytest.mark.parametrize("rows", [0, 1, 600])
def test_build_part_is_the_built_frame_compacted(rows):
    """daily_total.build_part (the ingest's path) gives the Part that compact() makes of
    build_daily's frame: the same cells, rows, measures and dtypes; and both add up alike."""
    data = random_data(11)
    dossiers = data.dossiers.iloc[:rows]
    ours = daily_total.build_part(dossiers, data.procedures, data.feedback)
    theirs = daily_total.compact(build_daily(dossiers, data.procedures, data.feedback))
    pd.testing.assert_frame_equal(ours.cells, theirs.cells, check_exact=True)
    pd.testing.assert_frame_equal(ours.template, theirs.template)
    for name in ("cell", "day", "lag", "kind"):
        assert getattr(ours, name).dtype == getattr(theirs, name).dtype
        assert (getattr(ours, name) == getattr(theirs, name)).all()
    for name, values in theirs.measures.items():
        assert ours.measures[name].dtype == values.dtype
        assert (ours.measures[name].view(np.uint8) == values.view(np.uint8)).all()
