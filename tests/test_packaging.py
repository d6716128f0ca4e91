"""A non-editable install finds everything cchc reads at run time: the wheel built from this
tree carries the report notebooks, the templates, the targets and the agency profiles, and the
package imported from the unpacked wheel (not from the source tree) uses them."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CHECK = """
import json, papermill
from cchc_lib import config
from cchc_lib.publish.fragments import render
from cchc_lib.targets import load_targets
print(json.dumps({
    "package": str(config.PACKAGE_DIR),
    "report": sorted(papermill.inspect_notebook(str(config.REPORT_NOTEBOOK))),
    "plan": config.PLAN_NOTEBOOK.is_file(),
    "theme": (config.TEMPLATES_DIR / "cchc" / "index.html.j2").is_file(),
    "legend": str(render("status_legend.html.j2", items=[("Đạt", "st-met", "<đạt>")])),
    "agency": config.load_profile(config.EXAMPLE_PROFILE).name,
    "ontime": load_targets(2023).get("ontime_rate").value,
}))
"""


@pytest.mark.integration
def test_an_installed_wheel_finds_its_notebooks_templates_and_profiles(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path / "dist")],
        capture_output=True, text=True, cwd=str(ROOT))
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("cchc-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    ran = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, cwd=str(tmp_path),
                         env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert ran.returncode == 0, ran.stderr[-2000:]
    got = json.loads(ran.stdout)
    assert got["package"] == str(site / "cchc_lib")  # the wheel's copy, not the source tree
    assert {"period", "department", "processed_dir", "as_of", "conventions"} <= set(got["report"])
    assert got["plan"] and got["theme"]
    assert got["legend"] == ("<ul class='status-legend'><li class='lead'>Đánh giá:</li>"
                             "<li><span class='status st-met'>Đạt</span> &lt;đạt&gt;</li></ul>")
    assert got["agency"] == "Sở Tư pháp tỉnh Hà Giang"
    assert got["ontime"] == 1.0  # the packaged plan: 100% on time (II.2)
