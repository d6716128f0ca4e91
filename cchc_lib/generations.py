"""The processed set (``data/processed``) changes all at once.

Ingest writes dossiers.parquet, procedures.parquet, the optional tables, rejects.csv and
ingest_report.json. Renaming them into place one by one leaves, after a kill between two
renames, a new dossiers.parquet beside the old report. So every run writes a complete new
*generation* folder and switches to it with one rename of a symlink:

    data/processed/
        dossiers.parquet   -> .generations/current/dossiers.parquet     (stable names for readers)
        ingest_report.json -> .generations/current/ingest_report.json
        ...
        .generations/
            current -> 000008          (the one rename that switches the whole set)
            000007/                    (the previous set, kept for a reader in the middle of a read)
            000008/

A reader opening ``data/processed/dossiers.parquet`` keeps working unchanged; a reader that wants
a consistent set across several files calls `resolve` once and reads from the folder it gets.
Every rename is safe to be killed at: before the switch the old set is whole, after it the new
one; leftovers of a killed run (``*.tmp`` folders, a generation never switched to, the old
per-file ``.name.XXXX.tmp`` temporaries) are removed by the next run, which holds a lock on
``.generations/.lock`` so two runs never clean up each other's work.

Where symlinks cannot be made (Windows without developer mode), the files are renamed into place
one by one as before (atomic per file, not per set).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

from cchc_lib.atomic import make_readable, temp_path

GENERATIONS = ".generations"
CURRENT = "current"
LOCK = ".lock"
KEEP_PREVIOUS = 1  # generations kept besides the current one


def resolve(processed_dir: str | Path) -> Path:
    """The folder holding the current set: the current generation, or ``processed_dir`` itself
    for a set written without generations. Resolve once, then read every file from it."""
    processed_dir = Path(processed_dir)
    current = processed_dir / GENERATIONS / CURRENT
    if current.is_symlink() and current.is_dir():
        return current.resolve()
    return processed_dir


def _symlinks_work(folder: Path) -> bool:
    probe = folder / f".symlink-probe-{os.getpid()}.tmp"  # a kill leaves it to clean_stale
    try:
        probe.unlink(missing_ok=True)
        os.symlink(CURRENT, probe)
    except (OSError, NotImplementedError):
        return False
    probe.unlink()
    return True


def _replace_with_link(link: Path, target: str) -> None:
    """Point ``link`` at ``target`` atomically (a new link renamed over the old entry)."""
    if link.is_symlink() and os.readlink(link) == target:
        return
    tmp = link.with_name(f".{link.name}.{os.getpid()}.link.tmp")
    tmp.unlink(missing_ok=True)
    os.symlink(target, tmp)
    os.replace(tmp, link)


def _generation_numbers(gens: Path) -> list[int]:
    return sorted(
        int(p.name) for p in gens.iterdir() if p.name.isdigit() and p.is_dir() and not p.is_symlink()
    )


def _current_number(gens: Path) -> int | None:
    link = gens / CURRENT
    if not link.is_symlink():
        return None
    name = os.readlink(link)
    return int(name) if name.isdigit() else None


def clean_stale(out_dir: Path) -> None:
    """Remove what a killed run left: temporaries and generations never switched to (or older
    than the previous one). Call with the lock held."""
    for entry in out_dir.iterdir():
        # The per-file temporaries of atomic.temp_path (".dossiers.parquet.ab12cd.tmp") and of
        # the links made here.
        if entry.name.startswith(".") and entry.name.endswith(".tmp") and not entry.is_dir():
            entry.unlink(missing_ok=True)
    gens = out_dir / GENERATIONS
    if not gens.is_dir():
        return
    current = _current_number(gens)
    numbers = _generation_numbers(gens)
    keep = set()
    if current is not None:
        older = [n for n in numbers if n < current]
        keep = {current, *older[len(older) - KEEP_PREVIOUS :]} if KEEP_PREVIOUS else {current}
    for entry in gens.iterdir():
        if entry.name in (CURRENT, LOCK):
            continue
        if entry.name.isdigit() and int(entry.name) in keep:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def _adopt_plain_files(out_dir: Path, gens: Path, names: set[str]) -> None:
    """A processed folder from before generations: its plain files become generation 0 (hard
    links, no copy) and are then replaced by links to it, one by one, each link showing the
    same bytes as the file it replaces, so a kill at any step still leaves one whole set."""
    plain = [out_dir / n for n in sorted(names) if (out_dir / n).is_file() and not (out_dir / n).is_symlink()]
    if not plain or _current_number(gens) is not None:
        return
    staging = gens / "000000.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    for path in plain:
        try:
            os.link(path, staging / path.name)
        except OSError:
            shutil.copy2(path, staging / path.name)
    os.replace(staging, gens / "000000")
    _replace_with_link(gens / CURRENT, "000000")


def write_generation(out_dir: Path, outputs: dict[str, Callable[[Path], None]], all_names: set[str]) -> None:
    """Write ``outputs`` (file name -> writer of that file) as the new processed set in one switch.

    ``all_names`` are every name a processed set may hold: a name not in ``outputs`` (an
    optional input removed since the last run) disappears from the set with the switch."""
    from cchc_lib.monthly import monthly_lock  # the flock helper (released if the process dies)

    out_dir.mkdir(parents=True, exist_ok=True)
    if not _symlinks_work(out_dir):
        _write_in_place(out_dir, outputs, all_names)
        return
    gens = out_dir / GENERATIONS
    gens.mkdir(exist_ok=True)
    with monthly_lock(gens / LOCK, wait=True):
        clean_stale(out_dir)
        _adopt_plain_files(out_dir, gens, all_names)
        number = max([0, *_generation_numbers(gens)]) + 1
        name = f"{number:06d}"
        staging = gens / f"{name}.tmp"
        staging.mkdir()
        try:
            for file_name, write in outputs.items():
                write(staging / file_name)
                make_readable(staging / file_name)
            os.replace(staging, gens / name)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        # Stable names first (a link to a file the current set lacks reads as absent, as the
        # file was), then the switch, then the links to files the new set no longer has go.
        for file_name in outputs:
            _replace_with_link(out_dir / file_name, f"{GENERATIONS}/{CURRENT}/{file_name}")
        _replace_with_link(gens / CURRENT, name)
        for file_name in sorted(all_names - set(outputs)):
            link = out_dir / file_name
            if link.is_symlink() or link.is_file():
                link.unlink()
        clean_stale(out_dir)


def _write_in_place(out_dir: Path, outputs: dict[str, Callable[[Path], None]], all_names: set[str]) -> None:
    """Without symlinks: each file written to a temporary and renamed over its name."""
    clean_stale(out_dir)
    temps: list[tuple[Path, Path]] = []
    try:
        for file_name, write in outputs.items():
            tmp = temp_path(out_dir / file_name)
            temps.append((tmp, out_dir / file_name))
            write(tmp)
            make_readable(tmp)
    except BaseException:
        for tmp, _final in temps:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, final in temps:
        os.replace(tmp, final)
    for file_name in sorted(all_names - set(outputs)):
        (out_dir / file_name).unlink(missing_ok=True)
