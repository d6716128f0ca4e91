"""Incremental ingest (cchc_lib.ingest.cache): a run that re-reads only the changed raw files
writes exactly the bytes of a full re-ingest, including after a file changed and a file was
removed; and ingest writes the day-level aggregate (daily.parquet) of the dossiers it wrote."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from cchc_lib.daily import DAILY_FILE, build_daily
from cchc_lib.ingest.cache import CACHE_DIR, SOURCE_FILE, code_salt, salted_files
from cchc_lib.ingest.run import run_ingest

RAW = Path(__file__).resolve().parent.parent / "data" / "raw"


def _outputs(folder: Path) -> dict[str, bytes]:
    """Every output file's bytes by name (through the generation links, if any)."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())
            if p.is_file() and not p.name.startswith(".")}


def _full(raw: Path, out: Path, monkeypatch) -> dict[str, bytes]:
    """A full ingest with the cache off: every file read and validated again."""
    monkeypatch.setenv("CCHC_INGEST_CACHE", "0")
    run_ingest(raw, out)
    monkeypatch.delenv("CCHC_INGEST_CACHE")
    assert not (out / CACHE_DIR).exists()
    return _outputs(out)


@pytest.fixture
def raw_copy(tmp_path) -> Path:
    if not any(RAW.glob("dossiers/*")):
        pytest.skip("data/raw has no sample dossiers yet")
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    return raw


def test_again_unchanged_reads_nothing_and_writes_the_same_bytes(raw_copy, tmp_path, monkeypatch):
    out = tmp_path / "processed"
    cold = run_ingest(raw_copy, out)
    n_files = len(cold.report["files"])
    assert cold.cache_misses == n_files and cold.cache_hits == 0
    first = _outputs(out)
    again = run_ingest(raw_copy, out)
    assert again.cache_hits == n_files and again.cache_misses == 0
    assert _outputs(out) == first
    assert _full(raw_copy, tmp_path / "full", monkeypatch) == first
    assert DAILY_FILE in first


def test_a_changed_and_a_removed_file(raw_copy, tmp_path, monkeypatch):
    out = tmp_path / "processed"
    run_ingest(raw_copy, out)
    # One export corrected (its last row dropped), one removed. Bytes: exports come in several
    # encodings; a line is a line in all of the single-byte ones and UTF-8.
    changed = raw_copy / "dossiers" / "ho-so-2023-05.csv"
    lines = changed.read_bytes().rstrip(b"\r\n").split(b"\n")
    assert len(lines) > 3
    changed.write_bytes(b"\n".join(lines[:-1]) + b"\n")
    before = pd.read_parquet(out / "dossiers.parquet")
    assert before["source_file"].eq("dossiers/ho-so-2022-03.csv").any()
    (raw_copy / "dossiers" / "ho-so-2022-03.csv").unlink()
    incremental = run_ingest(raw_copy, out)
    assert incremental.cache_misses == 1  # only the changed file was read again
    assert incremental.cache_hits == len(incremental.report["files"]) - 1
    got = _outputs(out)
    assert got == _full(raw_copy, tmp_path / "full", monkeypatch)
    # The removed file's rows left the processed data, and the cache keeps one entry per file.
    dossiers = pd.read_parquet(out / "dossiers.parquet")
    assert not dossiers["source_file"].eq("dossiers/ho-so-2022-03.csv").any()
    changed_rows = dossiers["source_file"].eq("dossiers/ho-so-2023-05.csv").sum()
    assert changed_rows < before["source_file"].eq("dossiers/ho-so-2023-05.csv").sum()
    assert len([p for p in (out / CACHE_DIR).iterdir() if p.is_dir()]) == len(incremental.report["files"])


def test_ingest_writes_the_aggregate_of_its_dossiers(sample_processed_dir):
    written = pd.read_parquet(sample_processed_dir / DAILY_FILE)
    dossiers = pd.read_parquet(sample_processed_dir / "dossiers.parquet")
    procedures = pd.read_parquet(sample_processed_dir / "procedures.parquet")
    feedback = pd.read_parquet(sample_processed_dir / "feedback.parquet")
    from cchc_lib.schema import conform

    expected = build_daily(conform(dossiers, "dossiers"), conform(procedures, "procedures"),
                           conform(feedback, "feedback"))
    pd.testing.assert_frame_equal(written, expected, check_dtype=False)
    # Every received, counted dossier is in it once.
    counted = (dossiers["status"] != "not_received").sum()
    assert written["received"].sum() == counted


