"""Bounded-memory ingest (issue 16, item 1): the rows read, validated, de-duplicated and written
a few at a time give exactly the outputs of one batch, byte for byte, every file: on the sample,
and on a small built case with duplicates within a file (across its batches) and across files,
rejects (validation and catalogue), a Windows-1258 file, a file that must be read whole part way
through its stream, and a changed and a removed file on the incremental path. The built case's
rows, accounting and rejects are also checked against values worked out by hand below."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cchc_lib.ingest import chunks as ingest_chunks
from cchc_lib.ingest import read_batches
from cchc_lib.ingest.run import IngestError, run_ingest
from cchc_lib.mapping import load_mapping
from cchc_lib.readers import read_input
from tests.ingest_helpers import csv_text, dossier_rows, make_raw, stream_in_small_blocks, to_cp1258

RAW = Path(__file__).resolve().parent.parent / "data" / "raw"
ONE_BATCH = 10_000_000  # more rows than any input here: every file one batch, every merge in pandas


def _outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())
            if p.is_file() and not p.name.startswith(".")}


def _assert_same(got: dict[str, bytes], expected: dict[str, bytes]) -> None:
    assert sorted(got) == sorted(expected)
    for name in expected:
        assert got[name] == expected[name], f"{name} differs"


def _ingest(raw: Path, out: Path, batch_rows: int, monkeypatch, cache: bool = False) -> dict[str, bytes]:
    monkeypatch.setenv("CCHC_INGEST_CACHE", "1" if cache else "0")
    run_ingest(raw, out, batch_rows=batch_rows)
    assert not any(p.name.startswith(".ingest-work.") for p in out.iterdir())  # work folder gone
    return _outputs(out)


def test_sample_in_small_batches_is_byte_identical(tmp_path, monkeypatch):
    if not any(RAW.glob("dossiers/*")):
        pytest.skip("data/raw has no sample dossiers yet")
    # 97 rows: every dossier file in several batches, every table merged by DuckDB over its chunks.
    small = _ingest(RAW, tmp_path / "small", 97, monkeypatch)
    whole = _ingest(RAW, tmp_path / "whole", ONE_BATCH, monkeypatch)
    _assert_same(small, whole)
    assert {"dossiers.parquet", "daily.parquet", "rejects.csv", "ingest_report.json"} <= set(whole)


# -- a small built case ---------------------------------------------------------------------------

DONE = {"Ngày có kết quả": "17/01/2023 10:00", "Trạng thái": "Đã trả kết quả"}


def _row(dossier_id: str, **over: str) -> dict[str, str]:
    return {"Mã hồ sơ": dossier_id, **over}


def _built_raw(root: Path) -> Path:
    """a.csv, 16 rows (file rows 2-17): HS-1, HS-2, HS-3 (superseded by a.csv row 16 three
    batches later), HS-4 with an impossible date (rejected), HS-5 without a code (resolved by
    its name; superseded by b.csv), HS-6 with an unknown name and no code (rejected by the
    catalogue), HS-7..HS-14, HS-3 again, HS-15. b.csv, 11 rows: HS-2 and HS-5 again, HS-16,
    HS-17 with an unknown channel (rejected), HS-18..HS-24. c.csv (Windows-1258): HS-1 again,
    HS-25. The catalogue lists 1.001 for 2022 twice (the second wins)."""
    a = [_row("HS-1"), _row("HS-2"), _row("HS-3"), _row("HS-4", **{"Ngày tiếp nhận": "31/02/2023"}),
         _row("HS-5", **{"Mã TTHC": ""}), _row("HS-6", **{"Mã TTHC": "", "Tên TTHC": "Thủ tục không có"}),
         *(_row(f"HS-{i}") for i in range(7, 15)), _row("HS-3", **DONE), _row("HS-15")]
    b = [_row("HS-2", **DONE), _row("HS-16"), _row("HS-5", **DONE), _row("HS-17", **{"Kênh nộp": "Fax"}),
         *(_row(f"HS-{i}") for i in range(18, 25))]
    c = [_row("HS-1", **DONE), _row("HS-25", **{"Tên TTHC": "Đăng ký doanh nghiệp"})]
    procedures = (
        "Mã TTHC,Tên TTHC,Lĩnh vực,Mức độ DVC,Thanh toán trực tuyến,Thời hạn giải quyết (ngày làm việc),Năm\n"
        "1.001,Đăng ký doanh nghiệp,Thành lập và hoạt động của doanh nghiệp,Một phần,Có,3,2022\n"
        "1.001,Đăng ký doanh nghiệp,Thành lập và hoạt động của doanh nghiệp,Toàn trình,Có,3,2023\n"
        "1.001,Đăng ký doanh nghiệp,Thành lập và hoạt động của doanh nghiệp,Một phần,Không,3,2022\n"
    )
    raw = make_raw(root, {"a.csv": csv_text(dossier_rows(*a)), "b.csv": csv_text(dossier_rows(*b)),
                          "c.csv": to_cp1258(csv_text(dossier_rows(*c)))}, procedures)
    (raw / "feedback").mkdir()
    (raw / "feedback" / "pakn.csv").write_text(
        "Mã PAKN,Mã hồ sơ,Ngày tiếp nhận,Hạn xử lý,Ngày xử lý xong,Đối tượng,Đánh giá,Người gửi\n"
        "PA-1,HS-7,02/02/2023,12/02/2023,10/02/2023 10:00,TTHC,Hài lòng,Ẩn Danh Riêng\n"
        "PA-2,HS-8,02/02/2023,12/02/2023,,TTHC,,Ẩn Danh Riêng\n"
        "PA-1,HS-9,03/02/2023,12/02/2023,,TTHC,,Ẩn Danh Riêng\n",
        encoding="utf-8")
    return raw


def test_built_case_in_batches_of_seven_by_hand(tmp_path, monkeypatch):
    raw = _built_raw(tmp_path / "raw")
    small = _ingest(raw, tmp_path / "small", 7, monkeypatch)
    whole = _ingest(raw, tmp_path / "whole", ONE_BATCH, monkeypatch)
    _assert_same(small, whole)

    dossiers = pd.read_parquet(tmp_path / "small" / "dossiers.parquet")
    kept_a = [f"HS-{i}" for i in range(7, 15)] + ["HS-3", "HS-15"]
    kept_b = ["HS-2", "HS-16", "HS-5"] + [f"HS-{i}" for i in range(18, 25)]
    assert dossiers["dossier_id"].tolist() == kept_a + kept_b + ["HS-1", "HS-25"]
    assert dossiers["source_row"].tolist() == [*range(8, 18), 2, 3, 4, *range(6, 13), 2, 3]
    assert dossiers["source_file"].tolist() == (["dossiers/a.csv"] * 10 + ["dossiers/b.csv"] * 10
                                                + ["dossiers/c.csv"] * 2)
    # The last occurrence won: HS-3 from a.csv row 16, HS-2 and HS-5 from b.csv, HS-1 from c.csv.
    done = dossiers.set_index("dossier_id")["status"]
    assert all(done[i] == "returned" for i in ("HS-1", "HS-2", "HS-3", "HS-5"))
    assert done["HS-7"] == "processing"
    assert dossiers.set_index("dossier_id")["procedure_code"]["HS-5"] == "1.001"

    report = json.loads((tmp_path / "small" / "ingest_report.json").read_text(encoding="utf-8"))
    per_file = {r["file"]: (r["rows_read"], r["rows_accepted"], r["rows_rejected"], r["duplicates_merged"])
                for r in report["files"]}
    assert per_file["dossiers/a.csv"] == (16, 10, 2, 4)  # HS-1, HS-2, HS-3 (row 4), HS-5 merged
    assert per_file["dossiers/b.csv"] == (11, 10, 1, 0)
    assert per_file["dossiers/c.csv"] == (2, 2, 0, 0)
    assert per_file["procedures.csv"] == (3, 2, 0, 1)
    assert per_file["feedback/pakn.csv"] == (3, 2, 0, 1)
    assert report["tables"]["dossiers"]["rows_out"] == 22
    assert report["coverage"]["dossiers"] == 22

    rejects = pd.read_csv(tmp_path / "small" / "rejects.csv", encoding="utf-8-sig")
    # Validation rejects first (files in order), then the catalogue's, as before.
    assert list(zip(rejects["source_file"], rejects["source_row"], strict=True)) == [
        ("dossiers/a.csv", 5), ("dossiers/b.csv", 5), ("dossiers/a.csv", 7)]
    assert rejects["dossier_id"].tolist() == ["HS-4", "HS-17", "HS-6"]
    # Procedures: 1.001 for 2022 from the third line (the later one), not the second.
    procedures = pd.read_parquet(tmp_path / "small" / "procedures.parquet")
    assert procedures["online_payment"].tolist() == [True, False]


@pytest.fixture
def small_blocks(monkeypatch):
    """A small file streamed in many blocks; the files read whole after the stream failed part
    way are recorded."""
    return stream_in_small_blocks(monkeypatch)


def _sixty_rows(prefix: str) -> list[str]:
    return csv_text(dossier_rows(*(_row(f"{prefix}-{i}") for i in range(1, 60)))).split("\r\n")


def test_a_stream_read_whole_part_way(tmp_path, monkeypatch, small_blocks):
    """An export whose row 31 has a cell too many fails the streamed fast path part way and is
    read whole on the slow path, as before: the outputs of the one-batch run, the row rejected."""
    ragged = _sixty_rows("HB")
    ragged[30] += ",thừa"
    raw = make_raw(tmp_path / "raw", {"a.csv": "\r\n".join(_sixty_rows("HS")),
                                      "b.csv": "\r\n".join(ragged)})
    small = _ingest(raw, tmp_path / "small", 7, monkeypatch)
    assert small_blocks == ["b.csv"]
    whole = _ingest(raw, tmp_path / "whole", ONE_BATCH, monkeypatch)
    _assert_same(small, whole)
    rejects = pd.read_csv(tmp_path / "small" / "rejects.csv", encoding="utf-8-sig")
    assert rejects["source_file"].tolist() == ["dossiers/b.csv"] and rejects["source_row"].tolist() == [31]
    assert "lệch cột" in rejects["reason"].iloc[0]
    dossiers = pd.read_parquet(tmp_path / "small" / "dossiers.parquet")
    assert dossiers["source_file"].value_counts().to_dict() == {"dossiers/a.csv": 59, "dossiers/b.csv": 58}


def test_a_windows_1258_row_deep_in_a_utf8_file(tmp_path, monkeypatch, small_blocks):
    """UTF-8 with one row in Windows-1258 far from the head: read whole after the stream failed,
    which (as before) cannot decode it either way, so the run stops naming the file, at any
    batch size, with the earlier outputs untouched and no work folder left."""
    lines = _sixty_rows("HS")
    mixed = ("\r\n".join(lines[:40]).encode("utf-8") + b"\r\n" + to_cp1258(lines[40]) + b"\r\n"
             + "\r\n".join(lines[41:]).encode("utf-8"))
    raw = make_raw(tmp_path / "raw", {"a.csv": "\r\n".join(lines)})
    out = tmp_path / "out"
    before = _ingest(raw, out, 7, monkeypatch)
    (raw / "dossiers" / "b.csv").write_bytes(mixed)
    messages = []
    for batch_rows in (7, ONE_BATCH):
        with pytest.raises(IngestError) as caught:
            run_ingest(raw, out, batch_rows=batch_rows)
        messages.append(str(caught.value))
        assert _outputs(out) == before
        assert not any(p.name.startswith(".ingest-work.") for p in out.iterdir())
    assert messages[0] == messages[1] and "dossiers/b.csv" in messages[0]
    assert small_blocks == ["b.csv", "b.csv"]


def test_incremental_in_small_batches_after_a_change_and_a_removal(tmp_path, monkeypatch):
    raw = _built_raw(tmp_path / "raw")
    out = tmp_path / "processed"
    _ingest(raw, out, 7, monkeypatch, cache=True)
    # b.csv corrected (HS-2 row dropped: a.csv's HS-2 stands again), c.csv removed (HS-1 from a.csv).
    b_rows = [_row("HS-16"), _row("HS-5", **DONE), _row("HS-17", **{"Kênh nộp": "Fax"}),
              *(_row(f"HS-{i}") for i in range(18, 25))]
    (raw / "dossiers" / "b.csv").write_text(csv_text(dossier_rows(*b_rows)), encoding="utf-8")
    (raw / "dossiers" / "c.csv").unlink()
    monkeypatch.setenv("CCHC_INGEST_CACHE", "1")
    result = run_ingest(raw, out, batch_rows=7)
    assert result.cache_misses == 1 and result.cache_hits == 3  # b.csv read again; a, procedures, pakn
    got = _outputs(out)
    full = _ingest(raw, tmp_path / "full", ONE_BATCH, monkeypatch)
    _assert_same(got, full)
    dossiers = pd.read_parquet(out / "dossiers.parquet")
    assert not dossiers["source_file"].eq("dossiers/c.csv").any()
    first = dossiers.set_index("dossier_id")
    assert first.loc["HS-1", "source_file"] == "dossiers/a.csv"
    assert first.loc["HS-1", "status"] == "processing"
    assert first.loc["HS-2", "source_file"] == "dossiers/a.csv"
    # The cache holds one entry per raw file present (a, b, procedures, pakn).
    assert len([p for p in (out / ".ingest-cache").iterdir() if p.is_dir()]) == 4
    shutil.rmtree(tmp_path / "full")


def test_batch_rows_from_the_environment(tmp_path, monkeypatch):
    raw = _built_raw(tmp_path / "raw")
    monkeypatch.setenv("CCHC_INGEST_BATCH_ROWS", "5")
    seen: list[int] = []
    real = ingest_chunks.validate

    def spy(raw_table, mapping):
        seen.append(len(raw_table))
        return real(raw_table, mapping)

    monkeypatch.setattr(ingest_chunks, "validate", spy)
    monkeypatch.setenv("CCHC_INGEST_CACHE", "0")
    monkeypatch.setenv("CCHC_INGEST_WORKERS", "1")  # the spy sees this process's batches only
    run_ingest(raw, tmp_path / "out")
    # a.csv 16 rows, b.csv 11, c.csv 2, procedures 3, pakn 3: batches of at most 5 rows.
    assert sorted(seen, reverse=True)[:1] == [5] and len(seen) == 4 + 3 + 1 + 1 + 1


def test_row_groups_are_those_of_one_write(tmp_path, monkeypatch):
    """Frames of 7 rows added to the writer give the bytes of one pyarrow write of the whole
    frame, row groups included (the group size made 1,000 here so that there are several), and
    an empty table the one empty group pyarrow writes."""
    if not any(RAW.glob("dossiers/*")):
        pytest.skip("data/raw has no sample dossiers yet")
    monkeypatch.setattr(ingest_chunks, "ROW_GROUP_ROWS", 1000)
    out = tmp_path / "out"
    _ingest(RAW, out, ONE_BATCH, monkeypatch)
    frame = pd.read_parquet(out / "dossiers.parquet").iloc[:3456]
    for rows in (frame, frame.iloc[0:0]):
        expected = tmp_path / "one.parquet"
        pq.write_table(pa.Table.from_pandas(rows, preserve_index=False), expected, compression="snappy",
                       row_group_size=1000)
        writer = ingest_chunks.RowGroupWriter(tmp_path / "batches.parquet")
        for start in range(0, max(len(rows), 1), 7):
            writer.add(rows.iloc[start:start + 7])
        writer.close()
        assert (tmp_path / "batches.parquet").read_bytes() == expected.read_bytes()
        groups = pq.ParquetFile(expected).metadata.num_row_groups
        assert groups == (4 if len(rows) else 1)  # 3,456 rows: 1,000 + 1,000 + 1,000 + 456


@pytest.mark.parametrize("layout", ["title and blank line above the header", "blank lines between rows",
                                    "trailing blank lines", "LF line ends", "a quoted line break"])
def test_streamed_layouts_read_as_the_whole_file(tmp_path, layout):
    """Layouts the old fast path sent to the slow reader (blank lines) or kept on it: streamed in
    batches of 2 rows, the same text and the same spreadsheet row numbers as the whole read."""
    second = {"Tên TTHC": "Đăng ký\r\ndoanh nghiệp"} if layout == "a quoted line break" else {}
    body = csv_text(dossier_rows({}, second, {}, {}, {}))
    text = {
        "title and blank line above the header": "BÁO CÁO HỒ SƠ\r\n\r\n" + body,
        "blank lines between rows": body.replace("\r\n", "\r\n\r\n", 3),
        "trailing blank lines": body + "\r\n\r\n",
        "LF line ends": body.replace("\r\n", "\n"),
        "a quoted line break": body,
    }[layout]
    raw = make_raw(tmp_path / "raw", {"a.csv": text})
    path = raw / "dossiers" / "a.csv"
    mapping = load_mapping(None)
    whole = read_input(path, raw, "dossiers", mapping)
    assert read_batches._open_stream(path, raw, "dossiers", mapping) is not None  # streamed
    batches = list(read_batches.read_batches(path, raw, "dossiers", mapping, 2))
    assert pa.concat_tables([b.data for b in batches]).equals(whole.data)
    assert [int(r) for b in batches for r in b.rows] == whole.rows.tolist()
    assert len(whole) == 5


@pytest.mark.parametrize("value", ["abc", "0", "-5"])
def test_a_bad_batch_size_is_a_clear_error(tmp_path, monkeypatch, value):
    raw = make_raw(tmp_path / "raw", {"a.csv": csv_text(dossier_rows({}))})
    monkeypatch.setenv("CCHC_INGEST_BATCH_ROWS", value)
    with pytest.raises(IngestError, match="CCHC_INGEST_BATCH_ROWS"):
        run_ingest(raw, tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
