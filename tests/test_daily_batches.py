"""The day-level aggregate built batch by batch and added (daily.build_daily_in_batches, as
ingest writes it) equals the one built in a single pass: every count exactly, the two float
sums to the last bits, on random data hitting every convention case and on the sample's
processed dossiers, for batch sizes that split cells, days and kinds across batches."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cchc_lib.daily import FLOAT_MEASURES, MEASURES, add_daily, build_daily, build_daily_in_batches
from cchc_lib.schema import conform
from tests.test_daily import random_data


def _same_aggregate(batched: pd.DataFrame, single: pd.DataFrame) -> None:
    assert list(batched.columns) == list(single.columns)
    assert batched.dtypes.to_dict() == single.dtypes.to_dict()
    exact = [c for c in single.columns if c not in FLOAT_MEASURES]
    pd.testing.assert_frame_equal(batched[exact], single[exact], check_exact=True)
    for name in FLOAT_MEASURES:
        np.testing.assert_allclose(batched[name].to_numpy(), single[name].to_numpy(), rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("batch_rows", [1, 7, 100, 599])
def test_batches_add_up_to_the_single_pass(batch_rows):
    data = random_data(3)
    single = build_daily(data.dossiers, data.procedures, data.feedback)
    batched = build_daily_in_batches(data.dossiers, data.procedures, data.feedback, batch_rows=batch_rows)
    _same_aggregate(batched, single)


def test_add_daily_by_hand():
    """Two batches sharing a cell and a (day, kind): the shared row is summed, a cell new in the
    second batch comes after the first batch's cells, rows ordered by day, lag, kind; rows that
    differ only in lag stay apart."""
    cells = {"department": "A", "field": "F", "procedure_code": "1.1", "channel": "online"}
    other = {"department": "B", "field": "F", "procedure_code": "1.1", "channel": None}

    def part(rows):
        frame = pd.DataFrame([{**c, "day": d, "lag": m.pop("lag", 0), "kind": k} for c, d, k, m in rows])
        frame = frame.astype({c: "string" for c in cells}).astype(
            {"day": np.int32, "lag": np.int32, "kind": np.int8})
        for name in MEASURES:
            frame[name] = np.array([m.get(name, 0) for *_, m in rows],
                                   dtype=np.float64 if name in FLOAT_MEASURES else np.int64)
        return frame

    first = part([(cells, 10, 0, {"received": 2, "wait_sum": 1.5}), (cells, 12, 0, {"received": 1})])
    second = part([(other, 5, 0, {"received": 4}), (cells, 10, 0, {"received": 3, "wait_sum": 2.0}),
                   (cells, 10, 2, {"resolved": 1}), (cells, 10, 2, {"resolved": 2, "lag": 3})])
    total = add_daily([first, second])
    got = [(r.department, r.day, r.lag, r.kind, r.received, r.resolved, r.wait_sum)
           for r in total.itertuples()]
    assert got == [("A", 10, 0, 0, 5, 0, 3.5), ("A", 10, 0, 2, 0, 1, 0.0), ("A", 10, 3, 2, 0, 2, 0.0),
                   ("A", 12, 0, 0, 1, 0, 0.0), ("B", 5, 0, 0, 4, 0, 0.0)]


@pytest.mark.parametrize("batch_rows", [997, 25_000])
def test_batches_on_the_sample(sample_processed_dir, batch_rows):
    dossiers = conform(pd.read_parquet(sample_processed_dir / "dossiers.parquet"), "dossiers")
    procedures = conform(pd.read_parquet(sample_processed_dir / "procedures.parquet"), "procedures")
    feedback = conform(pd.read_parquet(sample_processed_dir / "feedback.parquet"), "feedback")
    single = build_daily(dossiers, procedures, feedback)
    _same_aggregate(build_daily_in_batches(dossiers, procedures, feedback, batch_rows=batch_rows), single)
