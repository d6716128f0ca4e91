"""Windows-1258 and UTF-16 text streamed in row batches (issue 16, item 1): the same outputs, byte
for byte, as reading such a file whole (today's path, forced here), at batch sizes of 7 and 97
rows, in one process and with the worker processes; the file never read whole; the rows, row
numbers, rejects and NFC text also checked against values worked out from how the files were
built."""

from __future__ import annotations

import codecs
import json
import unicodedata
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from cchc_lib import transcode
from cchc_lib.ingest import read_batches
from cchc_lib.ingest.run import IngestError, run_ingest
from cchc_lib.mapping import load_mapping
from cchc_lib.readers import read_input
from tests.ingest_helpers import (
    DOSSIER_HEADERS,
    csv_text,
    dossier_rows,
    make_raw,
    stream_in_small_blocks,
    to_cp1258,
)

ONE_BATCH = 10_000_000
NAME = "Đăng ký thành lập hộ kinh doanh"  # NFC; written decomposed below
DEPARTMENT = "Phòng Tài chính - Kế hoạch"


def _lines(prefix: str, rows: int, bad_at: int, blank_after: tuple[int, ...],
           delimiter: str) -> tuple[list[str], dict[str, int]]:
    """A title line, a blank line, the header, then ``rows`` dossiers ``{prefix}-1``...; a blank
    line after each data row in ``blank_after``; dossier ``bad_at`` received on 31/02/2023.
    Also each dossier's line number (counted here, as the spreadsheet shows it)."""
    body = csv_text(dossier_rows(*(
        {"Mã hồ sơ": f"{prefix}-{i}", "Tên TTHC": NAME, "Phòng xử lý": DEPARTMENT,
         **({"Ngày tiếp nhận": "31/02/2023"} if i == bad_at else {})}
        for i in range(1, rows + 1)), headers=DOSSIER_HEADERS), delimiter=delimiter).split("\r\n")[:-1]
    lines = ["BÁO CÁO HỒ SƠ TIẾP NHẬN", "", body[0]]
    numbers: dict[str, int] = {}
    for i, line in enumerate(body[1:], start=1):
        lines.append(line)
        numbers[f"{prefix}-{i}"] = len(lines)
        if i in blank_after:
            lines.append("")
    return lines, numbers


def _files() -> tuple[dict[str, bytes], dict[str, dict[str, int]]]:
    """cp1258.csv: Windows-1258, tone marks as combining characters, comma-separated.
    utf16.txt: Excel's "Unicode text" (UTF-16 LE with BOM, tabs), the name decomposed (NFD).
    utf16be.txt: UTF-16 BE without a BOM, tabs. All CRLF with blank lines among the rows and
    two at the end; a bad date deep in each."""
    a, a_rows = _lines("WA", 150, 120, (5, 60, 61), ",")
    b, b_rows = _lines("UL", 140, 131, (9, 100), "\t")
    c, c_rows = _lines("UB", 90, 77, (1,), "\t")
    b_text = unicodedata.normalize("NFD", "\r\n".join(b) + "\r\n\r\n")
    files = {
        "cp1258.csv": to_cp1258("\r\n".join(a) + "\r\n\r\n"),
        "utf16.txt": codecs.BOM_UTF16_LE + b_text.encode("utf-16-le"),
        "utf16be.txt": ("\r\n".join(c) + "\r\n\r\n").encode("utf-16-be"),
    }
    numbers = {"dossiers/cp1258.csv": a_rows, "dossiers/utf16.txt": b_rows, "dossiers/utf16be.txt": c_rows}
    return files, numbers


def _outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())
            if p.is_file() and not p.name.startswith(".")}


@pytest.fixture
def small_blocks(monkeypatch):
    """Small heads and blocks: a file of a few KB is decoded and parsed in many blocks (an odd
    number of bytes, so UTF-16 code units and cp1258 tone marks are cut between blocks); the
    files read whole after the stream failed part way are recorded."""
    monkeypatch.setattr(transcode, "TRANSCODE_BLOCK", 1001)
    monkeypatch.setenv("CCHC_INGEST_CACHE", "0")
    return stream_in_small_blocks(monkeypatch)


