"""Checks at the edges of the commands, done before any work so that a bad request ends with
one line and a documented exit code instead of a traceback or an empty report:

- an output folder or file that cannot be written (`OutputError`, exit 6);
- a period with no data at all (`period_has_data`, exit 3 in ``cchc report`` and the monthly job);
- a mail header value with a line break (`header_problem`, exit 2 in ``cchc send``).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pandas as pd

from cchc_lib.atomic import temp_path
from cchc_lib.periods import Period


class OutputError(OSError):
    """An output (a folder, the Biểu 06 workbook, a dry-run message) cannot be written."""

    def __init__(self, path: str | Path, exc: BaseException):
        reason = getattr(exc, "strerror", None) or str(exc)
        super().__init__(f"Không ghi được {path}: {reason}")
        self.path = Path(path)


def check_writable_dir(folder: str | Path, output: str | Path | None = None) -> None:
    """Prove that ``folder`` can be written, or made and written, without making it: a file can
    be created in it or in its nearest existing parent (and is removed at once). The message
    names ``output`` (what the user asked for) when given, else the folder."""
    folder = Path(folder)
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        if not existing.is_dir():  # a file where a folder should be
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(existing))
        temp_path(existing / ".cchc-write-test").unlink()
    except OSError as exc:
        raise OutputError(output or folder, exc) from exc


def check_writable_file(path: str | Path) -> None:
    """The folder of ``path`` is writable and ``path`` is not a folder."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(path, IsADirectoryError(21, "đây là một thư mục, không phải tệp"))
    check_writable_dir(path.parent, output=path)


def period_has_data(processed_dir: str | Path, period: Period, department: str | None = None) -> bool:
    """Whether any dossier (of ``department``) was received, completed or handed back in the
    period. A period with none has nothing to report: an empty report is worse than a message.
    True when the processed data cannot be read (the report itself then says why)."""
    from cchc_lib.generations import resolve

    path = resolve(processed_dir) / "dossiers.parquet"
    if not path.is_file():
        return True
    columns = ["received_at", "completed_at", "returned_at", "department"]
    try:
        dossiers = pd.read_parquet(path, columns=columns)
    except (OSError, ValueError, KeyError):
        return True
    if department:
        dossiers = dossiers[dossiers["department"] == department]
    start, end = pd.Timestamp(period.start), pd.Timestamp(period.end)
    for column in columns[:3]:
        when = dossiers[column]
        if ((when >= start) & (when < end)).any():
            return True
    return False


def no_data_message(period: Period, department: str | None = None) -> str:
    unit = f" của {department}" if department else ""
    return (
        f"Không có dữ liệu hồ sơ nào{unit} trong kỳ {period.label_vi} "
        f"({period.start:%d/%m/%Y} – {period.last_day:%d/%m/%Y}): không lập báo cáo rỗng. "
        "Hãy bổ sung tệp xuất dữ liệu của kỳ này vào data/raw/dossiers/ rồi chạy lại."
    )


def header_problem(name: str, values: list[str] | str | None) -> str | None:
    """A message when a mail header value holds a line break (header injection), else None."""
    if values is None:
        return None
    for value in [values] if isinstance(values, str) else values:
        if any(ch in value for ch in "\r\n\x00"):
            return f"{name} không được chứa ký tự xuống dòng: {value!r}"
    return None
