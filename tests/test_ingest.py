"""Ingest end to end: reject rules, duplicates, accounting, personal data, CLI errors,
atomicity and idempotence. Expected values are worked out by hand for each small file."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pandas as pd
import pytest

from cchc_lib.cli import main
from cchc_lib.ingest import run as ingest
from cchc_lib.ingest.run import IngestError, format_summary, run_ingest
from tests.ingest_helpers import DOSSIER_HEADERS, csv_text, dossier_rows, make_raw

EXAMPLE = Path("/work/shared/spec/examples/dossiers-example.csv")
EOD = pd.Timedelta(hours=23, minutes=59, seconds=59, microseconds=999999)


def _outputs(out: Path) -> dict[str, bytes]:
    """The processed set as readers see it (the stable names; generations.py keeps the
    generation folders under the hidden .generations; a link to a file the current generation
    lacks reads as absent, as readers see it)."""
    return {
        p.name: p.read_bytes() for p in sorted(out.iterdir()) if not p.name.startswith(".") and p.exists()
    }


def _leftovers(out: Path) -> list[str]:
    """Temporaries or unused generations left in the output folder."""
    # .ingest-cache is not a leftover: what each raw file produced, kept for the next run.
    hidden = [p.name for p in out.iterdir()
              if p.name.startswith(".") and p.name not in (".generations", ".ingest-cache")]
    gens = out / ".generations"
    if gens.is_dir():
        current = os.readlink(gens / "current")
        hidden += [p.name for p in gens.iterdir()
                   if p.name not in ("current", ".lock", current) and not p.name.isdigit()]
        assert len([p for p in gens.iterdir() if p.name.isdigit()]) <= 2  # current + previous
    return hidden


def test_example_file(tmp_path):
    raw = make_raw(tmp_path / "raw", {})
    shutil.copy(EXAMPLE, raw / "dossiers" / EXAMPLE.name)
    result = run_ingest(raw, tmp_path / "out")
    d = pd.read_parquet(tmp_path / "out" / "dossiers.parquet")
    assert d["dossier_id"].tolist() == [
        "000.00.16.H60-230306-0001",
        "000.00.16.H60-230306-0002",
        "000.00.16.H60-230307-0003",
    ]
    # Row 2 of the data (file row 3): date-only due 27/03 -> end of day; completed the next morning.
    late = d.iloc[1]
    assert late["due_at"] == pd.Timestamp("2023-03-27") + EOD
    assert late["completed_at"] == pd.Timestamp("2023-03-28 08:15")
    assert bool(late["apology_issued"]) is True
    assert late["channel"] == "in_person" and late["status"] == "resolved" and late["wait_minutes"] == 18
    pending = d.iloc[2]
    assert pd.isna(pending["completed_at"]) and pending["status"] == "processing"
    assert pending["channel"] == "postal"
    assert d["digitized"].tolist() == [True, True, True]  # Có, Có, x
    assert d["synced_national"].tolist() == [True, True, True]  # Có, Có, 1
    assert d["paid_online"].tolist() == [False, False, False]  # Không, Không, empty
    assert d["reused_digitized_data"].isna().all()  # column absent: unknown
    assert d["source_row"].tolist() == [2, 3, 4]
    assert result.report["total"]["rows_read"] == 5


REJECT_CASES = [
    ({"Mã hồ sơ": ""}, "dossier_id", "Mã hồ sơ trống"),
    ({"Ngày tiếp nhận": "abc"}, "received_at", "Ngày tiếp nhận: không đọc được ngày 'abc'"),
    (
        {"Ngày tiếp nhận": "15/01/2023", "Ngày hẹn trả": "12/01/2023"},
        "due_at",
        "Ngày hẹn trả (12/01/2023) trước Ngày tiếp nhận (15/01/2023)",
    ),
    ({"Kênh nộp": "Fax"}, "channel", "Kênh nộp: giá trị không hợp lệ 'Fax'"),
    ({"Trạng thái": "Xong"}, "status", "Trạng thái: giá trị không hợp lệ 'Xong'"),
    ({"Đánh giá": "Tạm được"}, "rating", "Đánh giá: giá trị không hợp lệ 'Tạm được'"),
    ({"Số hóa hồ sơ": "Có lẽ"}, "digitized", "Số hóa hồ sơ: giá trị không hợp lệ 'Có lẽ'"),
    ({"Thời gian chờ (phút)": "-5"}, "wait_minutes", "Thời gian chờ (phút): giá trị âm '-5'"),
    ({"Thời gian chờ (phút)": "mười"}, "wait_minutes", "Thời gian chờ (phút): không phải số 'mười'"),
    (
        {"Ngày có kết quả": "14/01/2023 10:00"},
        "completed_at",
        "Ngày có kết quả (14/01/2023 10:00) trước Ngày tiếp nhận (15/01/2023 08:00)",
    ),
    ({"Ngày hẹn trả": ""}, "due_at", "Ngày hẹn trả trống"),
    (
        {"Kênh nộp": "Fax", "Ngày hẹn trả": "14/01/2023 09:00"},
        "channel; due_at",
        "Kênh nộp: giá trị không hợp lệ 'Fax'; Ngày hẹn trả (14/01/2023 09:00) trước Ngày tiếp nhận "
        "(15/01/2023 08:00)",
    ),
]


def test_every_reject_rule(tmp_path):
    overrides = (
        [{}]
        + [case[0] for case in REJECT_CASES]
        + [
            # Valid: a date-only due on the day of receipt is the end of that day.
            {"Ngày tiếp nhận": "15/01/2023 16:00", "Ngày hẹn trả": "15/01/2023"},
            {"Thời gian chờ (phút)": "12,5"},
            # Valid: completed "15/01/2023" (no time) on the day it was received at 16:00.
            {"Ngày tiếp nhận": "15/01/2023 16:00", "Ngày có kết quả": "15/01/2023",
             "Trạng thái": "Đã có kết quả"},
        ]
    )
    raw = make_raw(tmp_path / "raw", {"a.csv": csv_text(dossier_rows(*overrides))})
    result = run_ingest(raw, tmp_path / "out")
    rejects = pd.read_csv(
        tmp_path / "out" / "rejects.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False
    )
    assert list(rejects.columns) == ["source_file", "source_row", "table", "dossier_id", "column", "reason"]
    # File row 2 is the valid first row; case i sits in row i + 3.
    assert rejects["source_row"].tolist() == [str(i + 3) for i in range(len(REJECT_CASES))]
    assert rejects["reason"].tolist() == [c[2] for c in REJECT_CASES]
    assert rejects["column"].tolist() == [c[1] for c in REJECT_CASES]
    assert set(rejects["source_file"]) == {"dossiers/a.csv"}
    assert rejects["dossier_id"].tolist()[:2] == ["", "HS-3"]
    d = pd.read_parquet(tmp_path / "out" / "dossiers.parquet")
    n = len(REJECT_CASES)
    assert sorted(d["dossier_id"]) == sorted(["HS-1", f"HS-{n + 2}", f"HS-{n + 3}", f"HS-{n + 4}"])
    # ... taken as done at the moment of receipt, not at midnight before it.
    assert d.set_index("dossier_id").loc[f"HS-{n + 4}", "completed_at"] == pd.Timestamp("2023-01-15 16:00")
    same_day = d.set_index("dossier_id").loc[f"HS-{n + 2}"]
    assert same_day["due_at"] == pd.Timestamp("2023-01-15") + EOD
    assert d.set_index("dossier_id").loc[f"HS-{n + 3}", "wait_minutes"] == 12.5
    total = result.report["total"]
    assert (total["rows_read"], total["rows_rejected"]) == (n + 4 + 2, n)  # 2 catalogue rows
    assert result.report["reject_reasons"]["Kênh nộp: giá trị không hợp lệ 'Fax'"] == 2


def test_duplicates_last_wins_and_accounting(tmp_path):
    a = csv_text(dossier_rows({"Mã hồ sơ": "D1"}, {"Mã hồ sơ": "D2"}))
    b = csv_text(
        dossier_rows(
            {"Mã hồ sơ": "D1", "Trạng thái": "Đã có kết quả", "Ngày có kết quả": "16/01/2023 09:00"},
            {"Mã hồ sơ": "D2", "Kênh nộp": "Fax"},  # rejected: does not supersede D2 of a.csv
            {"Mã hồ sơ": "D3"},
        )
    )
    c = csv_text(dossier_rows({"Mã hồ sơ": "D1", "Trạng thái": "Đã trả kết quả"}))
    raw = make_raw(tmp_path / "raw", {"b.csv": b, "a.csv": a, "c.csv": c})
    result = run_ingest(raw, tmp_path / "out")
    d = pd.read_parquet(tmp_path / "out" / "dossiers.parquet").set_index("dossier_id")
    assert sorted(d.index) == ["D1", "D2", "D3"]
    assert d.loc["D1", "status"] == "returned" and d.loc["D1", "source_file"] == "dossiers/c.csv"
    assert d.loc["D2", "source_file"] == "dossiers/a.csv"
    files = {f["file"]: f for f in result.report["files"]}
    assert [files[f"dossiers/{n}.csv"]["rows_read"] for n in "abc"] == [2, 3, 1]
    assert [files[f"dossiers/{n}.csv"]["rows_accepted"] for n in "abc"] == [1, 1, 1]
    assert [files[f"dossiers/{n}.csv"]["rows_rejected"] for n in "abc"] == [0, 1, 0]
    assert [files[f"dossiers/{n}.csv"]["duplicates_merged"] for n in "abc"] == [1, 1, 0]
    for counts in [*result.report["files"], result.report["total"], *result.report["tables"].values()]:
        assert (
            counts["rows_read"]
            == counts["rows_accepted"] + counts["rows_rejected"] + counts["duplicates_merged"]
        )
    assert result.report["tables"]["dossiers"]["duplicates_merged"] == 2
    assert result.report["coverage"] == {
        "dossiers": 3,
        "received_from": "2023-01-15",
        "received_to": "2023-01-15",
        "not_received": 0,
    }
    summary = format_summary(result)
    assert "Gộp trùng" in summary and "Kênh nộp: giá trị không hợp lệ 'Fax'" in summary


def test_service_level_falls_back_to_catalogue(tmp_path):
    rows = dossier_rows(
        {"Mức độ DVC": "", "Ngày tiếp nhận": "10/06/2022 08:00", "Ngày hẹn trả": "15/06/2022"},
        {"Mức độ DVC": "", "Ngày tiếp nhận": "10/06/2024 08:00", "Ngày hẹn trả": "15/06/2024"},
        {"Mức độ DVC": "", "Mã TTHC": "9.999"},
        {"Mức độ DVC": "Mức độ 3"},
    )
    raw = make_raw(tmp_path / "raw", {"a.csv": csv_text(rows)})
    run_ingest(raw, tmp_path / "out")
    d = pd.read_parquet(tmp_path / "out" / "dossiers.parquet").set_index("dossier_id")
    assert d.loc["HS-1", "service_level"] == "partial"  # 2022 catalogue row
    assert d.loc["HS-2", "service_level"] == "full"  # no 2024 row: the closest year, 2023
    assert pd.isna(d.loc["HS-3", "service_level"])  # not in the catalogue
    assert d.loc["HS-4", "service_level"] == "partial"  # legacy level 3


def test_personal_data_reaches_no_output(tmp_path):
    planted = {
        "Chủ hồ sơ": "Phạm Thị Riêng Tư",
        "Số CCCD/CMND": "079123456789",
        "Số điện thoại": "0987654321",
    }
    rows = dossier_rows(planted, {**planted, "Kênh nộp": "Fax"}, {**planted, "Mã hồ sơ": ""})
    raw = make_raw(tmp_path / "raw", {"a.csv": csv_text(rows)})
    run_ingest(raw, tmp_path / "out")
    for path in (tmp_path / "out").rglob("*"):
        if path.is_dir():
            continue
        blobs = [path.read_bytes().decode("utf-8", "replace")]
        if path.suffix == ".parquet":
            blobs.append(pd.read_parquet(path).to_csv())
        for value in planted.values():
            assert all(value not in blob for blob in blobs), (path.name, value)


def test_missing_column_exits_nonzero_and_leaves_outputs(tmp_path, capsys):
    raw = make_raw(tmp_path / "raw", {"a.csv": csv_text(dossier_rows({}))})
    out = tmp_path / "out"
    assert main(["ingest", "--raw", str(raw), "--out", str(out)]) == 0
    before = _outputs(out)
    bad = dossier_rows({})
    bad = [[cell for h, cell in zip(bad[0], row, strict=True) if h != "Trạng thái"] for row in bad]
    (raw / "dossiers" / "b.csv").write_text(csv_text(bad), encoding="utf-8")
    capsys.readouterr()
    assert main(["ingest", "--raw", str(raw), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Lỗi nhập dữ liệu:") and "dossiers/b.csv" in err and "Trạng thái" in err
    assert _outputs(out) == before


def test_outputs_are_readable_like_any_new_file(tmp_path):
    """Temporary files from mkstemp are 0600; the outputs renamed from them must get 0666 minus
    the umask (0644 usually) so that colleagues and the report tools can read them."""
    mask = os.umask(0o027)
    try:
        raw = make_raw(tmp_path / "raw", {"a.csv": csv_text(dossier_rows({}))})
        run_ingest(raw, tmp_path / "out")
    finally:
        os.umask(mask)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "out").iterdir()
             if not p.name.startswith(".")}  # the stable names, i.e. the current generation's files
    assert "dossiers.parquet" in modes and "rejects.csv" in modes
    assert set(modes.values()) == {0o640}


def test_failure_mid_write_leaves_previous_outputs_whole(tmp_path, monkeypatch):
    raw = make_raw(tmp_path / "raw", {"a.csv": csv_text(dossier_rows({}))})
    out = tmp_path / "out"
    run_ingest(raw, out)
    before = _outputs(out)
    (raw / "dossiers" / "b.csv").write_text(csv_text(dossier_rows({}, {})), encoding="utf-8")
    calls: list[Path] = []

    def failing(real):
        # The second output written (tables are moved from the work folder, the rest written).
        def write(source, path):
            calls.append(path)
            if len(calls) == 2:
                raise OSError("đĩa đầy (giả lập)")
            real(source, path)
        return write

    monkeypatch.setattr(ingest, "_write_parquet", failing(ingest._write_parquet))
    monkeypatch.setattr(ingest, "_place_file", failing(ingest._place_file))
    with pytest.raises(IngestError):
        run_ingest(raw, out)
    assert _outputs(out) == before
    assert _leftovers(out) == []  # no temporary files left behind


def test_second_run_is_byte_identical_and_feedback_optional(tmp_path):
    raw = make_raw(tmp_path / "raw", {"a.csv": csv_text(dossier_rows({}, {"Kênh nộp": "Fax"}))})
    run_ingest(raw, tmp_path / "o1")
    assert not (tmp_path / "o1" / "feedback.parquet").exists()
    (raw / "feedback").mkdir()
    (raw / "feedback" / "pakn.csv").write_text(
        "Mã PAKN,Ngày tiếp nhận,Hạn xử lý,Ngày xử lý xong,Đối tượng,Đánh giá,Người gửi\n"
        "PA-1,02/02/2023,12/02/2023,10/02/2023 10:00,TTHC,Hài lòng,Ẩn Danh Riêng\n"
        "PA-2,02/02/2023,01/02/2023,,Cán bộ,,Ẩn Danh Riêng\n"
        "PA-3,02/02/2023,12/02/2023,,Khác,,Ẩn Danh Riêng\n",
        encoding="utf-8",
    )
    first = run_ingest(raw, tmp_path / "o1")
    run_ingest(raw, tmp_path / "o2")
    assert _outputs(tmp_path / "o1") == _outputs(tmp_path / "o2")
    fb = pd.read_parquet(tmp_path / "o1" / "feedback.parquet")
    assert fb["feedback_id"].tolist() == ["PA-1"] and fb["subject"].tolist() == ["procedure"]
    assert fb["due_at"].tolist() == [pd.Timestamp("2023-02-12") + EOD]
    reasons = [r for r in pd.read_csv(tmp_path / "o1" / "rejects.csv", encoding="utf-8-sig")["reason"]]
    assert "Hạn xử lý (01/02/2023) trước Ngày tiếp nhận (02/02/2023)" in reasons
    assert "Đối tượng: giá trị không hợp lệ 'Khác'" in reasons
    assert first.report["tables"]["feedback"]["rows_rejected"] == 2
    report = json.loads((tmp_path / "o1" / "ingest_report.json").read_text(encoding="utf-8"))
    assert report["total"]["rows_read"] == 2 + 2 + 3


def test_row_with_only_stt_or_personal_data_is_rejected_or_blank(tmp_path):
    import openpyxl

    rows = dossier_rows({"Mã hồ sơ": "D1"})
    stt_only = ["7"] + [""] * (len(DOSSIER_HEADERS) - 1)  # e.g. a numbered line left empty
    personal_only = [""] * len(DOSSIER_HEADERS)
    personal_only[DOSSIER_HEADERS.index("Chủ hồ sơ")] = "Trần Thị Chỉ Có Tên"
    blank = [""] * len(DOSSIER_HEADERS)
    rows += [stt_only, personal_only, blank]
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["BÁO CÁO DANH SÁCH HỒ SƠ"])  # a title row: the header is row 2 of the sheet
    for row in rows:
        ws.append([v if v != "" else None for v in row])
    xlsx = tmp_path / "b.xlsx"
    wb.save(xlsx)
    raw = make_raw(tmp_path / "raw", {"a.csv": csv_text(rows), "b.xlsx": xlsx.read_bytes()})
    result = run_ingest(raw, tmp_path / "out")
    rejects = pd.read_csv(
        tmp_path / "out" / "rejects.csv", encoding="utf-8-sig", dtype=str, keep_default_na=False
    )
    # CSV: header row 1, D1 row 2, the STT-only row 3 (rejected), personal-only row 4 and the
    # blank row 5 hold nothing that can be read: blank lines, not counted. XLSX: one row lower.
    assert rejects[["source_file", "source_row"]].values.tolist() == [
        ["dossiers/a.csv", "3"], ["dossiers/b.xlsx", "4"]
    ]
    assert all(r.startswith("Mã hồ sơ trống") for r in rejects["reason"])
    files = {f["file"]: f for f in result.report["files"]}
    # D1 in both files: the XLSX (later in name order) wins, the CSV's copy is merged.
    assert (files["dossiers/a.csv"]["rows_read"], files["dossiers/a.csv"]["rows_rejected"]) == (2, 1)
    assert (files["dossiers/b.xlsx"]["rows_read"], files["dossiers/b.xlsx"]["rows_rejected"]) == (2, 1)
    assert "Trần Thị Chỉ Có Tên" not in (tmp_path / "out" / "rejects.csv").read_text(encoding="utf-8-sig")
