"""Reporting conventions as data (conventions.md §2-3): how a dossier is counted and which data
window a period covers.

One small YAML file (``conventions.yaml`` in the package holds the defaults) chosen per agency
with ``--conventions FILE``; ``--window calendar|nd09`` overrides both windows for one run.
Ingest is convention-free: the conventions apply when numbers are computed, through
:func:`counted_dossiers`, the one place that turns processed dossiers into the dossiers that
count (never-received registrations out, withdrawn ones per the convention, due instants per
the timeliness convention, the clock-stopped flag).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path

import pandas as pd
import yaml

from cchc_lib.formatting import yaml_error_place

DEFAULT_CONVENTIONS_PATH = Path(__file__).with_name("conventions.yaml")

# key -> allowed values, the default first (conventions.md §3).
CHOICES: dict[str, tuple[str, ...]] = {
    "timeliness": ("instant", "day"),
    "withdrawn": ("by_dates", "on_time", "excluded"),
    "window": ("calendar", "nd09"),
    "official_window": ("nd09", "calendar"),
}
WINDOWS = CHOICES["window"]

NOT_RECEIVED = "not_received"
WITHDRAWN = "withdrawn"
# The law stops the clock while the citizen acts (supplement, fee) or the agency suspended it.
CLOCK_STOPPED = ("awaiting_supplement", "awaiting_payment", "suspended")
END_OF_DAY = pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)


class ConventionsError(ValueError):
    """A conventions file that cannot be used: unreadable, unknown key or value (one line)."""


@dataclass(frozen=True)
class Conventions:
    timeliness: str = "instant"
    withdrawn: str = "by_dates"
    window: str = "calendar"
    official_window: str = "nd09"
    source: str | None = None  # the file they came from; None = the project's defaults

    def with_window(self, window: str | None) -> Conventions:
        """Both windows set to ``window`` (the ``--window`` flag); unchanged when None."""
        if window is None:
            return self
        if window not in WINDOWS:
            raise ConventionsError(f"--window chỉ nhận {' hoặc '.join(WINDOWS)}, không nhận '{window}'")
        return replace(self, window=window, official_window=window)

    def as_dict(self) -> dict[str, str]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "source"}


DEFAULT = Conventions()


def as_conventions(value: object) -> Conventions | None:
    """Conventions from a Conventions, the dict of its values (a notebook parameter) or None."""
    if value is None or isinstance(value, Conventions):
        return value
    return Conventions(**dict(value))


def as_parameter(conventions: object) -> dict | None:
    """The conventions as a papermill parameter (plain values), None for the defaults."""
    from dataclasses import asdict

    conventions = as_conventions(conventions)
    return None if conventions is None else asdict(conventions)


def load_conventions(path: str | Path | None = None, window: str | None = None) -> Conventions:
    """The conventions of a file (the packaged defaults when None), keys it omits at their
    defaults, then ``window`` (if given) for both windows. ConventionsError: one line."""
    src = Path(path) if path is not None else DEFAULT_CONVENTIONS_PATH
    try:
        raw = yaml.safe_load(src.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConventionsError(f"không đọc được tệp quy ước {src}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ConventionsError(f"tệp quy ước {src} không đúng cú pháp YAML{yaml_error_place(exc)}") from None
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise ConventionsError(f"tệp quy ước {src} phải là các dòng 'khóa: giá trị'")
    values: dict[str, str] = {}
    for key, value in raw.items():
        if key not in CHOICES:
            raise ConventionsError(
                f"tệp quy ước {src}: khóa '{key}' không có; các khóa: {', '.join(CHOICES)}"
            )
        text = str(value).strip() if value is not None else ""
        if text not in CHOICES[key]:
            raise ConventionsError(
                f"tệp quy ước {src}: '{key}: {value}' không hợp lệ; chọn một trong: {', '.join(CHOICES[key])}"
            )
        values[key] = text
    source = None if path is None else str(src)
    return Conventions(**values, source=source).with_window(window)


# -- applying them ---------------------------------------------------------------------------


def counted_dossiers(dossiers: pd.DataFrame, conventions: Conventions = DEFAULT) -> pd.DataFrame:
    """The processed dossiers that enter numbers under ``conventions``, with an added boolean
    ``clock_stopped`` column:

    - ``not_received`` registrations are dropped (kept in processed data, counted nowhere);
    - withdrawn dossiers are dropped under ``withdrawn: excluded``; under ``on_time`` their due
      instant becomes the end of their completion day (so they are resolved on the day);
    - under ``timeliness: day`` every due instant becomes the end of its due date, so comparing
      instants compares dates (late = a later date, early = an earlier date);
    - ``clock_stopped``: a dossier waiting for the citizen or suspended, with no completion, is
      pending within time at every period end whatever its due date.
    """
    status = dossiers["status"].astype("string")
    drop = (status == NOT_RECEIVED).to_numpy(dtype=bool, na_value=False)
    if conventions.withdrawn == "excluded":
        drop |= (status == WITHDRAWN).to_numpy(dtype=bool, na_value=False)
    frame = dossiers[~drop] if drop.any() else dossiers
    status = frame["status"].astype("string")
    completed = frame["completed_at"]
    due = frame["due_at"]
    if conventions.timeliness == "day":
        due = due.dt.normalize() + END_OF_DAY
    if conventions.withdrawn == "on_time":
        withdrawn = (status == WITHDRAWN).to_numpy(dtype=bool, na_value=False) & completed.notna().to_numpy()
        if withdrawn.any():
            due = due.where(~withdrawn, completed.dt.normalize() + END_OF_DAY)
    stopped = status.isin(CLOCK_STOPPED).to_numpy(dtype=bool, na_value=False) & completed.isna().to_numpy()
    # A shallow copy: the other columns are shared, not copied (a million rows of strings).
    out = frame.copy(deep=False)
    out["due_at"] = due
    out["clock_stopped"] = stopped
    return out


def not_received_count(dossiers: pd.DataFrame) -> int:
    return int((dossiers["status"] == NOT_RECEIVED).sum()) if "status" in dossiers else 0


# -- saying which conventions produced a number ---------------------------------------------------


def window_span(period, window: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """(first day, last day) of ``period`` under ``window``."""
    p = period.with_window(window)
    return p.start, p.last_day


def period_label_vi(period, window: str) -> str:
    """``Quý I/2023`` (calendar) or ``Quý I/2023 (số liệu từ 15/12/2022 đến 14/03/2023)``."""
    return period.with_window(window).label_window_vi


_TIMELINESS_VI = {
    "instant": (
        "Trước hạn, đúng hạn, quá hạn xét theo thời điểm: hồ sơ quá hạn khi có kết quả sau thời điểm "
        "hẹn trả (hẹn trả chỉ ghi ngày thì tính đến hết ngày đó); trước hạn khi có kết quả vào một "
        "ngày trước ngày hẹn trả; đúng hạn là các hồ sơ còn lại."
    ),
    "day": (
        "Trước hạn, đúng hạn, quá hạn xét theo ngày (như Biểu 06 của Hệ thống một cửa điện tử): quá "
        "hạn khi ngày có kết quả sau ngày hẹn trả, đúng hạn khi cùng ngày, trước hạn khi sớm hơn; hồ "
        "sơ đang giải quyết là quá hạn ở cuối kỳ khi ngày hẹn trả là ngày cuối kỳ hoặc sớm hơn."
    ),
}
_WITHDRAWN_VI = {
    "by_dates": "Hồ sơ công dân rút được xếp trước hạn, đúng hạn hay quá hạn theo ngày như mọi hồ sơ khác.",
    "on_time": "Hồ sơ công dân rút luôn được tính là đã giải quyết đúng hạn (trong ngày rút).",
    "excluded": "Hồ sơ công dân rút không được tính vào bất kỳ số liệu nào.",
}
_WINDOW_VI = {
    "calendar": "theo tháng dương lịch (từ 00:00 ngày đầu kỳ đến hết ngày cuối kỳ)",
    "nd09": (
        "theo Nghị định số 09/2019/NĐ-CP, Điều 12 (từ ngày 15 của tháng trước kỳ đến hết ngày 14 "
        "của tháng cuối kỳ)"
    ),
}


def conventions_sentences_vi(conventions: Conventions = DEFAULT, period=None) -> list[str]:
    """The conventions in force, in Vietnamese sentences, for a report's header or methods
    section. With ``period``, the windows are also given as dates for that period."""

    def window_text(window: str, what: str) -> str:
        text = f"{what} {_WINDOW_VI[window]}"
        if period is not None:
            first, last = window_span(period, window)
            from cchc_lib.formatting import fmt_date

            text += f"; {period.label_vi}: từ {fmt_date(first)} đến {fmt_date(last)}"
        return text + "."

    out = [
        window_text(conventions.window, "Kỳ số liệu của các chỉ số, biểu đồ và bảng phân tích tính"),
        window_text(conventions.official_window, "Kỳ số liệu của Biểu 06/VPCP/KSTT tính"),
        _TIMELINESS_VI[conventions.timeliness],
        _WITHDRAWN_VI[conventions.withdrawn],
        "Hồ sơ chưa được tiếp nhận (mới đăng ký trực tuyến, chờ tiếp nhận, bị từ chối tiếp nhận) vẫn "
        "được lưu nhưng không tính vào chỉ số, Biểu 06 hay điểm Chỉ số 766 nào.",
        "Hồ sơ đang chờ công dân bổ sung giấy tờ, chờ thực hiện nghĩa vụ tài chính hoặc đang tạm dừng "
        "xử lý được tính là đang giải quyết trong hạn ở cuối mọi kỳ (thời gian giải quyết tạm dừng).",
        "Hồ sơ từ chối giải quyết hoặc công dân rút mà không ghi ngày có kết quả thì lấy ngày trả kết quả.",
    ]
    if conventions.source:
        out.append(f"Quy ước lấy từ tệp {Path(conventions.source).name}.")
    return out


def conventions_line_vi(conventions: Conventions = DEFAULT) -> str:
    """One short line for a header: ``Quy ước tính: ...``."""
    parts = [
        "đúng hạn xét theo " + ("thời điểm" if conventions.timeliness == "instant" else "ngày"),
        {"by_dates": "hồ sơ rút xét theo ngày", "on_time": "hồ sơ rút tính đúng hạn",
         "excluded": "không tính hồ sơ rút"}[conventions.withdrawn],
        "kỳ số liệu " + ("theo tháng dương lịch" if conventions.window == "calendar" else "theo NĐ 09/2019"),
        "Biểu 06 " + ("theo tháng dương lịch" if conventions.official_window == "calendar"
                      else "theo NĐ 09/2019 (từ ngày 15 đến ngày 14)"),
    ]
    return "Quy ước tính: " + "; ".join(parts) + "."

