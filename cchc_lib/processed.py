"""The processed set as the engine reads it: :class:`ProcessedData` (dossiers read on first
need, the catalogue, PAKN, the ingest report, the day-level aggregate and the conventions they
are counted under) and :func:`load_processed`, which reads it from a processed folder (the
generation now current); :class:`MissingDataError` when there is none yet."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pandas as pd

from cchc_lib import dossier_source
from cchc_lib.conventions import DEFAULT as DEFAULT_CONVENTIONS
from cchc_lib.conventions import Conventions, counted_dossiers
from cchc_lib.daily import DAILY_FILE, read_daily
from cchc_lib.generations import resolve as resolve_generation
from cchc_lib.periods import Period
from cchc_lib.schema import conform


class MissingDataError(Exception):
    """The processed data needed for a computation is not there."""


class MeasureSource(Protocol):
    """What answers ``dossier_measures`` instead of the dossiers (measure_grid.MeasureGrid)."""

    def serves(self, conventions: Conventions, window: str) -> bool: ...
    def measures(self, periods: Sequence[Period], by: str = "overall",
                 department: str | None = None) -> pd.DataFrame: ...


@dataclass
class ProcessedData:
    dossiers: pd.DataFrame  # every processed dossier, never-received registrations included
    procedures: pd.DataFrame
    feedback: pd.DataFrame | None
    ingest_report: dict
    conventions: Conventions = DEFAULT_CONVENTIONS
    _counted: tuple | None = field(default=None, repr=False, compare=False)
    # A prebuilt month grid of the dossier measures (measure_grid.with_grid), read instead.
    grid: MeasureSource | None = field(default=None, repr=False, compare=False)
    # The day-level aggregate (cchc_lib.daily) and the dossiers (file or frame) it sums: used
    # only while they are still ours (a view with other dossiers is computed from them).
    daily: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    daily_of: object | None = field(default=None, repr=False, compare=False)

    def counted(self) -> pd.DataFrame:
        """The dossiers that enter numbers under ``self.conventions`` (see
        conventions.counted_dossiers), computed once per (dossiers, conventions)."""
        key = (id(self.dossiers), self.conventions)
        if self._counted is None or self._counted[0] != key:
            self._counted = (key, counted_dossiers(self.dossiers, self.conventions))
        return self._counted[1]

    def aggregate(self) -> pd.DataFrame | None:
        """The day-level aggregate of ``self.dossiers``, or None when there is none for them."""
        if self.daily is not None and self.daily_of is dossier_source.source_of(self):
            return self.daily
        return None


dossier_source.install(ProcessedData)  # dossiers read on first access


def require_processed(processed_dir: Path) -> Path:
    """The folder of the processed set now in ``processed_dir`` (one set, even if an ingest
    switches meanwhile); MissingDataError when it has no dossiers or no catalogue yet."""
    folder = resolve_generation(Path(processed_dir))
    if not (folder / "dossiers.parquet").exists() or not (folder / "procedures.parquet").exists():
        raise MissingDataError(
            f"Chưa có dữ liệu đã xử lý trong {processed_dir}: hãy chạy `cchc ingest` trước."
        )
    return folder


def load_processed(processed_dir: Path, conventions: Conventions | None = None) -> ProcessedData:
    """The processed set (dossiers read on first need) under ``conventions`` (None: defaults)."""
    processed_dir = Path(processed_dir)
    folder = require_processed(processed_dir)
    dossiers_path = folder / "dossiers.parquet"
    procedures_path = folder / "procedures.parquet"
    dossiers = dossier_source.DossierFile(dossiers_path)  # read on first need, not here
    procedures = conform(pd.read_parquet(procedures_path), "procedures")
    feedback_path = folder / "feedback.parquet"
    feedback = conform(pd.read_parquet(feedback_path), "feedback") if feedback_path.exists() else None
    report = json.loads(rp.read_text("utf-8")) if (rp := folder / "ingest_report.json").exists() else {}
    daily_path = folder / DAILY_FILE
    daily = read_daily(daily_path) if daily_path.exists() else None
    return ProcessedData(dossiers, procedures, feedback, report, conventions or DEFAULT_CONVENTIONS,
                         daily=daily, daily_of=dossiers if daily is not None else None)
