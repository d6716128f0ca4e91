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

from cchc_lib.ingest import run_ingest
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
    assert sorted(_outputs(out)) == ["dossiers.parquet", "ingest_report.json", "procedures.parquet",
                                     "rejects.csv"]


def test_readers_see_one_generation(tmp_path):
    """load_processed resolves the current generation once: every file comes from it."""
    from cchc_lib.generations import resolve
    from cchc_lib.indicators import load_processed

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
