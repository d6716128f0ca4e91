"""Reports built without reading every dossier (issue 16, item 3): the lazily read dossiers
give the very numbers the eagerly read ones gave, and the column/row reads are exact."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from cchc_lib import datacache, dossier_source, processed, projection
from cchc_lib.conventions import counted_dossiers
from cchc_lib.periods import Period
from cchc_lib.publish import index766_section, report
from cchc_lib.schema import conform

FIXED = pd.Timestamp("2024-01-15 09:30")


def _eager(processed_dir, conventions=None) -> processed.ProcessedData:
    """What load_processed returned before the dossiers were read lazily: every dossier in memory
    from the start, the aggregate marked as theirs."""
    lazy = processed.load_processed(processed_dir, conventions)
    frame = conform(pd.read_parquet(dossier_source.source_of(lazy).path), "dossiers")
    return replace(lazy, dossiers=frame, daily=lazy.daily, daily_of=frame)


def _everything(period: str, processed_dir, department: str | None):
    ctx = report.prepare_report(period, processed_dir, department)
    ctx = replace(ctx, generated_at=FIXED)
    p = Period.parse(period)
    out = {name: getattr(ctx, name) for name in ("indicators", "monthly", "by_department", "late",
                                                   "form06")}
    out.update({f"index_{k}": v for k, v in index766_section.index_frames(ctx.data, p, department).items()})
    out["year_end"] = projection.year_end(ctx.data, p.year, projection.period_as_of(p), department)
    out["header"] = report.header_markdown(ctx)
    out["summary"] = report.summary_markdown(ctx)
    return out, ctx


@pytest.mark.parametrize("period,department", [
    ("2023-03", None), ("2023-Q1", None), ("2023", None), ("2023-Q1", "Phòng Đăng ký kinh doanh"),
])
def test_lazy_report_equals_eager_report(sample_processed_dir, monkeypatch, period, department):
    datacache._loaded.clear()
    lazy, ctx = _everything(period, sample_processed_dir, department)
    # The report never read the whole dossier file, neither its own copy nor the shared one.
    assert dossier_source.is_lazy(ctx.data)
    assert all(dossier_source.is_lazy(data) for _, data in datacache._loaded.values())

    monkeypatch.setattr(report, "load_processed",
                        lambda folder, conventions=None: _eager(folder, conventions))
    eager, eager_ctx = _everything(period, sample_processed_dir, department)
    assert not dossier_source.is_lazy(eager_ctx.data)
    assert lazy.keys() == eager.keys()
    for name, value in eager.items():
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(lazy[name], value, obj=name)
        else:
            assert lazy[name] == value, name
    assert "Phòng" in lazy["header"] or department is None


def test_sample_feedback_is_attributed_without_the_dossiers(sample_processed_dir):
    """The index by department attributes PAKN through the dossiers they concern: read by id."""
    from cchc_lib.index766.counts import counts_from_data

    lazy = processed.load_processed(sample_processed_dir)
    assert lazy.feedback is not None and len(lazy.feedback)
    eager = _eager(sample_processed_dir)
    year = Period.parse("2023")
    got = counts_from_data(lazy, year, by="department")
    assert dossier_source.is_lazy(lazy)
    pd.testing.assert_frame_equal(got, counts_from_data(eager, year, by="department"))
    petitions = got[got["metric"] == "PETITION_PROCESSING_ON_TIME"]
    assert petitions["denominator"].fillna(0).sum() > 0  # the case is exercised


@pytest.fixture()
def small_file(tmp_path):
    """Five dossiers by hand: one received exactly at the cut (to the nanosecond), one a
    nanosecond after it, one without a received date, one never received."""
    cut = pd.Timestamp("2023-03-31 23:59:59.999999999")
    frame = conform(pd.DataFrame({
        "dossier_id": ["A", "B", "C", "D", "E"],
        "procedure_code": ["1", "1", "2", "2", "3"],
        "department": ["X", "X", "Y", "Y", "Z"],
        "status": ["completed", "completed", "processing", "not_received", "completed"],
        "received_at": [pd.Timestamp("2023-03-01 08:00"), cut + pd.Timedelta(1, "ns"), pd.NaT,
                        pd.Timestamp("2023-03-02"), cut],
        "channel": ["online", pd.NA, pd.NA, "direct", pd.NA],
    }), "dossiers")
    path = tmp_path / "dossiers.parquet"
    frame.to_parquet(path, index=False)
    return path, cut


def test_columns_rows_and_ids_read_alone(small_file):
    path, cut = small_file
    source = dossier_source.DossierFile(path)
    got = source.columns(["department", "dossier_id"], received_by=cut)
    assert list(got.columns) == ["dossier_id", "department"]  # schema order
    assert got["dossier_id"].tolist() == ["A", "D", "E"]  # B a nanosecond late, C undated
    assert source.columns(["department"], ids=["E", "C", "nope"])["department"].tolist() == ["Y", "Z"]
    assert not source.loaded
    # The same answers once the whole file is in memory.
    whole = source.frame()
    again = source.columns(["dossier_id", "department"], received_by=cut)
    assert again["dossier_id"].tolist() == ["A", "D", "E"]
    assert source.columns(["department"], ids=["E", "C"])["department"].tolist() == ["Y", "Z"]
    assert len(whole) == 5
    # A fork shares the read but not the frame's columns.
    fork = source.fork()
    fork.frame()["department"] = "changed"
    assert whole["department"].tolist() == ["X", "X", "Y", "Y", "Z"]


def test_counted_columns_and_has_values(small_file):
    path, _ = small_file
    lazy = processed.ProcessedData(dossier_source.DossierFile(path), conform(pd.DataFrame(), "procedures"),
                                    None, {})
    counted = dossier_source.counted_columns(lazy, ["channel"])
    # D is never received: left out, as counted_dossiers does on the whole frame.
    assert counted["channel"].isna().tolist() == [False, True, True, True]
    assert counted["channel"].iloc[0] == "online"
    whole = counted_dossiers(conform(pd.read_parquet(path), "dossiers"))
    np.testing.assert_array_equal(counted["due_at"].to_numpy(), whole["due_at"].to_numpy())
    # channel has values; rating none, so only an export recording the column makes it available.
    assert dossier_source.has_values(lazy, ["channel", "rating"], set()) == {"channel": True, "rating": False}
    assert dossier_source.has_values(lazy, ["rating"], {"rating"}) == {"rating": True}
    assert dossier_source.is_lazy(lazy)


def test_receipt_range_streamed_by_hand(small_file):
    """Four received (D never was; C has no date), first A, last B to the nanosecond, streamed
    in pyarrow and from the frame alike."""
    path, cut = small_file
    lazy = processed.ProcessedData(dossier_source.DossierFile(path), conform(pd.DataFrame(), "procedures"),
                                    None, {})
    expected = (4, pd.Timestamp("2023-03-01 08:00"), cut + pd.Timedelta(1, "ns"))
    assert dossier_source.receipt_range(lazy) == expected
    assert dossier_source.is_lazy(lazy)
    assert len(lazy.dossiers) == 5  # read whole: the pandas path from now on
    assert not dossier_source.is_lazy(lazy) and dossier_source.receipt_range(lazy) == expected
    frame = conform(pd.read_parquet(path), "dossiers")
    assert dossier_source.receipt_range(replace(lazy, dossiers=frame[frame["status"] == "not_received"])) == (
        0, None, None)


def test_names_and_inputs_in_pyarrow_equal_pandas(tmp_path):
    """Last name per code (a later empty name does not win) and counted inputs under both
    withdrawn rules, from the unread file and from the frame, worked out by hand."""
    frame = conform(pd.DataFrame({
        "dossier_id": ["A", "B", "C", "D"],
        "procedure_code": ["1", "1", "1", "2"],
        "procedure_name": ["old", "new", None, "two"],
        "status": ["completed", "completed", "withdrawn", "not_received"],
        "digitized": [None, None, True, True],
        "wait_minutes": [np.nan, np.nan, 5.0, np.nan],
    }), "dossiers")
    path = tmp_path / "dossiers.parquet"
    frame.to_parquet(path, index=False)
    from cchc_lib.conventions import as_conventions

    procedures = conform(pd.DataFrame(), "procedures")
    for withdrawn, expected in (("excluded", False), ("on_time", True)):
        conventions = as_conventions({"withdrawn": withdrawn})
        lazy = processed.ProcessedData(dossier_source.DossierFile(path), procedures, None, {}, conventions)
        eager = processed.ProcessedData(frame, procedures, None, {}, conventions)
        for data in (lazy, eager):
            # Only C (withdrawn) has digitized and wait_minutes among the counted dossiers.
            assert dossier_source.counted_has(data, ["digitized", "wait_minutes", "rating"]) == {
                "digitized": expected, "wait_minutes": expected, "rating": False}
            assert dossier_source.last_procedure_names(data) == {"1": "new", "2": "two"}
        assert dossier_source.is_lazy(lazy)