def _whole(raw: Path, out: Path, monkeypatch) -> dict[str, bytes]:
    """Today's path: every file read whole by readers.read_input, one batch."""
    with monkeypatch.context() as m:
        m.setattr(read_batches, "_open_stream", lambda *args: None)
        m.setenv("CCHC_INGEST_WORKERS", "1")
        run_ingest(raw, out, batch_rows=ONE_BATCH)
    return _outputs(out)


def test_streamed_encodings_give_the_whole_read_outputs(tmp_path, monkeypatch, small_blocks):
    files, numbers = _files()
    raw = make_raw(tmp_path / "raw", files)
    expected = _whole(raw, tmp_path / "whole", monkeypatch)

    whole_reads: list[str] = []
    monkeypatch.setattr(read_batches, "read_input", lambda path, *a: whole_reads.append(path.name))
    read_bytes: list[str] = []
    real_read_bytes = Path.read_bytes

    def spy_read_bytes(self):
        read_bytes.append(self.name)
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", spy_read_bytes)
    for workers in ("1", ""):
        for batch_rows in (7, 97):
            if workers:
                monkeypatch.setenv("CCHC_INGEST_WORKERS", workers)
            else:
                monkeypatch.delenv("CCHC_INGEST_WORKERS", raising=False)
            out = tmp_path / f"out-{workers or 'default'}-{batch_rows}"
            run_ingest(raw, out, batch_rows=batch_rows)
            got = _outputs(out)
            assert sorted(got) == sorted(expected)
            for name in expected:
                assert got[name] == expected[name], f"{name} differs (batch {batch_rows}, workers {workers})"
    assert whole_reads == []  # streamed: no file read whole
    assert not set(read_bytes) & set(files)

    # What the files hold, worked out from how they were built.
    dossiers = pd.read_parquet(tmp_path / "out-1-7" / "dossiers.parquet")
    bad = {"dossiers/cp1258.csv": "WA-120", "dossiers/utf16.txt": "UL-131", "dossiers/utf16be.txt": "UB-77"}
    for file, rows in numbers.items():
        mine = dossiers[dossiers["source_file"] == file]
        kept = {k: v for k, v in rows.items() if k != bad[file]}
        assert dict(zip(mine["dossier_id"], mine["source_row"], strict=True)) == kept
    assert set(dossiers["procedure_name"]) == {NAME}
    assert set(dossiers["department"]) == {DEPARTMENT}
    rejects = pd.read_csv(tmp_path / "out-1-7" / "rejects.csv", encoding="utf-8-sig")
    got_rejects = sorted(zip(rejects["source_file"], rejects["source_row"], rejects["dossier_id"],
                             strict=True))
    assert got_rejects == sorted((f, numbers[f][d], d) for f, d in bad.items())
    report = json.loads((tmp_path / "out-1-7" / "ingest_report.json").read_text(encoding="utf-8"))
    per_file = {r["file"]: (r["rows_read"], r["rows_accepted"], r["rows_rejected"]) for r in report["files"]}
    assert per_file["dossiers/cp1258.csv"] == (150, 149, 1)
    assert per_file["dossiers/utf16.txt"] == (140, 139, 1)
    assert per_file["dossiers/utf16be.txt"] == (90, 89, 1)


