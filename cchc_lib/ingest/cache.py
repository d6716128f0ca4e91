"""Incremental ingest: what each raw file produced, remembered by the file's content.

The monthly job re-reads every raw file every month, yet the exports of past months do not
change. Reading and validating a file (its accepted rows, its rejected rows with their reasons,
the columns it had and the warnings it raised) depends only on its bytes, its path (the rows
carry ``source_file``), its table, the mapping and the code that reads and validates it. So the
result is kept under ``<processed>/.ingest-cache/<key>/`` keyed by a hash of all of these, as the
file's validated chunks (Arrow IPC) and its rejects (ingest/chunks.py); a file whose key is known
is not read again, and its rows are never all in memory at once. Everything after the per-file
step (merging duplicates across files, the catalogue, the schema check, the aggregate, the
report) runs on every ingest from the per-file results of the files present now, so a changed
file's old rows and a removed file's rows leave the processed data exactly as in a full
re-ingest, and the outputs are byte for byte those of a full re-ingest (tested).

Each entry also says the path, table and size of the file it was made from: a file that no
entry's file matches by those three (a new month's export, a corrected one of another size)
cannot be in the cache, so it is read and validated at once while a thread hashes it for its
key, instead of after (a cold ingest of a million dossiers: 4.1-4.3 s -> 3.7 s).

Entries not used by a run are deleted at its end, so the cache holds one entry per raw file. A
damaged or unreadable entry is ignored (the file is read again). ``CCHC_INGEST_CACHE=0`` turns
the cache off.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

CACHE_DIR = ".ingest-cache"
# Beside each entry's chunks: the file it was made from (path, table, size), so that a run can
# tell a file no entry can match (a new file, or one whose size changed) without hashing it first.
SOURCE_FILE = "source.json"
_CHUNK = 1 << 20
_PACKAGE = Path(__file__).resolve().parent.parent  # cchc_lib
# What turns bytes into validated rows: the package's own modules and data files and this
# subpackage's (the publishing side, the sample generator and the other subpackages do not).
SALTED = ("*.py", "*.yaml", "ingest/*.py")


def _hash_file(path: Path, digest) -> None:
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)


def salted_files(package: Path = _PACKAGE) -> list[Path]:
    """The files :func:`code_salt` hashes (:data:`SALTED`), in a fixed order."""
    return sorted({path for pattern in SALTED for path in package.glob(pattern)},
                  key=lambda path: path.relative_to(package).as_posix())


def code_salt(mapping_path: Path | None, package: Path = _PACKAGE) -> str:
    """A hash of what turns bytes into validated rows: the modules of :func:`salted_files` (a
    change to any of them, or to the mapping, makes every file be read again)."""
    digest = hashlib.sha256()
    for source in salted_files(package):
        digest.update(source.relative_to(package).as_posix().encode())
        _hash_file(source, digest)
    if mapping_path is not None:
        _hash_file(Path(mapping_path), digest)
    return digest.hexdigest()


class FileCache:
    """Per-file results of one ingest run, kept in ``out_dir/.ingest-cache/<key>/``: each an
    entry folder that the run's ``compute`` filled (the file's validated chunks and rejects,
    ingest/chunks.py), adopted whole by a rename so that a killed run leaves no half entry."""

    def __init__(self, out_dir: Path, mapping_path: Path | None = None,
                 enabled: bool | None = None) -> None:
        self.folder = Path(out_dir) / CACHE_DIR
        self.enabled = (os.environ.get("CCHC_INGEST_CACHE", "1") != "0") if enabled is None else enabled
        self.salt = code_salt(mapping_path) if self.enabled else ""
        self.used: set[str] = set()
        self.hits = 0
        self.misses = 0
        self._sources, self._unknown = self._read_sources() if self.enabled else (set(), False)

    def _read_sources(self) -> tuple[set[tuple[str, str, int]], bool]:
        """The (path, table, size) of every entry's file, and whether some entry does not say
        (then any file may match one of them)."""
        sources: set[tuple[str, str, int]] = set()
        unknown = False
        if not self.folder.is_dir():
            return sources, unknown
        for entry in self.folder.iterdir():
            if not entry.is_dir() or entry.name.startswith("."):
                continue
            try:
                said = json.loads((entry / SOURCE_FILE).read_text(encoding="utf-8"))
                sources.add((str(said["rel"]), str(said["table"]), int(said["size"])))
            except (OSError, ValueError, KeyError, TypeError):
                unknown = True
        return sources, unknown

    def may_hold(self, path: Path, rel: str, table: str) -> bool:
        """Whether an entry may hold this file's result: only one made from a file of the same
        path, table and size can (the key hashes the path, the table and every byte)."""
        return self._unknown or (rel, table, path.stat().st_size) in self._sources

    def key(self, path: Path, rel: str, table: str) -> str:
        digest = hashlib.sha256()
        digest.update(f"{self.salt}\0{table}\0{rel}\0".encode())
        _hash_file(path, digest)
        return digest.hexdigest()

    def get(self, path: Path, rel: str, table: str, compute: Callable[[Path], Any],
            load: Callable[[Path], Any], scratch: Path) -> Any:
        """``load(folder)`` of this file's entry folder, filled by ``compute(folder)`` unless
        an earlier run already did for the same content. With the cache off, ``compute`` fills
        ``scratch`` (a folder of the run's work area) instead."""
        if not self.enabled:
            compute(scratch)
            self.misses += 1
            return load(scratch)
        if not self.may_hold(path, rel, table):
            return self._compute_while_hashing(path, rel, table, compute, load)
        key = self.key(path, rel, table)
        self.used.add(key)
        entry = self.folder / key
        if entry.is_dir():
            try:
                value = load(entry)
                self.hits += 1
                if self._unknown and not (entry / SOURCE_FILE).is_file():
                    self._say_source(entry, path, rel, table)  # the next run need not hash first
                return value
            except Exception:  # noqa: BLE001 - a damaged entry is only a missed shortcut
                shutil.rmtree(entry, ignore_errors=True)
        tmp = self.folder / f".{key}.{os.getpid()}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            compute(tmp)
            self._adopt(tmp, key, path, rel, table)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.misses += 1
        return load(entry)

    def _compute_while_hashing(self, path: Path, rel: str, table: str, compute: Callable[[Path], Any],
                               load: Callable[[Path], Any]) -> Any:
        """A file no entry can hold: read and validated while a thread hashes it for its key
        (hashlib lets go of the interpreter lock while it hashes: on a cold run the hash no
        longer comes before the reading)."""
        tmp = self.folder / f".new.{os.getpid()}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cchc-hash") as hashing:
                hashed = hashing.submit(self.key, path, rel, table)
                compute(tmp)
                key = hashed.result()
            self.used.add(key)
            self._adopt(tmp, key, path, rel, table)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.misses += 1
        return load(self.folder / key)

    @staticmethod
    def _say_source(folder: Path, path: Path, rel: str, table: str) -> None:
        (folder / SOURCE_FILE).write_text(
            json.dumps({"rel": rel, "table": table, "size": path.stat().st_size}, ensure_ascii=False),
            encoding="utf-8")

    def _adopt(self, tmp: Path, key: str, path: Path, rel: str, table: str) -> None:
        """The filled folder ``tmp`` made the entry of ``key``, whole, by one rename."""
        self._say_source(tmp, path, rel, table)
        entry = self.folder / key
        try:
            os.replace(tmp, entry)
        except OSError:
            if not entry.is_dir():
                raise
            # Another ingest into the same folder stored the same entry meanwhile: theirs.

    def prune(self) -> None:
        """Delete the entries this run did not use (files removed or changed since), entries of
        older versions (pickles) and leftovers of killed runs."""
        if not self.enabled or not self.folder.is_dir():
            return
        for entry in self.folder.iterdir():
            if entry.name in self.used:
                continue
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