def test_a_file_changed_without_changing_its_size(raw_copy, tmp_path, monkeypatch):
    """An entry made from a file of the same path and size may hold it, so the file is hashed
    before anything else (cchc_lib.ingest.cache.FileCache.may_hold) and, its bytes changed, read
    again: two rows swapped keep the size and change the rows' source lines."""
    out = tmp_path / "processed"
    run_ingest(raw_copy, out)
    changed = raw_copy / "dossiers" / "ho-so-2023-05.csv"
    size = changed.stat().st_size
    lines = changed.read_bytes().split(b"\n")
    first, second = lines[1], lines[2]
    assert first != second
    lines[1], lines[2] = second, first
    changed.write_bytes(b"\n".join(lines))
    assert changed.stat().st_size == size
    before = pd.read_parquet(out / "dossiers.parquet")
    incremental = run_ingest(raw_copy, out)
    assert incremental.cache_misses == 1
    assert incremental.cache_hits == len(incremental.report["files"]) - 1
    assert _outputs(out) == _full(raw_copy, tmp_path / "full", monkeypatch)
    after = pd.read_parquet(out / "dossiers.parquet")
    rows = ["dossier_id", "source_row"]
    mine = before["source_file"].eq("dossiers/ho-so-2023-05.csv")
    moved = after[after["source_file"].eq("dossiers/ho-so-2023-05.csv")][rows].head(2)
    assert list(moved["source_row"]) == list(before[mine][rows].head(2)["source_row"])
    assert list(moved["dossier_id"]) == list(before[mine][rows].head(2)["dossier_id"])[::-1]


def test_entries_that_do_not_say_their_file_are_still_used(raw_copy, tmp_path, monkeypatch):
    """An entry without its file's path and size (written before they were kept, or damaged)
    means any file may match it: every file is hashed first, as before, and found."""
    out = tmp_path / "processed"
    cold = run_ingest(raw_copy, out)
    first = _outputs(out)
    for said in (out / CACHE_DIR).glob(f"*/{SOURCE_FILE}"):
        said.unlink()
    again = run_ingest(raw_copy, out)
    assert again.cache_hits == len(cold.report["files"]) and again.cache_misses == 0
    assert _outputs(out) == first
    # Each entry found says its file again: the next run hashes only the files that may match.
    assert len(list((out / CACHE_DIR).glob(f"*/{SOURCE_FILE}"))) == len(cold.report["files"])


def test_a_new_file_is_read_while_it_is_hashed(raw_copy, tmp_path, monkeypatch):
    """A file no entry can hold (a new month's export) is validated while a thread hashes it;
    its entry is found by the next run."""
    out = tmp_path / "processed"
    new = raw_copy / "dossiers" / "ho-so-2023-05.csv"
    held = tmp_path / "held.csv"
    shutil.move(new, held)
    run_ingest(raw_copy, out)
    shutil.move(held, new)
    incremental = run_ingest(raw_copy, out)
    assert incremental.cache_misses == 1
    said = [json.loads(p.read_text(encoding="utf-8")) for p in (out / CACHE_DIR).glob(f"*/{SOURCE_FILE}")]
    assert {"rel": "dossiers/ho-so-2023-05.csv", "table": "dossiers", "size": new.stat().st_size} in said
    assert _outputs(out) == _full(raw_copy, tmp_path / "full", monkeypatch)
    again = run_ingest(raw_copy, out)
    assert again.cache_misses == 0 and again.cache_hits == len(again.report["files"])


def test_the_cache_key_covers_the_ingest_subpackage(tmp_path):
    """The code salt hashes the modules that turn bytes into validated rows, the ingest
    subpackage's included (a change there must make every file be read again); the publishing
    side is left out."""
    package = Path(__file__).resolve().parents[1] / "cchc_lib"
    hashed = {path.relative_to(package).as_posix() for path in salted_files(package)}
    assert {"reading.py", "readers.py", "validation.py", "schema.py", "mapping.yaml",
            "ingest/run.py", "ingest/chunks.py", "ingest/read_batches.py", "ingest/cache.py"} <= hashed
    assert not any(name.startswith(("publish/", "sample/", "explorer/")) for name in hashed)

    fake = tmp_path / "pkg"
    (fake / "ingest").mkdir(parents=True)
    (fake / "validation.py").write_text("RULE = 1\n", encoding="utf-8")
    (fake / "ingest" / "chunks.py").write_text("BATCH = 1\n", encoding="utf-8")
    before = code_salt(None, fake)
    assert code_salt(None, fake) == before  # the same code, the same key
    (fake / "ingest" / "chunks.py").write_text("BATCH = 2\n", encoding="utf-8")
    assert code_salt(None, fake) != before
    # The same bytes under another name are other code: names are hashed too.
    (fake / "ingest" / "chunks.py").write_text("BATCH = 1\n", encoding="utf-8")
    assert code_salt(None, fake) == before
    (fake / "ingest" / "chunks.py").rename(fake / "ingest" / "other.py")
    assert code_salt(None, fake) != before
