"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

RAW = Path(__file__).resolve().parent.parent / "data" / "raw"


@pytest.fixture(scope="session")
def sample_processed_dir(tmp_path_factory) -> Path:
    """The bundled sample (data/raw) ingested once per session into a temporary folder.
    Skips while the sample data or the ingest are not in the tree yet."""
    if not any(RAW.glob("dossiers/*")):
        pytest.skip("data/raw has no sample dossiers yet")
    ingest = pytest.importorskip("cchc_lib.ingest")
    out = tmp_path_factory.mktemp("processed")
    ingest.run_ingest(RAW, out)
    return out


@pytest.fixture(scope="session")
def sample_processed(sample_processed_dir):
    """The ingested sample loaded as ProcessedData."""
    from cchc_lib.indicators import load_processed

    return load_processed(sample_processed_dir)


# Reports rendered once per session (each render starts a kernel): used by test_reports.py and
# test_browser.py.
from tests.report_fixtures import planted_report, rendered_reports  # noqa: E402, F401
