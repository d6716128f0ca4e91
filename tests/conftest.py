"""Shared fixtures."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

RAW = Path(__file__).resolve().parent.parent / "data" / "raw"

# Every test gets one of three markers (pytest -m unit is `make test-fast`): browser tests by
# module, integration tests by the session fixtures they use or by starting a kernel in their
# own body; the rest are unit tests.
BROWSER_MODULES = {"test_browser.py", "test_firefox.py", "test_explorer_browser.py"}
INTEGRATION_FIXTURES = {"rendered_reports", "planted_report", "sample_processed_dir", "sample_processed"}
STARTS_A_KERNEL = re.compile(
    r"render_report\(|render_batch\(|run_batch\(|render_plan_report\(|execute_notebook\(|run_one\("
    r"|run_jobs\(|main\(\[\"report\"|\"report\", \"--|subprocess|sys\.executable")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.name in BROWSER_MODULES:
            item.add_marker(pytest.mark.browser)
            continue
        if item.get_closest_marker("integration"):
            continue
        function = getattr(item, "function", None)
        source = inspect.getsource(function) if function is not None else ""
        uses = set(getattr(item, "fixturenames", ()))
        if uses & INTEGRATION_FIXTURES or STARTS_A_KERNEL.search(source):
            item.add_marker(pytest.mark.integration)
        else:
            item.add_marker(pytest.mark.unit)


@pytest.fixture(scope="session")
def sample_processed_dir(tmp_path_factory) -> Path:
    """The bundled sample (data/raw) ingested once per session into a temporary folder.
    Skips while the sample data or the ingest are not in the tree yet."""
    if not any(RAW.glob("dossiers/*")):
        pytest.skip("data/raw has no sample dossiers yet")
    ingest = pytest.importorskip("cchc_lib.ingest.run")
    out = tmp_path_factory.mktemp("processed")
    ingest.run_ingest(RAW, out)
    return out


@pytest.fixture(scope="session")
def sample_processed(sample_processed_dir):
    """The ingested sample loaded as ProcessedData."""
    from cchc_lib.processed import load_processed

    return load_processed(sample_processed_dir)


# Reports rendered once per session (each render starts a kernel): used by test_reports.py and
# test_browser.py.
from tests.report_fixtures import planted_report, rendered_reports  # noqa: E402, F401


@pytest.fixture
def watch_dossier_reads(monkeypatch):
    """A function that, called, starts recording the column lists read from the dossier file
    (``DossierFile.columns``), in order, into the list it returns; from then on reading the
    file whole (``DossierFile.frame``) fails the test."""
    from cchc_lib import dossier_source

    def watch() -> list[list[str]]:
        read: list[list[str]] = []
        original = dossier_source.DossierFile.columns

        def columns(self, names, ids=None, received_by=None):
            read.append(list(names))
            return original(self, names, ids, received_by)

        def whole(self):
            raise AssertionError("the dossier file was read whole")

        monkeypatch.setattr(dossier_source.DossierFile, "columns", columns)
        monkeypatch.setattr(dossier_source.DossierFile, "frame", whole)
        return read

    return watch