@pytest.mark.parametrize("name", ["cp1258.csv", "utf16.txt", "utf16be.txt"])
def test_batches_are_the_whole_read_cut(tmp_path, small_blocks, name):
    """read_batches on each file, in batches of 7 rows: the whole read's text, row numbers and
    warnings, and no batch more than 7 rows."""
    files, _ = _files()
    raw = make_raw(tmp_path / "raw", {name: files[name]})
    path = raw / "dossiers" / name
    mapping = load_mapping(None)
    whole = read_input(path, raw, "dossiers", mapping)
    assert read_batches._open_stream(path, raw, "dossiers", mapping) is not None  # streamed
    batches = list(read_batches.read_batches(path, raw, "dossiers", mapping, 7))
    assert max(len(b) for b in batches) <= 7
    assert pa.concat_tables([b.data for b in batches]).equals(whole.data)
    assert [int(r) for b in batches for r in b.rows] == whole.rows.tolist()
    assert [w for b in batches for w in b.warnings] == whole.warnings
    assert NAME in whole.data.column("procedure_name").to_pylist()


def test_nfc_pieces_equal_the_whole_text(tmp_path):
    """Decoded a few bytes at a time, cut only before line ends: the pieces joined are the NFC
    text of the whole file, and none is much longer than a block."""
    text = "\r\n".join(f"Hồ sơ {i},Đăng ký,Ủy ban nhân dân tỉnh Tuyên Quang" for i in range(200)) + "\r\n"
    for encoding, data in (("cp1258", to_cp1258(text)),
                           ("utf-16", codecs.BOM_UTF16_LE + text.encode("utf-16-le")),
                           ("utf-16-be", text.encode("utf-16-be"))):
        path = tmp_path / f"t-{encoding}.txt"
        path.write_bytes(data)
        for block in (1, 3, 64, 1001):
            pieces = list(transcode.nfc_pieces(path, encoding, block))
            assert "".join(pieces) == text
            assert max(len(p) for p in pieces) <= block + 60  # a block, plus at most a line
        stream = transcode.TranscodedText(path, encoding, 7)
        assert stream.read() == text.rstrip("\r\n").encode("utf-8")
        stream.close()
        assert transcode.text_head(path, encoding, 100) == (text[:100], False)
        assert transcode.text_head(path, encoding, len(text)) == (text, True)


def _ragged_utf16(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    lines, numbers = _lines("UL", 80, 0, (3,), "\t")
    row = numbers["UL-70"]
    lines[row - 1] += "\tthừa"  # a filled cell beyond the header's last: the row's cells are shifted
    raw = make_raw(tmp_path / "raw", {"r.txt": codecs.BOM_UTF16_LE + "\r\n".join(lines).encode("utf-16-le")})
    return raw, numbers


def test_a_ragged_row_deep_in_utf16_is_read_whole_as_before(tmp_path, monkeypatch, small_blocks):
    raw, numbers = _ragged_utf16(tmp_path)
    expected = _whole(raw, tmp_path / "whole", monkeypatch)
    assert small_blocks == []
    monkeypatch.setenv("CCHC_INGEST_WORKERS", "1")
    run_ingest(raw, tmp_path / "small", batch_rows=7)
    assert small_blocks == ["r.txt"]
    assert _outputs(tmp_path / "small") == expected
    rejects = pd.read_csv(tmp_path / "small" / "rejects.csv", encoding="utf-8-sig")
    assert rejects["source_row"].tolist() == [numbers["UL-70"]]
    assert "lệch cột" in rejects["reason"].iloc[0]


def test_a_byte_not_in_windows_1258_deep_in_the_file(tmp_path, monkeypatch, small_blocks):
    """0x81 is no character in Windows-1258: the stream gives up where it meets it, and the whole
    read stops the run with the message it always gave, naming the file."""
    lines, _ = _lines("WA", 150, 0, (), ",")
    data = to_cp1258("\r\n".join(lines[:140])) + b"\r\nWA\x81" + to_cp1258("\r\n".join(lines[140:]))
    raw = make_raw(tmp_path / "raw", {"a.csv": data})
    messages = []
    for force_whole in (True, False):
        with monkeypatch.context() as m:
            if force_whole:
                m.setattr(read_batches, "_open_stream", lambda *args: None)
            with pytest.raises(IngestError) as caught:
                run_ingest(raw, tmp_path / "out", batch_rows=7)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
    assert "dossiers/a.csv" in messages[0]
