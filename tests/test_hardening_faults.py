"""Faults (issue 11): the processed set killed at every rename (strace fault injection), outputs
that cannot be written, and the exit codes of the unattended run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cchc_lib.cli import main
from cchc_lib.ingest.run import run_ingest
from tests.ingest_helpers import csv_text, dossier_rows, make_raw
from tests.test_ingest import _leftovers, _outputs

STRACE = shutil.which("strace")
RENAMES = ("rename", "renameat", "renameat2")
FEEDBACK = (
    "Mã PAKN,Ngày tiếp nhận,Hạn xử lý,Ngày xử lý xong,Đối tượng,Đánh giá\n"
    "PA-1,02/02/2023,12/02/2023,10/02/2023 10:00,TTHC,Hài lòng\n"
)


def _ingest_cmd(raw: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "cchc_lib", "ingest", "--raw", str(raw), "--out", str(out)]


def _renames(raw: Path, out: Path, log: Path) -> tuple[str, int]:
    """(the rename syscall this platform's Python uses, how many a run makes)."""
    subprocess.run([STRACE, "-f", "-qq", "-o", str(log), "-e", f"trace={','.join(RENAMES)}",
                    *_ingest_cmd(raw, out)], check=True, capture_output=True)
    calls = re.findall(r"\b(rename|renameat|renameat2)\(", log.read_text())
    assert calls and len(set(calls)) == 1, calls
    return calls[0], len(calls)


def _kill_at(raw: Path, out: Path, syscall: str, k: int) -> int:
    done = subprocess.run(
        [STRACE, "-f", "-qq", "-o", os.devnull, "-e", f"trace={syscall}",
         "-e", f"inject={syscall}:signal=SIGKILL:when={k}", *_ingest_cmd(raw, out)],
        capture_output=True,
    )
    return done.returncode


def _flatten(out: Path, into: Path) -> Path:
    """The same set in the layout of earlier versions: plain files, no generations."""
    into.mkdir()
    for name, data in _outputs(out).items():
        (into / name).write_bytes(data)
    return into


@pytest.mark.skipif(STRACE is None, reason="strace is not installed (make test installs it)")
@pytest.mark.parametrize("layout", ["generations", "plain files of an earlier version"])
def test_ingest_killed_at_every_rename_leaves_one_whole_set(tmp_path, layout):
    raw = make_raw(tmp_path / "raw", {"a.csv": csv_text(dossier_rows({}, {"Kênh nộp": "Fax"}))})
    base = tmp_path / "base"
    run_ingest(raw, base)
    if layout != "generations":
        base = _flatten(base, tmp_path / "flat")
    old = _outputs(base)
    # The new input: one more dossier file and an optional input, so the set gains a file.
    (raw / "dossiers" / "b.csv").write_text(csv_text(dossier_rows({"Mã hồ sơ": "HS-9"})), encoding="utf-8")
    (raw / "feedback").mkdir()
    (raw / "feedback" / "pakn.csv").write_text(FEEDBACK, encoding="utf-8")
    run_ingest(raw, tmp_path / "reference")
    new = _outputs(tmp_path / "reference")
    assert set(new) - set(old) == {"feedback.parquet"}

    counting = tmp_path / "counting"
    shutil.copytree(base, counting, symlinks=True)
    _renames(raw, counting, tmp_path / "warm.log")  # a first run also writes bytecode caches
    shutil.rmtree(counting)
    shutil.copytree(base, counting, symlinks=True)
    syscall, total = _renames(raw, counting, tmp_path / "strace.log")
    assert _outputs(counting) == new
    assert total >= 2  # at least: the generation folder into place, the switch
    for k in range(1, total + 1):
        work = tmp_path / f"killed-at-{k}"
        shutil.copytree(base, work, symlinks=True)
        assert _kill_at(raw, work, syscall, k) in (-9, 128 + 9), k  # really killed there (SIGKILL)
        seen = _outputs(work)
        assert seen in (old, new), (k, sorted(seen))
        # The next run cleans what the killed one left and gives the new set.
        run_ingest(raw, work)
        assert _outputs(work) == new, k
        assert _leftovers(work) == [], k


def test_stale_temporaries_of_earlier_versions_are_removed(tmp_path):
    raw = make_raw(tmp_path / "raw", {"a.csv": csv_text(dossier_rows({}))})
    out = tmp_path / "out"
    out.mkdir()
    # What the per-file renames of earlier versions left when killed.
    (out / ".dossiers.parquet.k3j2h1.tmp").write_bytes(b"half")
    (out / ".rejects.csv.a1b2c3.tmp").write_bytes(b"half")
    run_ingest(raw, out)
    assert _leftovers(out) == []
    assert sorted(_outputs(out)) == ["daily.parquet", "dossiers.parquet", "ingest_report.json",
                                     "procedures.parquet", "rejects.csv"]


def test_readers_see_one_generation(tmp_path):
    """load_processed resolves the current generation once: every file comes from it."""
    from cchc_lib.generations import resolve
    from cchc_lib.processed import load_processed

    raw = make_raw(tmp_path / "raw", {"a.csv": csv_text(dossier_rows({}))})
    out = tmp_path / "out"
    run_ingest(raw, out)
    first = resolve(out)
    run_ingest(raw, out)
    second = resolve(out)
    assert first != second and first.parent == second.parent and second.name == "000002"
    assert len(load_processed(out).dossiers) == 1
    # The previous generation stays for a reader in the middle of a read; older ones go.
    run_ingest(raw, out)
    assert sorted(p.name for p in (out / ".generations").iterdir() if p.name.isdigit()) == [
        "000002", "000003"
    ]


def _empty_config(tmp_path: Path) -> Path:
    path = tmp_path / "cchc.toml"
    path.write_text("", encoding="utf-8")
    return path


# -- 8. outputs that cannot be written: one line, exit 6 -----------------------------------------


@pytest.fixture
def small_processed(tmp_path):
    raw = make_raw(tmp_path / "raw", {"a.csv": csv_text(dossier_rows({}, {}))})
    run_ingest(raw, tmp_path / "processed")
    return raw, tmp_path / "processed"


@pytest.fixture
def blocked(tmp_path) -> Path:
    """A file where a folder should be: unwritable even for root, on any file system."""
    path = tmp_path / "a-file"
    path.write_text("x", encoding="utf-8")
    return path


def _one_line_error(capsys, *names: str) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    for name in names:
        assert name in lines[0], (name, lines[0])
    return lines[0]


def test_form06_to_an_unwritable_place_exits_6(small_processed, blocked, capsys):
    _, processed = small_processed
    target = blocked / "bieu06.xlsx"
    capsys.readouterr()
    assert main(["form06", "--period", "2023-01", "--processed", str(processed), "--out", str(target)]) == 6
    assert _one_line_error(capsys, str(target)).startswith("Không ghi được")


def test_send_dry_run_to_an_unwritable_place_exits_6(small_processed, blocked, tmp_path, capsys):
    _, processed = small_processed
    report = tmp_path / "bao-cao-2023-01.html"
    report.write_text("<html></html>", encoding="utf-8")
    target = blocked / "thu.eml"
    capsys.readouterr()
    assert main(["send", str(report), "--to", "a@example.vn", "--processed", str(processed),
                 "--dry-run", str(target)]) == 6
    _one_line_error(capsys, str(target))


def test_report_to_an_unwritable_folder_exits_6(small_processed, blocked, capsys):
    _, processed = small_processed
    capsys.readouterr()
    assert main(["report", "--period", "2023-01", "--processed", str(processed),
                 "--out", str(blocked / "reports")]) == 6
    _one_line_error(capsys, str(blocked / "reports"))


def test_monthly_to_an_unwritable_folder_exits_6(small_processed, blocked, tmp_path, capsys):
    raw, processed = small_processed
    capsys.readouterr()
    code = main(["monthly", "--month", "2023-01", "--raw", str(raw), "--processed", str(processed),
                 "--out", str(blocked / "reports"), "--config", str(_empty_config(tmp_path))])
    assert code == 6  # not 1, which means "ingest failed"
    _one_line_error(capsys, str(blocked / "reports"))


def test_sample_to_an_unwritable_folder_exits_6(blocked, capsys):
    capsys.readouterr()
    assert main(["sample", "--out", str(blocked / "raw")]) == 6  # was a traceback
    assert _one_line_error(capsys, str(blocked / "raw")).startswith("Không ghi được")
    assert not (blocked / "raw").exists()


# -- 10. the smaller edges --------------------------------------------------------------------


def test_a_period_without_data_says_so_and_exits_3(small_processed, tmp_path, capsys):
    _, processed = small_processed
    out = tmp_path / "reports"
    capsys.readouterr()
    assert main(["report", "--period", "2030-03", "--processed", str(processed), "--out", str(out)]) == 3
    line = _one_line_error(capsys, "Không có dữ liệu hồ sơ nào trong kỳ Tháng 3/2030", "01/03/2030",
                           "31/03/2030")
    assert "không lập báo cáo rỗng" in line
    assert not (out / "2030-03").exists()


def test_monthly_for_a_month_without_data_exits_3(small_processed, tmp_path, capsys):
    raw, processed = small_processed
    out = tmp_path / "reports"
    code = main(["monthly", "--month", "2030-03", "--raw", str(raw), "--processed", str(processed),
                 "--out", str(out), "--config", str(_empty_config(tmp_path))])
    assert code == 3
    assert "Không có dữ liệu hồ sơ nào trong kỳ Tháng 3/2030" in capsys.readouterr().err
    assert not (out / "2030-03").exists()


@pytest.mark.parametrize("year", ["99999", "0", "20x3"])
def test_report_year_out_of_range_exits_2(year, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["report", "--year", year])
    assert stop.value.code == 2
    _one_line_error(capsys, year)


@pytest.mark.parametrize("option, value", [
    ("--subject", "Báo cáo\r\nBcc: ke-gian@example.invalid"),
    ("--subject", "dòng 1\ndòng 2"),
    ("--to", "a@example.vn\r\nBcc: ke-gian@example.invalid"),
])
def test_line_breaks_in_mail_headers_exit_2(tmp_path, capsys, option, value):
    report = tmp_path / "bao-cao-2023-01.html"
    report.write_text("<html></html>", encoding="utf-8")
    args = ["send", str(report), "--to", "a@example.vn", "--dry-run", str(tmp_path / "t.eml")]
    args += [option, value]
    capsys.readouterr()
    assert main(args) == 2
    _one_line_error(capsys, option, "xuống dòng")
    assert not (tmp_path / "t.eml").exists()


def test_two_columns_for_one_canonical_name_warn_naming_both(tmp_path):
    from cchc_lib.ingest.run import format_summary

    rows = dossier_rows({"Ngày tiếp nhận": "15/01/2023 08:00"})
    rows[0].append(" ngày  TIẾP nhận")
    rows[1].append("20/01/2023 08:00")
    raw = make_raw(tmp_path / "raw", {"a.csv": csv_text(rows)})
    result = run_ingest(raw, tmp_path / "out")
    warning = ("tệp dossiers/a.csv: hai cột cùng là 'Ngày tiếp nhận': 'Ngày tiếp nhận' (cột I) và "
               "'ngày  TIẾP nhận' (cột S); đọc cột I")
    assert result.report["warnings"] == [warning]
    assert f"  - {warning}" in format_summary(result)
    assert str(result.tables["dossiers"]["received_at"].iloc[0]) == "2023-01-15 08:00:00"


def test_returned_and_rated_before_receipt_are_rejected(tmp_path):
    headers = ["Mã hồ sơ", "Mã TTHC", "Tên TTHC", "Lĩnh vực", "Phòng xử lý", "Kênh nộp",
               "Ngày tiếp nhận", "Ngày hẹn trả", "Ngày có kết quả", "Ngày trả kết quả", "Trạng thái",
               "Đánh giá", "Ngày đánh giá"]
    rows = dossier_rows(
        {"Ngày trả kết quả": "14/01/2023 10:00"},
        {"Đánh giá": "Hài lòng", "Ngày đánh giá": "10/01/2023"},
        {"Ngày có kết quả": "15/01/2023", "Ngày trả kết quả": "15/01/2023", "Đánh giá": "Hài lòng",
         "Ngày đánh giá": "15/01/2023", "Trạng thái": "Đã trả kết quả"},  # same day, date only: fine
        headers=headers,
    )
    raw = make_raw(tmp_path / "raw", {"a.csv": csv_text(rows)})
    result = run_ingest(raw, tmp_path / "out")
    assert result.rejects["reason"].tolist() == [
        "Ngày trả kết quả (14/01/2023 10:00) trước Ngày tiếp nhận (15/01/2023 08:00)",
        "Ngày đánh giá (10/01/2023) trước Ngày tiếp nhận (15/01/2023 08:00)",
    ]
    d = result.tables["dossiers"]
    assert d["dossier_id"].tolist() == ["HS-3"]
    assert str(d["returned_at"].iloc[0]) == str(d["rated_at"].iloc[0]) == "2023-01-15 08:00:00"


def test_without_symlinks_files_are_replaced_one_by_one(tmp_path, monkeypatch):
    """Windows without developer mode: no generations, each file still replaced atomically."""
    from cchc_lib import generations

    monkeypatch.setattr(generations, "_symlinks_work", lambda folder: False)
    raw = make_raw(tmp_path / "raw", {"a.csv": csv_text(dossier_rows({}))})
    out = tmp_path / "out"
    run_ingest(raw, out)
    (raw / "feedback").mkdir()
    (raw / "feedback" / "pakn.csv").write_text(FEEDBACK, encoding="utf-8")
    run_ingest(raw, out)
    run_ingest(raw, tmp_path / "reference")
    assert not any(p.is_symlink() for p in out.iterdir())
    assert sorted(p.name for p in out.iterdir() if p.name != ".ingest-cache") == sorted(_outputs(out))
    monkeypatch.undo()
    assert _outputs(out) == _outputs(tmp_path / "reference")
    # Optional input removed: its table goes too.
    monkeypatch.setattr(generations, "_symlinks_work", lambda folder: False)
    shutil.rmtree(raw / "feedback")
    run_ingest(raw, out)
    assert "feedback.parquet" not in _outputs(out)
