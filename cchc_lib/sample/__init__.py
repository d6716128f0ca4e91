"""The sample data set (``cchc sample``, ``make sample``): a deterministic, realistic stand-in for
the department's exports in the data/raw layout, with the faults real exports have.

``dossiers`` writes the catalogue, the monthly dossier exports (CSV, XLSX and the portal's
HTML-as-.xls, ``real``) and the feedback; ``plan`` the plan's own tables (documents, work files,
staff, plan tasks).
"""

from __future__ import annotations

from pathlib import Path

from cchc_lib.sample.dossiers import DEFAULT_SEED, write_dossier_sample
from cchc_lib.sample.plan import write_plan_sample

__all__ = ["DEFAULT_SEED", "write_sample"]


def write_sample(out: Path, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write the whole sample data set under ``out``; return the files written."""
    return [*write_dossier_sample(Path(out), seed), *write_plan_sample(Path(out), seed)]
