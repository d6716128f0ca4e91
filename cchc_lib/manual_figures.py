"""Targets the plan sets that no system exports as such (issue 12 §2).

Each is computed where an input carries it (the catalogue's dates, the staff register's
optional columns), otherwise read from ``data/raw/manual_figures.csv`` — columns ``indicator,
period, numerator, denominator, note`` (Vietnamese headers Chỉ tiêu, Kỳ, Tử số, Mẫu số, Nguồn số liệu
also read) — so an analyst can enter a figure the systems do not export; with neither, the
indicator says "Chưa có dữ liệu". Output rows have the engine's columns
(``indicators.COLUMNS``) plus ``figure_source`` (where the number came from, in words).

Which manual figure a period uses: the row of exactly that period; else the latest row of a
period inside it (a year report uses the latest quarter or month entered, and says which).
A row whose period cannot be read, or whose numerator exceeds its denominator, is set aside
with its reason (``set_aside``), never used in silence.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from cchc_lib.indicators import COLUMNS, GROUP_OVERALL, STATUS_NO_DATA, STATUS_NO_EVENT
from cchc_lib.periods import Period, PeriodError
from cchc_lib.schema import MANUAL_FIGURE_INDICATORS, conform, flag
from cchc_lib.targets import load_targets, status_for, target_text_vi

MANUAL_FILE = "manual_figures.csv"
SOURCE_MANUAL = "số liệu nhập tay (data/raw/manual_figures.csv)"


@dataclass(frozen=True)
class ExtraSpec:
    id: str
    label_vi: str
    area: str  # section of the plan's detailed table (I ... VII) the plan report shows it in
    formula_vi: str  # numerator / denominator in words
    base_vi: str  # when it is counted
    source_vi: str  # the input that computes it, or the manual figures alone


_STAFF = "danh sách công chức (data/raw/staff.csv), cột tùy chọn"
_CATALOGUE = "danh mục TTHC (data/raw/procedures.csv): Ngày hiệu lực văn bản, Ngày quyết định công bố"

SPECS: dict[str, ExtraSpec] = {s.id: s for s in (
    ExtraSpec("legal_docs_due_process_share",
              "Tỷ lệ văn bản quy phạm pháp luật được ban hành đúng trình tự, thủ tục", "I",
              "văn bản QPPL ban hành đúng trình tự, thủ tục / văn bản QPPL do Sở tham mưu ban hành",
              "theo kỳ nhập", SOURCE_MANUAL),
    ExtraSpec("procedures_published_timely_share",
              "Tỷ lệ TTHC trình UBND tỉnh công bố kịp thời", "II",
              "TTHC có quyết định công bố không muộn hơn ngày văn bản quy định có hiệu lực / TTHC có "
              "văn bản có hiệu lực hoặc quyết định công bố trong kỳ",
              "theo ngày hiệu lực và ngày quyết định công bố, danh mục của năm báo cáo",
              f"{_CATALOGUE}; không có thì {SOURCE_MANUAL}"),
    ExtraSpec("one_stop_share",
              "Tỷ lệ TTHC được tiếp nhận và giải quyết theo cơ chế một cửa, một cửa liên thông", "II",
              "TTHC tiếp nhận và giải quyết qua một cửa, một cửa liên thông / TTHC thuộc thẩm quyền",
              "theo kỳ nhập", SOURCE_MANUAL),
    ExtraSpec("vc_title_trained_share",
              "Tỷ lệ viên chức được bồi dưỡng theo tiêu chuẩn chức danh nghề nghiệp", "IV",
              "viên chức được bồi dưỡng theo chức danh nghề nghiệp / viên chức",
              "trên danh sách của năm", f"{_STAFF} «Viên chức», «Bồi dưỡng theo chức danh nghề "
              f"nghiệp»; không có thì {SOURCE_MANUAL}"),
    ExtraSpec("appointed_meeting_standard_share",
              "Tỷ lệ công chức đáp ứng tiêu chuẩn trước khi bổ nhiệm ngạch, chức vụ lãnh đạo, quản lý",
              "IV", "công chức được bổ nhiệm trong năm đạt tiêu chuẩn trước khi bổ nhiệm / công chức "
              "được bổ nhiệm trong năm", "trên danh sách của năm",
              f"{_STAFF} «Bổ nhiệm trong năm», «Đạt tiêu chuẩn trước khi bổ nhiệm»; không có thì "
              f"{SOURCE_MANUAL}"),
    ExtraSpec("vc_leaders_trained_before_appointment_share",
              "Tỷ lệ viên chức lãnh đạo, quản lý được bồi dưỡng trước khi bổ nhiệm", "IV",
              "viên chức giữ chức vụ lãnh đạo, quản lý đã được bồi dưỡng trước khi bổ nhiệm / viên "
              "chức giữ chức vụ lãnh đạo, quản lý", "trên danh sách của năm",
              f"{_STAFF} «Viên chức», «Lãnh đạo», «Bồi dưỡng trước khi bổ nhiệm»; không có thì "
              f"{SOURCE_MANUAL}"),
    ExtraSpec("popular_services_integrated_share",
              "Tỷ lệ DVCTT mức độ 3, 4 phổ biến, liên quan nhiều người dân, doanh nghiệp được tích hợp "
              "lên Cổng DVCQG", "VI",
              "DVCTT phổ biến được tích hợp lên Cổng DVCQG / DVCTT mức độ 3, 4 phổ biến",
              "theo kỳ nhập", SOURCE_MANUAL),
    ExtraSpec("heads_dx_informed_share",
              "Tỷ lệ người đứng đầu các phòng chuyên môn được tuyên truyền về chuyển đổi số, an toàn "
              "thông tin", "VI",
              "lãnh đạo các phòng được tuyên truyền, tập huấn chuyển đổi số - an toàn thông tin / "
              "lãnh đạo các phòng (cột «Lãnh đạo»)", "trên danh sách của năm",
              f"{_STAFF} «Lãnh đạo», «Tập huấn chuyển đổi số - an toàn thông tin»; không có thì "
              f"{SOURCE_MANUAL}"),
    ExtraSpec("unified_governance_share",
              "Tỷ lệ hoạt động chỉ đạo, điều hành, quản trị nội bộ trên nền tảng quản trị tổng thể, "
              "thống nhất", "VI",
              "hoạt động thực hiện trên nền tảng quản trị tổng thể / hoạt động chỉ đạo, điều hành, "
              "quản trị nội bộ", "theo kỳ nhập", SOURCE_MANUAL),
    ExtraSpec("electronic_records_share",
              "Tỷ lệ hồ sơ được tạo, lưu giữ, chia sẻ dữ liệu điện tử theo quy định", "VI",
              "hồ sơ được tạo, lưu giữ, chia sẻ dưới dạng dữ liệu điện tử / hồ sơ", "theo kỳ nhập",
              SOURCE_MANUAL),
)}
assert tuple(SPECS) == MANUAL_FIGURE_INDICATORS  # the schema's allowed ids are these


def load_manual_figures(processed_dir: str | Path) -> pd.DataFrame | None:
    """The ingested manual figures (``manual_figures.parquet``), None when none were entered."""
    path = Path(processed_dir) / "manual_figures.parquet"
    return conform(pd.read_parquet(path), "manual_figures") if path.exists() else None


def check_figures(figures: pd.DataFrame | None) -> tuple[pd.DataFrame | None, list[str]]:
    """(usable rows with a parsed ``_period``, reasons for the rows set aside, in Vietnamese)."""
    if figures is None or not len(figures):
        return figures, []
    reasons: list[str] = []
    keep = []
    parsed: list[Period | None] = []
    for row in figures.to_dict("records"):
        where = f"{row['source_file']}, dòng {row['source_row']}"
        try:
            period = Period.parse(str(row["period"]))
        except PeriodError:
            reasons.append(f"{where}: kỳ '{row['period']}' không hợp lệ (dùng 2023, 2023-Q1 hoặc "
                           f"2023-03) — dòng không được dùng.")
            keep.append(False)
            parsed.append(None)
            continue
        if float(row["numerator"]) > float(row["denominator"]):
            reasons.append(f"{where}: tử số ({row['numerator']:g}) lớn hơn mẫu số "
                           f"({row['denominator']:g}) — dòng không được dùng.")
            keep.append(False)
            parsed.append(None)
            continue
        keep.append(True)
        parsed.append(period)
    good = figures[np.array(keep, dtype=bool)].copy()
    good["_period"] = [p for p in parsed if p is not None]
    return good, reasons


def manual_pair(figures: pd.DataFrame | None, indicator: str,
                period: Period) -> tuple[float, float, str] | None:
    """(numerator, denominator, where from) of the manual figure a period uses, or None."""
    if figures is None or not len(figures):
        return None
    rows = figures[figures["indicator"] == indicator]
    exact = rows[[p == period for p in rows["_period"]]]
    if len(exact):
        chosen, label = exact.iloc[-1], ""
    else:
        inside = rows[[period.contains(p) and p != period for p in rows["_period"]]]
        if not len(inside):
            return None
        # the latest period entered inside this one (by its end, then the shorter one)
        order = sorted(range(len(inside)), key=lambda i: (inside["_period"].iloc[i].end,
                                                           -inside["_period"].iloc[i].n_months))
        chosen = inside.iloc[order[-1]]
        label = f" của {chosen['_period'].label_vi}"
    note = chosen["note"]
    note = "" if note is None or pd.isna(note) else f": {note}"
    return (float(chosen["numerator"]), float(chosen["denominator"]),
            f"số liệu nhập tay{label}{note}")


def _known(frame: pd.DataFrame, column: str) -> bool:
    return column in frame.columns and bool(frame[column].notna().any())


def computed_pairs(period: Period, procedures: pd.DataFrame | None,
                   staff: pd.DataFrame | None) -> dict[str, tuple[float, float, str]]:
    """The targets an input carries: (numerator, denominator, where from)."""
    out: dict[str, tuple[float, float, str]] = {}
    cat = procedures
    if cat is not None and len(cat) and _known(cat, "legal_effective_date") \
            and _known(cat, "published_decision_date"):
        cat = cat[(cat["year"] == period.year).fillna(False).to_numpy()]
        effective = cat["legal_effective_date"]
        decided = cat["published_decision_date"]

        def inside(s: pd.Series) -> pd.Series:
            return ((s >= period.start) & (s < period.end)).fillna(False)

        base = inside(effective) | inside(decided)
        timely = base & effective.notna() & decided.notna() & (decided <= effective).fillna(False)
        out["procedures_published_timely_share"] = (float(timely.sum()), float(base.sum()),
                                                    "danh mục TTHC")
    reg = staff
    if reg is not None and len(reg):
        reg = reg[(reg["year"] == period.year).fillna(False).to_numpy()]
        if len(reg):
            source = "danh sách công chức"
            if _known(reg, "public_employee") and _known(reg, "title_trained"):
                vc = flag(reg, "public_employee")
                out["vc_title_trained_share"] = (float((vc & flag(reg, "title_trained")).sum()),
                                                 float(vc.sum()), source)
            if _known(reg, "appointed") and _known(reg, "met_standard"):
                civil = ~flag(reg, "public_employee") if "public_employee" in reg.columns else True
                appointed = flag(reg, "appointed") & civil
                out["appointed_meeting_standard_share"] = (
                    float((appointed & flag(reg, "met_standard")).sum()), float(appointed.sum()), source)
            if _known(reg, "public_employee") and _known(reg, "trained_before_appointment"):
                leaders = flag(reg, "public_employee") & flag(reg, "is_leader")
                out["vc_leaders_trained_before_appointment_share"] = (
                    float((leaders & flag(reg, "trained_before_appointment")).sum()),
                    float(leaders.sum()), source)
            if _known(reg, "is_leader") and _known(reg, "security_trained"):
                heads = flag(reg, "is_leader")
                out["heads_dx_informed_share"] = (float((heads & flag(reg, "security_trained")).sum()),
                                                  float(heads.sum()), source)
    return out


def extra_indicators(period: Period, procedures: pd.DataFrame | None = None,
                     staff: pd.DataFrame | None = None,
                     figures: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every target of SPECS for one period, overall, with the engine's columns + figure_source.

    ``figures`` are the ingested manual figures (`load_manual_figures`); a computed value wins
    over an entered one (the input is the record), the entered one fills the gaps."""
    if isinstance(period, str):
        period = Period.parse(period)
    usable, _ = check_figures(figures)
    computed = computed_pairs(period, procedures, staff)
    targets = load_targets(period.year)
    rows = []
    for spec in SPECS.values():
        pair = computed.get(spec.id) or manual_pair(usable, spec.id, period)
        t = targets.get(spec.id)
        num, den, where = (np.nan, np.nan, "") if pair is None else pair
        value = num / den if pair is not None and den > 0 else np.nan
        op = t.op if t is not None else None
        target = np.nan if t is None or t.value is None else t.value
        if pair is None:
            status = STATUS_NO_DATA
        elif den == 0:
            status = STATUS_NO_EVENT
        else:
            status = status_for(value, op, target)
        rows.append({
            "period": period.code, "group_by": "overall", "group": GROUP_OVERALL,
            "indicator": spec.id, "numerator": num, "denominator": den, "value": value,
            "target": target, "status": status, "label_vi": spec.label_vi, "unit": "rate",
            "target_min": np.nan, "target_op": op or "",
            "target_text_vi": target_text_vi(t, "rate", None if targets.available else period.year),
            "target_source": "" if t is None else t.source, "status_min": "",
            "prev_value": np.nan, "change_prev": np.nan, "yoy_value": np.nan, "change_yoy": np.nan,
            "figure_source": where,
        })
    frame = pd.DataFrame(rows)
    for col in ("numerator", "denominator", "value", "target", "target_min"):
        frame[col] = frame[col].astype(float)
    return frame[[*COLUMNS, "figure_source"]]


def set_aside_markdown(figures: pd.DataFrame | None) -> str:
    """The manual-figure rows not used, with their reasons ("" when every row was usable)."""
    _, reasons = check_figures(figures)
    if not reasons:
        return ""
    return "**Số liệu nhập tay không được dùng:**\n\n" + "\n".join(f"- {r}" for r in reasons)


