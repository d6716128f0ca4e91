"""The plan beyond dossiers: its detailed task table and its "other plan targets".

Kế hoạch 122/KH-SKH ends with a detailed table (Biểu kế hoạch chi tiết) of tasks, each with a
deadline written in words ("Tháng 6/2023", "Năm 2023", "Thường xuyên" ...). This module reads
those words into deadlines, gives every task a state as of a date, and computes the indicators
of the spec's "Other plan targets" table (e-signed documents, online work files, staff
qualifications and training, petitions handled on time, plan tasks done on time) with the same
output columns as the dossier indicators (`cchc_lib.indicators.COLUMNS`).

Every optional input may be missing: its indicators then say "Chưa có dữ liệu", never fail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cchc_lib.config import profile
from cchc_lib.indicators import (
    COLUMNS,
    GROUP_OVERALL,
    STATUS_NO_DATA,
    STATUS_NO_EVENT,
)
from cchc_lib.manual_figures import SPECS as _extra_specs
from cchc_lib.mapping import norm_key
from cchc_lib.periods import Period
from cchc_lib.schema import conform, flag
from cchc_lib.targets import load_targets, target_text_vi

PLAN_TASKS_2023 = Path(__file__).with_name("data") / "plan_tasks_2023.csv"

# The seven areas, titled exactly as the plan's detailed table titles them.
SECTION_TITLES: dict[str, str] = {
    "I": "Cải cách thể chế",
    "II": "Cải cách thủ tục hành chính",
    "III": "Cải cách tổ chức bộ máy hành chính nhà nước",
    "IV": "Cải cách chế độ công vụ",
    "V": "Cải cách tài chính công",
    "VI": "Xây dựng và phát triển chính quyền điện tử, chính quyền số",
    "VII": "Công tác chỉ đạo, điều hành cải cách hành chính",
}

# Which indicators measure which area of the plan (dossier and catalogue ones included, so the
# plan report can show every target of an area in one place).
AREA_INDICATORS: dict[str, tuple[str, ...]] = {
    "I": (),
    "II": ("ontime_rate", "early_rate", "apology_rate", "online_resolved_share", "online_share",
           "payment_enabled_share",
           "online_payment_share", "satisfaction_rate", "avg_wait_minutes", "synced_share",
           "digitized_share", "full_online_coverage", "national_integration_share",
           "published_share", "form_field_reduction", "feedback_ontime_rate"),
    "III": (),
    "IV": ("degree_share", "postgraduate_share", "state_mgmt_trained_share"),
    "V": (),
    "VI": ("esigned_document_share", "online_workfile_share", "digital_id_share",
           "security_trained_share"),
    "VII": ("plan_task_completion",),
}
# The targets no system exports (cchc_lib.manual_figures) join the area the plan puts them in.
for _spec in _extra_specs.values():
    AREA_INDICATORS[_spec.area] = (*AREA_INDICATORS[_spec.area], _spec.id)

# -- task states -------------------------------------------------------------------------------

DONE_ONTIME = "Hoàn thành đúng hạn"
DONE_LATE = "Hoàn thành quá hạn"
OVERDUE = "Quá hạn chưa hoàn thành"
IN_PROGRESS = "Đang thực hiện"
NOT_DUE = "Chưa đến hạn"
TASK_STATES_VI = (DONE_ONTIME, DONE_LATE, OVERDUE, IN_PROGRESS, NOT_DUE)

KIND_DATED = "dated"
KIND_RECURRING = "recurring"
KIND_UNKNOWN = "unknown"

_END_OF_DAY = pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_RECURRING_WORDS = ("thường xuyên", "hằng năm", "hàng năm", "hằng tháng", "hàng tháng",
                    "hằng quý", "hàng quý", "định kỳ", "liên tục", "theo chỉ đạo", "khi có yêu cầu")

_DAY = re.compile(r"(\d{1,2})\s*/\s*(\d{1,2})\s*/\s*(\d{4})")
_MONTH = re.compile(r"tháng\s*(?:(\d{1,2})\s*(?:-|–|đến(?:\s*tháng)?)\s*)?(\d{1,2})\s*/\s*(\d{4})")
_QUARTER = re.compile(r"quý\s*(?:([ivx]+|\d)\s*(?:-|–|,|và|đến(?:\s*quý)?)\s*)?([ivx]+|\d)\s*/\s*(\d{4})")
_HALF = re.compile(r"(6|9)\s*tháng\s*(đầu|cuối)\s*năm\s*(\d{4})")
_YEAR = re.compile(r"năm\s*(\d{4})(?:\s*(?:-|–|đến)\s*(\d{4}))?")
_BARE_MONTH = re.compile(r"^(\d{1,2})\s*/\s*(\d{4})$")
_BARE_YEAR = re.compile(r"^(\d{4})$")


def _month_end(year: int, month: int) -> pd.Timestamp:
    return pd.Timestamp(year=year, month=month, day=1) + pd.DateOffset(months=1) - pd.Timedelta(
        microseconds=1)


def _quarter_no(text: str) -> int:
    return int(text) if text.isdigit() else _ROMAN[text]


def parse_deadline(text: object) -> tuple[str, pd.Timestamp]:
    """The plan's wording of a deadline -> (kind, last instant by which it must be done).

    "Tháng 6/2023" -> end of 30/06/2023; "Quý II/2023" -> end of 30/06/2023; "Năm 2023" -> end of
    31/12/2023; "15/03/2023" (with or without "trước ngày") -> end of that day; "6 tháng đầu năm
    2023" -> end of June. Recurring wordings ("Thường xuyên", "Thường xuyên; theo chỉ đạo của
    UBND tỉnh", "Hằng quý", "Định kỳ" ...) give kind "recurring" and no date: such a task is
    judged on whether it was reported done in the period. Anything else gives kind "unknown".
    When a wording names several dates ("Tháng 3-6/2023") the latest one is the deadline.
    """
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return KIND_UNKNOWN, pd.NaT
    key = norm_key(text)
    if not key:
        return KIND_UNKNOWN, pd.NaT
    if any(word in key for word in _RECURRING_WORDS):
        return KIND_RECURRING, pd.NaT
    found: list[pd.Timestamp] = []
    try:
        for d, m, y in _DAY.findall(key):
            found.append(pd.Timestamp(year=int(y), month=int(m), day=int(d)) + _END_OF_DAY)
        rest = _DAY.sub(" ", key)  # a full date must not be read again as "month/year"
        for _, m, y in _MONTH.findall(rest):
            found.append(_month_end(int(y), int(m)))
        for _, q, y in _QUARTER.findall(rest):
            found.append(_month_end(int(y), 3 * _quarter_no(q)))
        for months, part, y in _HALF.findall(rest):
            found.append(_month_end(int(y), int(months) if part == "đầu" else 12))
        if not found:
            for y1, y2 in _YEAR.findall(rest):
                found.append(_month_end(int(y2 or y1), 12))
        if not found and (m := _BARE_MONTH.match(rest.strip())):
            found.append(_month_end(int(m.group(2)), int(m.group(1))))
        if not found and (m := _BARE_YEAR.match(rest.strip())):
            found.append(_month_end(int(m.group(1)), 12))
    except (ValueError, KeyError):  # "Tháng 13/2023", "30/02/2023", "Quý V/2023"
        return KIND_UNKNOWN, pd.NaT
    if not found:
        return KIND_UNKNOWN, pd.NaT
    return KIND_DATED, max(found)


def parse_deadlines(texts: pd.Series) -> pd.DataFrame:
    """`parse_deadline` over a column: each distinct wording is parsed once, then mapped."""
    uniques = pd.unique(texts.astype("object"))
    parsed = {u: parse_deadline(u) for u in uniques if not pd.isna(u)}
    kinds = texts.astype("object").map(lambda t: parsed.get(t, (KIND_UNKNOWN, pd.NaT))[0])
    dues = texts.astype("object").map(lambda t: parsed.get(t, (KIND_UNKNOWN, pd.NaT))[1])
    return pd.DataFrame({
        "deadline_kind": kinds.fillna(KIND_UNKNOWN).astype("string"),
        "deadline_at": pd.to_datetime(dues).astype("datetime64[ns]"),
    }, index=texts.index)


def as_of_instant(as_of: object) -> pd.Timestamp:
    """A date given without a time means the end of that day (like a due date)."""
    if isinstance(as_of, str):
        text = as_of.strip()
        ts = pd.to_datetime(text, dayfirst="/" in text)
        has_time = ":" in text
    else:
        ts = pd.Timestamp(as_of)
        has_time = ts != ts.normalize()
    return ts if has_time else ts.normalize() + _END_OF_DAY


_PLAN_DATE = re.compile(r"ngày\s*(\d{1,2})\s*/\s*(\d{1,2})\s*/\s*(\d{4})")


def plan_issued(year: int) -> pd.Timestamp | None:
    """The date the plan of ``year`` was issued, read from its name in the targets file
    ("Kế hoạch số 122/KH-SKH ngày 28/01/2023" -> 28/01/2023); None when not written."""
    match = _PLAN_DATE.search(load_targets(int(year)).plan or "")
    if not match:
        return None
    d, m, y = (int(g) for g in match.groups())
    return pd.Timestamp(year=y, month=m, day=d)


def deadline_before_plan_note(deadline_text: object, issued: pd.Timestamp) -> str:
    """What the report says of a deadline the plan set before its own date."""
    return (f"Kế hoạch ban hành ngày {issued:%d/%m/%Y} nhưng ghi thời hạn «{deadline_text}» "
            f"(trước ngày ban hành): Kế hoạch ghi không thống nhất, nhiệm vụ được đánh giá theo "
            f"hạn cuối năm {issued.year}, không tính là quá hạn so với «{deadline_text}».")


def task_states(tasks: pd.DataFrame, as_of: object, period: Period | None = None,
                issued: pd.Timestamp | None = None) -> pd.DataFrame:
    """Each task with its deadline and its state as of ``as_of``.

    ``period`` is the window in which recurring tasks are judged (default: the calendar year of
    ``as_of``): a recurring task is done when it was reported done inside the period, and it is
    due at the period's end. A done task whose completion date is after ``as_of`` was not yet done
    then. A task reported done without a date is taken as done on time (nothing shows it late).
    ``issued`` is the plan's own date: a deadline before it (task I.2 "Tháng 12/2022" in a plan
    of 28/01/2023) cannot have been meant; such a task is judged against the end of the plan's
    year and carries a ``deadline_note`` saying so, instead of being reported weeks late.
    Added columns: deadline_kind, deadline_at (the plan's date; empty when recurring),
    due_at (the instant the state is judged against), state_vi, days_late, deadline_note.
    """
    at = as_of_instant(as_of)
    if period is None:
        period = Period.parse(str(at.year))
    out = tasks.copy()
    parsed = parse_deadlines(out["deadline_text"])
    out["deadline_kind"] = parsed["deadline_kind"]
    out["deadline_at"] = parsed["deadline_at"]
    window_end = period.end - pd.Timedelta(microseconds=1)
    dated = (out["deadline_kind"] == KIND_DATED).to_numpy()
    due = np.where(dated, out["deadline_at"].to_numpy(), np.datetime64(window_end.to_datetime64()))
    out["deadline_note"] = pd.Series(pd.NA, index=out.index, dtype="string")
    if issued is not None:
        before = dated & (out["deadline_at"] < pd.Timestamp(issued).normalize()).to_numpy()
        year_end = np.datetime64(_month_end(pd.Timestamp(issued).year, 12).to_datetime64())
        due = np.where(before, year_end, due)
        out.loc[before, "deadline_note"] = [
            deadline_before_plan_note(t, pd.Timestamp(issued)) for t in out.loc[before, "deadline_text"]]
    out["due_at"] = pd.Series(due, index=out.index).astype("datetime64[ns]")

    state = out["task_state"].astype("string")
    completed = out["completed_at"].astype("datetime64[ns]")
    reported_done = (state == "done").fillna(False).to_numpy()
    has_date = completed.notna().to_numpy()
    comp = completed.to_numpy()
    with np.errstate(invalid="ignore"):
        done_by_then = reported_done & (~has_date | (comp <= np.datetime64(at.to_datetime64())))
        # A recurring task done before the period was done for an earlier period, not this one.
        before_window = has_date & (comp < np.datetime64(period.start.to_datetime64()))
    done = done_by_then & (dated | ~before_window)
    late = done & has_date & (comp > out["due_at"].to_numpy())
    # Judged at the close of ``as_of``: a task due that very day and not done is overdue.
    overdue = ~done & (np.datetime64(at.to_datetime64()) >= out["due_at"].to_numpy())
    working = ((state == "in_progress").fillna(False).to_numpy() | reported_done) & ~done

    out["state_vi"] = np.select(
        [done & ~late, done & late, overdue, working],
        [DONE_ONTIME, DONE_LATE, OVERDUE, IN_PROGRESS],
        default=NOT_DUE,
    )
    out["state_vi"] = out["state_vi"].astype("string")
    # Days late: for a late completion, completion - due; for an open overdue task, as_of - due.
    late_delta = np.where(late, comp - out["due_at"].to_numpy(),
                          np.where(overdue, np.datetime64(at.to_datetime64()) - out["due_at"].to_numpy(),
                                   np.timedelta64("NaT")))
    out["days_late"] = pd.Series(np.ceil(pd.to_timedelta(late_delta).total_seconds() / 86400),
                                 index=out.index).astype("Int64")
    return out


# -- optional inputs ---------------------------------------------------------------------------

PLAN_TABLES = ("documents", "workfiles", "staff", "plan_tasks", "feedback")


@dataclass
class PlanInputs:
    """The optional processed tables the plan indicators read; None = the file is missing."""

    documents: pd.DataFrame | None = None
    workfiles: pd.DataFrame | None = None
    staff: pd.DataFrame | None = None
    plan_tasks: pd.DataFrame | None = None
    feedback: pd.DataFrame | None = None


def load_plan_inputs(processed_dir: Path | str) -> PlanInputs:
    """Read each optional ``<table>.parquet`` that exists in ``processed_dir``."""
    from cchc_lib.generations import resolve

    processed_dir = resolve(processed_dir)  # one set, even if an ingest switches meanwhile
    frames = {}
    for table in PLAN_TABLES:
        path = processed_dir / f"{table}.parquet"
        frames[table] = conform(pd.read_parquet(path), table) if path.exists() else None
    return PlanInputs(**frames)


def shipped_plan_tasks(year: int = 2023) -> pd.DataFrame:
    """The plan's own task table of the agency profile (``plan_tasks_<year>.csv`` in its
    ``plan_tasks`` folder), as canonical columns (states empty). FileNotFoundError without one."""
    folder = profile().plan_tasks_dir
    if folder is None:
        raise FileNotFoundError(f"plan_tasks_{year}.csv: the agency profile names no plan_tasks folder")
    path = folder / f"plan_tasks_{year}.csv"
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame = pd.DataFrame({
        "section": raw["Mục"], "task_no": raw["STT"].astype(int), "content": raw["Nội dung"],
        "product": raw["Sản phẩm"], "lead_unit": raw["Đơn vị chủ trì"],
        "partner_unit": raw["Đơn vị phối hợp"], "deadline_text": raw["Thời gian thực hiện"],
        "task_state": pd.NA, "completed_at": pd.NaT, "result_document": pd.NA,
        "source_file": path.name, "source_row": np.arange(2, len(raw) + 2),
    })
    return conform(frame.replace("", pd.NA), "plan_tasks")


# -- indicators --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanIndicatorDef:
    id: str
    label_vi: str
    table: str


PLAN_INDICATORS: tuple[PlanIndicatorDef, ...] = (
    PlanIndicatorDef("esigned_document_share",
                     "Tỷ lệ văn bản trao đổi dạng điện tử có ký số (trừ văn bản mật)", "documents"),
    PlanIndicatorDef("online_workfile_share",
                     "Tỷ lệ hồ sơ công việc xử lý trên môi trường mạng (trừ hồ sơ mật)", "workfiles"),
    PlanIndicatorDef("degree_share", "Tỷ lệ công chức có trình độ đại học trở lên", "staff"),
    PlanIndicatorDef("postgraduate_share", "Tỷ lệ công chức có trình độ trên đại học", "staff"),
    PlanIndicatorDef("state_mgmt_trained_share",
                     "Tỷ lệ công chức được bồi dưỡng kiến thức quản lý nhà nước theo ngạch", "staff"),
    PlanIndicatorDef("digital_id_share", "Tỷ lệ công chức được gắn định danh số", "staff"),
    PlanIndicatorDef("security_trained_share",
                     "Tỷ lệ công chức được tuyên truyền, bồi dưỡng về chuyển đổi số, an toàn thông tin",
                     "staff"),
    PlanIndicatorDef("feedback_ontime_rate", "Tỷ lệ phản ánh, kiến nghị được xử lý đúng hạn",
                     "feedback"),
    PlanIndicatorDef("plan_task_completion",
                     "Tỷ lệ nhiệm vụ trong Biểu kế hoạch chi tiết hoàn thành đúng hạn", "plan_tasks"),
)
PLAN_INDICATOR_IDS = tuple(d.id for d in PLAN_INDICATORS)


def check_target_names(year: int) -> None:
    """TargetsError when the targets file of ``year`` names an indicator that nothing computes
    (the engine's, the plan's other targets, the hand-entered figures): a misspelt name would
    leave that indicator without a target, silently. The message suggests the nearest name."""
    import difflib

    from cchc_lib.indicators import INDICATORS
    from cchc_lib.targets import TargetsError, targets_version

    known = [*INDICATORS, *PLAN_INDICATOR_IDS, *_extra_specs]
    unknown = [name for name in load_targets(int(year)).entries if name not in known]
    if unknown:
        near = difflib.get_close_matches(unknown[0], known, n=1)
        hint = f" (có phải '{near[0]}'?)" if near else ""
        raise TargetsError(f"tệp chỉ tiêu {targets_version(int(year))[0]}: chỉ tiêu '{unknown[0]}' "
                           f"không có trong danh mục chỉ tiêu{hint}")

_DEGREE = ("doctorate", "master", "bachelor")
_POSTGRADUATE = ("doctorate", "master")


def _known(frame: pd.DataFrame, column: str) -> bool:
    """The column carries information (an export without it leaves it all <NA>)."""
    return bool(frame[column].notna().any())


def _in_period(values: pd.Series, period: Period) -> pd.Series:
    return (values >= period.start) & (values < period.end)


def _counts(inputs: PlanInputs, period: Period,
            as_of: object = None) -> dict[str, tuple[float, float] | None]:
    """(numerator, denominator) per indicator; None when its input is missing."""
    out: dict[str, tuple[float, float] | None] = dict.fromkeys(PLAN_INDICATOR_IDS)

    docs = inputs.documents
    if docs is not None and len(docs) and _known(docs, "esigned"):
        docs = docs[_in_period(docs["document_date"], period).fillna(False).to_numpy()]
        docs = docs[~flag(docs, "classified")]
        # A signed document is electronic by nature; one marked paper cannot count.
        ok = flag(docs, "esigned") & (docs["doc_form"] != "paper").fillna(True)
        out["esigned_document_share"] = (float(ok.sum()), float(len(docs)))

    files = inputs.workfiles
    if files is not None and len(files) and _known(files, "online"):
        # Work files carry only a year: any period is judged on the files of its year.
        files = files[(files["year"] == period.year).fillna(False).to_numpy()]
        files = files[~flag(files, "classified")]
        out["online_workfile_share"] = (float(flag(files, "online").sum()), float(len(files)))

    staff = inputs.staff
    if staff is not None and len(staff):
        staff = staff[(staff["year"] == period.year).fillna(False).to_numpy()]
        if len(staff):  # no register for that year: no data, not "nothing happened"
            if _known(staff, "qualification"):
                known = staff["qualification"].dropna()
                out["degree_share"] = (float(known.isin(_DEGREE).sum()), float(len(known)))
                out["postgraduate_share"] = (float(known.isin(_POSTGRADUATE).sum()), float(len(known)))
            for ind, col in (("state_mgmt_trained_share", "state_mgmt_trained"),
                             ("digital_id_share", "digital_id"),
                             ("security_trained_share", "security_trained")):
                if _known(staff, col):
                    out[ind] = (float(flag(staff, col).sum()), float(len(staff)))

    fb = inputs.feedback
    if fb is not None:
        handled = fb[_in_period(fb["handled_at"], period).fillna(False).to_numpy()]
        ontime = (handled["handled_at"] <= handled["due_at"]).fillna(False)
        out["feedback_ontime_rate"] = (float(ontime.sum()), float(len(handled)))

    tasks = inputs.plan_tasks
    if tasks is not None and len(tasks) and _known(tasks, "task_state"):
        at = period.end - pd.Timedelta(microseconds=1) if as_of is None else as_of_instant(as_of)
        states = task_states(tasks, at, period, plan_issued(period.year))
        due = (states["due_at"] <= at).to_numpy()  # tasks due by then (recurring: the period end)
        ontime = (states["state_vi"] == DONE_ONTIME).to_numpy() & due
        out["plan_task_completion"] = (float(ontime.sum()), float(due.sum()))
    return out


def _status(value: float, op: str | None, level: float) -> str:
    from cchc_lib.targets import status_for

    return status_for(None if np.isnan(value) else value, op, None if np.isnan(level) else level)


def _rows(inputs: PlanInputs, period: Period, as_of: object = None) -> pd.DataFrame:
    counts = _counts(inputs, period, as_of)
    targets = load_targets(period.year)
    rows = []
    for d in PLAN_INDICATORS:
        t = targets.get(d.id)
        pair = counts[d.id]
        num, den = (np.nan, np.nan) if pair is None else pair
        value = num / den if pair is not None and den > 0 else np.nan
        target = np.nan if t is None or t.value is None else t.value
        target_min = np.nan if t is None or t.value_min is None else t.value_min
        op = t.op if t is not None else None
        if pair is None:
            status = status_min = STATUS_NO_DATA
        elif den == 0:
            status = status_min = STATUS_NO_EVENT
        else:
            status = _status(value, op, target)
            status_min = _status(value, op, target_min)
        rows.append({
            "period": period.code, "group_by": "overall", "group": GROUP_OVERALL,
            "indicator": d.id, "numerator": num, "denominator": den, "value": value,
            "target": target, "status": status, "label_vi": d.label_vi, "unit": "rate",
            "target_min": target_min, "target_op": op or "",
            "target_text_vi": target_text_vi(t, "rate", None if targets.available else period.year),
            "target_source": "" if t is None else t.source + (f"; {t.source_min}" if t.source_min else ""),
            "status_min": status_min,
        })
    return pd.DataFrame(rows)


def _as_inputs(data: object, inputs: PlanInputs | None) -> PlanInputs:
    """Take each frame from ``inputs`` first, then from ``data`` (e.g. ProcessedData.feedback)."""
    if isinstance(data, PlanInputs) and inputs is None:
        return data
    merged = {}
    for table in PLAN_TABLES:
        frame = getattr(inputs, table, None) if inputs is not None else None
        if frame is None:
            frame = getattr(data, table, None)
        merged[table] = None if frame is None else conform(frame, table)
    return PlanInputs(**merged)


def plan_indicators(data: object, period: Period, inputs: PlanInputs | None = None,
                    as_of: object = None) -> pd.DataFrame:
    """The "other plan targets" for one period, tidy, with the dossier indicators' columns.

    ``data`` is the indicator engine's ProcessedData (its ``feedback`` is used) or a PlanInputs;
    ``inputs`` supplies the frames ProcessedData lacks (see `load_plan_inputs`). A missing frame
    gives status "Chưa có dữ liệu"; a zero denominator gives "Không phát sinh".
    ``as_of`` (default: the period's end) is the date plan tasks are judged at: the tasks due by
    then count, recurring ones being due at the period's end.
    """
    if isinstance(period, str):
        period = Period.parse(period)
    merged = _as_inputs(data, inputs)
    rows = _rows(merged, period, as_of)
    for prefix, other in (("prev", period.previous()), ("yoy", period.same_last_year())):
        rows[f"{prefix}_value"] = _rows(merged, other)["value"].to_numpy(dtype=float)
    rows["change_prev"] = rows["value"] - rows["prev_value"]
    rows["change_yoy"] = rows["value"] - rows["yoy_value"]
    for col in ("numerator", "denominator", "value", "target", "target_min"):
        rows[col] = rows[col].astype(float)
    return rows[COLUMNS]
