"""Atomic outputs (cchc_lib.atomic): renamed into place whole, with the ordinary file mode
(0666 minus the umask), never mkstemp's private 0600."""

from __future__ import annotations

import os
import stat

import pytest

from cchc_lib import atomic


@pytest.fixture
def umask():
    """Set a umask for the test and restore the previous one after it."""
    previous = os.umask(0o022)
    os.umask(previous)

    def set_(mask: int) -> None:
        os.umask(mask)

    yield set_
    os.umask(previous)


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_written_file_gets_the_mode_open_would_give(tmp_path, umask, mask, expected):
    umask(mask)
    assert atomic.current_umask() == mask
    path = atomic.write_bytes_atomic(tmp_path / "sub" / "a.html", b"<p>xin ch\xc3\xa0o</p>")
    assert stat.S_IMODE(path.stat().st_mode) == expected
    # The reference: what a plain open() gives under the same umask.
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert stat.S_IMODE(plain.stat().st_mode) == expected
    assert path.read_bytes().decode() == "<p>xin chào</p>"


def test_failure_keeps_the_previous_file_and_leaves_no_temporary(tmp_path):
    path = atomic.write_text_atomic(tmp_path / "index.html", "cũ")
    with pytest.raises(RuntimeError), atomic.atomic_path(path) as tmp:
        tmp.write_text("mới, dở dang", encoding="utf-8")
        raise RuntimeError("hỏng giữa chừng")
    assert path.read_text(encoding="utf-8") == "cũ"
    assert [p.name for p in tmp_path.iterdir()] == ["index.html"]


def test_atomic_path_keeps_the_suffix_writers_rely_on(tmp_path):
    with atomic.atomic_path(tmp_path / "bieu06.xlsx", suffix=".xlsx") as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".bieu06.xlsx.") and tmp.suffix == ".xlsx"
        tmp.write_bytes(b"x")
    assert (tmp_path / "bieu06.xlsx").read_bytes() == b"x"
