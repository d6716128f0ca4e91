"""What a warm kernel keeps between the reports of a batch: the processed data read once, and
values derived from it computed once.

The report runner keeps one kernel per batch worker (:mod:`cchc_lib.publish.runner`); a year batch has
each worker render eight or nine reports from the same processed files, and the month-by-month
scores of the national index are the same months again and again. Nothing here can make one
report depend on another: the data is read again whenever a file changed (path, size and
modification time of every file of the folder), and a derived value is keyed by the data object
it came from and handed out as a copy, so a report that altered what it got could not alter the
next report's.
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

_loaded: dict[Path, tuple[tuple, Any]] = {}  # folder -> (signature of its files, ProcessedData)
_derived: dict[int, tuple[weakref.ref, dict[Hashable, Any]]] = {}  # id(data) -> (data, values)
_copies: dict[int, tuple[weakref.ref, Any]] = {}  # id(copy handed out) -> (copy, data read)


def _signature(folder: Path) -> tuple:
    files = sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
    return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files)


def load_processed(processed_dir: str | Path, conventions: object = None):
    """:func:`cchc_lib.processed.load_processed`, read once per process while the folder's files
    stay the same. Each call gets its own frames (shallow copies: a column added or replaced by
    one report is not seen by the next), counted under ``conventions`` (None: the defaults)."""
    from cchc_lib import dossier_source
    from cchc_lib.conventions import DEFAULT, as_conventions
    from cchc_lib.processed import ProcessedData
    from cchc_lib.processed import load_processed as read

    folder = Path(processed_dir).resolve()
    signature = _signature(folder)
    cached = _loaded.get(folder)
    if cached is None or cached[0] != signature:
        _loaded[folder] = cached = (signature, read(folder))
    data = cached[1]
    # Unread dossiers stay unread: the copy reads them (once for all copies) when first needed.
    source = dossier_source.source_of(data)
    dossiers = source.fork() if isinstance(source, dossier_source.DossierFile) else source.copy(deep=False)
    handed = ProcessedData(
        dossiers=dossiers,
        procedures=data.procedures.copy(deep=False),
        feedback=None if data.feedback is None else data.feedback.copy(deep=False),
        ingest_report=copy.deepcopy(data.ingest_report),
        conventions=as_conventions(conventions) or DEFAULT,
        # The day-level aggregate is read-only (nobody alters it), so it is shared.
        daily=data.daily,
        daily_of=dossiers if data.daily is not None else None,
    )
    for key in [k for k, (ref, _) in _copies.items() if ref() is None]:
        del _copies[key]
    _copies[id(handed)] = (weakref.ref(handed), data)
    return handed


_tables: dict[tuple[Path, str], tuple[tuple, Any]] = {}  # (folder, what) -> (signature, value read)


def _read_once(processed_dir: str | Path, what: str, read: Callable[[Path], Any]) -> Any:
    """``read(folder)``, remembered while the folder's files stay the same."""
    folder = Path(processed_dir).resolve()
    signature = _signature(folder)
    cached = _tables.get((folder, what))
    if cached is None or cached[0] != signature:
        cached = _tables[(folder, what)] = (signature, read(folder))
    return cached[1]


def _shallow(frame: Any) -> Any:
    return None if frame is None else frame.copy(deep=False)


def load_plan_inputs(processed_dir: str | Path):
    """:func:`cchc_lib.plan.load_plan_inputs`, read once per process while the folder's files
    stay the same; each call gets its own frames (shallow copies, as :func:`load_processed`)."""
    from dataclasses import fields

    from cchc_lib.plan import PlanInputs
    from cchc_lib.plan import load_plan_inputs as read

    inputs = _read_once(processed_dir, "plan inputs", read)
    return PlanInputs(**{f.name: _shallow(getattr(inputs, f.name)) for f in fields(PlanInputs)})


def load_manual_figures(processed_dir: str | Path):
    """:func:`cchc_lib.manual_figures.load_manual_figures`, read once per process while the
    folder's files stay the same; each call gets its own frame (a shallow copy)."""
    from cchc_lib.manual_figures import load_manual_figures as read

    return _shallow(_read_once(processed_dir, "manual figures", read))


def source_of(data: Any) -> Any | None:
    """The data that ``data`` was copied from by :func:`load_processed`, or None when it does
    not come from there (then nothing is remembered for it)."""
    entry = _copies.get(id(data))
    if entry is None or entry[0]() is not data:
        return None
    original = entry[1]
    current = _loaded.get(next((k for k, v in _loaded.items() if v[1] is original), None))
    return original if current is not None else None  # a read since replaced: not remembered


def derived(data: Any, key: Hashable, compute: Callable[[], Any]) -> Any:
    """``compute()``, a value that depends only on ``data`` (its dossiers and the conventions they
    are counted under) and ``key``: for data read by
    :func:`load_processed`, computed once per read and handed out as a deep copy; for any other
    data (built by hand, say, and perhaps changed between calls) computed every time."""
    source = source_of(data)
    if source is None:
        return compute()
    return copy.deepcopy(_remembered(source, data, key, compute))


def derived_part(data: Any, key: Hashable, compute: Callable[[], dict], part: Hashable) -> Any:
    """``compute()[part]``, where ``compute()`` is a dict of values that depend only on ``data``
    and ``key`` (as :func:`derived`): computed once per read for all its parts, each part handed
    out as a deep copy of its own (a batch's frames of every period, one period's at a time).
    For data not read by :func:`load_processed`, computed every time."""
    source = source_of(data)
    if source is None:
        return compute()[part]
    return copy.deepcopy(_remembered(source, data, key, compute)[part])


def _remembered(source: Any, data: Any, key: Hashable, compute: Callable[[], Any]) -> Any:
    entry = _derived.get(id(source))
    if entry is None or entry[0]() is not source:
        entry = (weakref.ref(source), {})
        _derived[id(source)] = entry
    values = entry[1]
    # The same read counted under other conventions gives other numbers.
    key = (key, getattr(data, "conventions", None))
    if key not in values:
        values[key] = compute()
    return values[key]
