"""What keeps the year batch quick (issue 15) without making one report depend on another: the
warm kernel's imports, the targets read once per file version, and a batch's reports (rendered
after others in the same kernel, with the batch's frames computed together, in any order)
equal to the same reports rendered alone."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

from cchc_lib.config import NOTEBOOKS_DIR
from cchc_lib.publish import runner
from cchc_lib.targets import load_targets

# -- the warm kernel's imports -------------------------------------------------------------------


def _imported_modules(notebook: Path) -> set[str]:
    """The cchc_lib modules a notebook imports (``from cchc_lib.publish import charts, report``
    gives cchc_lib.publish.charts and cchc_lib.publish.report)."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    source = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    modules: set[str] = set()
    for package, names in re.findall(r"^\s*from (cchc_lib\S*) import ([^\n]+)", source, re.M):
        for name in names.split(","):
            name = name.split(" as ")[0].strip()
            full = f"{package}.{name}"
            modules.add(full if importlib.util.find_spec(full) is not None else package)
    return modules


@pytest.mark.parametrize("notebook", ["report.ipynb", "plan.ipynb"])
def test_warm_up_imports_every_module_the_report_notebooks_import(notebook):
    for name in runner.WARM_UP_MODULES:
        assert importlib.util.find_spec(name) is not None, f"{name} does not exist"
    wanted = _imported_modules(NOTEBOOKS_DIR / notebook)
    assert wanted  # the parser found the notebook's imports
    assert wanted <= set(runner.WARM_UP_MODULES)


def test_warm_up_code_imports_the_modules_and_leaves_no_name_behind():
    namespace: dict = {}
    exec(runner.WARM_UP_CODE, namespace)  # noqa: S102 - the runner's own code
    assert set(namespace) == {"__builtins__"}


# -- the targets, read once per file version ------------------------------------------------------


def test_targets_are_read_again_when_the_file_changes_and_handed_out_as_copies(tmp_path):
    path = tmp_path / "2023.yaml"
    path.write_text("plan: KH 1\nindicators:\n  ontime_rate:\n    op: '>='\n    target: 0.9\n"
                    "    source: III.2\n", encoding="utf-8")
    first = load_targets(2023, tmp_path)
    assert first.get("ontime_rate").value == 0.9
    first.entries.clear()  # a caller that edits what it got
    assert load_targets(2023, tmp_path).get("ontime_rate").value == 0.9
    # A new version of the file (another size) is read again.
    path.write_text("plan: KH 2\nindicators:\n  ontime_rate:\n    op: '>='\n    target: 0.95\n"
                    "    source: III.2\n", encoding="utf-8")
    second = load_targets(2023, tmp_path)
    assert (second.plan, second.get("ontime_rate").value) == ("KH 2", 0.95)
    path.unlink()
    assert load_targets(2023, tmp_path).available is False


# -- no report depends on the ones before it --------------------------------------------------------

# What differs between two runs of the same report: the date and time of the run, the ids
# plotly gives the chart divs and the id papermill gives the cell of parameters it injects.
_RUN_STAMP = re.compile(r"Ngày lập báo cáo:(</strong>|\*\*) [^.<]*")
_CHART_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_CELL_ID = re.compile(r"cell-id=[0-9a-f-]+")


def _comparable(html: str) -> str:
    return _CELL_ID.sub("cell-id=ID", _CHART_ID.sub("ID", _RUN_STAMP.sub("STAMP", html)))


def _record(path: Path) -> list[str]:
    """Every cell's outputs of an executed notebook (the record of the run), comparable."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [_comparable(json.dumps(c.get("outputs", []), sort_keys=True, ensure_ascii=False))
            for c in nb["cells"]]


def test_a_batchs_reports_equal_the_same_reports_rendered_alone(sample_processed_dir, tmp_path):
    """Each report of a batch — rendered after the others in one kernel, with the batch's
    indicator frames computed together (cchc_lib.publish.batch_frames), in two orders, in one
    worker and in two — is, byte for byte apart from the run's time stamp and the chart and
    cell ids, the report rendered alone in a kernel of its own; its executed notebook too."""
    from cchc_lib.publish.batch import render_batch

    periods = ["2023-02", "2023-03", "2023-Q1", "2023-12", "2023"]
    after = render_batch(periods, sample_processed_dir, tmp_path / "after", jobs=1)
    reordered = render_batch(periods[::-1], sample_processed_dir, tmp_path / "reordered", jobs=2)[::-1]
    alone = [render_batch([p], sample_processed_dir, tmp_path / "alone", jobs=1)[0] for p in periods]
    assert [r.error for r in after + reordered + alone] == [None] * 15
    for in_batch, other_order, own in zip(after, reordered, alone, strict=True):
        rendered = own.html.read_text(encoding="utf-8")
        assert "Bảng chỉ tiêu" in rendered and _RUN_STAMP.search(rendered) and _CHART_ID.search(rendered)
        for result in (in_batch, other_order):
            assert _comparable(result.html.read_text(encoding="utf-8")) == _comparable(rendered)
            assert _record(result.notebook) == _record(own.notebook)


# -- the plan's other inputs, read once per folder version -------------------------------------------


def test_plan_inputs_and_manual_figures_are_read_again_when_a_file_changes(sample_processed_dir, tmp_path):
    import shutil

    import pandas as pd

    from cchc_lib import datacache
    from cchc_lib.manual_figures import load_manual_figures
    from cchc_lib.plan import load_plan_inputs

    folder = tmp_path / "processed"
    shutil.copytree(sample_processed_dir, folder, symlinks=True)
    first = datacache.load_plan_inputs(folder)
    assert first.staff is not None and len(first.staff)
    first.staff["position"] = "đổi trong báo cáo trước"  # a report that alters what it got
    again = datacache.load_plan_inputs(folder)
    pd.testing.assert_frame_equal(again.staff, load_plan_inputs(folder).staff)
    figures = datacache.load_manual_figures(folder)
    pd.testing.assert_frame_equal(figures, load_manual_figures(folder))
    # Rewritten (here: the first staff row only): read again.
    fewer = load_plan_inputs(folder).staff.iloc[:1]
    target = (folder / "staff.parquet").resolve()
    target.unlink()
    fewer.to_parquet(target)
    assert len(datacache.load_plan_inputs(folder).staff) == 1
