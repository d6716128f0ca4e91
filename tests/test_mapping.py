"""mapping.yaml is the one file analysts edit when an export spells its headers or values
otherwise: an edit that breaks its shape or its YAML is one clear line naming the file and the
key, never a Python traceback."""

from __future__ import annotations

import pytest

from cchc_lib.cli import main
from cchc_lib.mapping import DEFAULT_MAPPING_PATH, MappingError, load_mapping
from tests.ingest_helpers import csv_text, dossier_rows, make_raw


def test_the_packaged_mapping_has_the_shape_it_asks_for():
    mapping = load_mapping(DEFAULT_MAPPING_PATH)
    assert mapping.header_lookup("dossiers")["mã hồ sơ"] == "dossier_id"
    assert mapping.value_lookup("yes_no")["có"] is True


@pytest.mark.parametrize(("text", "after_the_path"), [
    ("headers: [1, 2\n", " không đúng cú pháp YAML (dòng 2, cột 1)"),
    ("- headers\n", ": nội dung phải là các mục headers, personal, values"),
    ("header:\n  dossiers: {}\n", ": mục 'header' không có; các mục: headers, personal, values"),
    ("headers: [1, 2]\n",
     ": 'headers' phải gồm các nhóm 'tên:' (mỗi nhóm là các dòng 'mã: [cách viết, ...]')"),
    ("headers:\n  dossiers: 5\n", ": 'headers.dossiers' phải là các dòng 'mã: [cách viết, ...]'"),
    ("headers:\n  dossiers:\n    dossier_id: {a: 1}\n",
     ": 'headers.dossiers.dossier_id' phải là một cách viết hoặc danh sách [cách viết, ...]"),
    ("values:\n  yes_no: [a]\n", ": 'values.yes_no' phải là các dòng 'mã: [cách viết, ...]'"),
    ("personal: {a: 1}\n", ": 'personal' phải là một cách viết hoặc danh sách [cách viết, ...]"),
])
def test_a_broken_mapping_names_the_file_and_the_key(tmp_path, text, after_the_path):
    path = tmp_path / "anh-xa.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError) as info:
        load_mapping(path)
    assert str(info.value) == f"tệp ánh xạ {path}{after_the_path}"


def test_cchc_ingest_with_a_broken_mapping_says_one_line(tmp_path, capsys):
    raw = make_raw(tmp_path / "raw", {"d.csv": csv_text(dossier_rows({}))})
    path = tmp_path / "anh-xa.yaml"
    path.write_text("headers:\n  dossiers: 5\n", encoding="utf-8")
    assert main(["ingest", "--raw", str(raw), "--out", str(tmp_path / "out"), "--mapping", str(path)]) == 1
    err = capsys.readouterr().err
    assert err == (f"Lỗi nhập dữ liệu: tệp ánh xạ {path}: 'headers.dossiers' phải là các dòng "
                   "'mã: [cách viết, ...]'\n")
    assert not (tmp_path / "out" / "dossiers.parquet").exists()
