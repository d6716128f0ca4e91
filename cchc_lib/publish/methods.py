"""The "Phương pháp tính" section: how each number was read, generated from the engine's own
definitions (``indicators.INDICATORS``, its measure tuples, ``COMPOSED_MEASURES``, the plan
indicators and the targets file), never hand-written beside them.

For every indicator shown it gives the numerator, the denominator, the date each is counted by,
the input it comes from and the target with its section of the plan; then each reading chosen
where the plan is ambiguous, the targets the plan writes twice, the targets derived from others,
the reporting window and the plan's own inconsistencies (a task due before the plan's date).
"""

from __future__ import annotations

import pandas as pd

from cchc_lib import indicators as ind
from cchc_lib import manual_figures, plan
from cchc_lib.conventions import DEFAULT as DEFAULT_CONVENTIONS
from cchc_lib.conventions import Conventions, conventions_sentences_vi
from cchc_lib.formatting import fmt_date, fmt_number, level_text
from cchc_lib.periods import Period
from cchc_lib.targets import CONFLICT_NOTE, cite, load_targets

# What each measure counts, in words. Every measure an indicator uses must be here (a test
# checks it), so a new indicator cannot reach a report without saying how it is counted.
MEASURE_VI: dict[str, str] = {
    "received": "hồ sơ tiếp nhận",
    "online": "hồ sơ tiếp nhận qua kênh trực tuyến",
    "channel_known": "hồ sơ tiếp nhận có ghi kênh nộp",
    "resolved_channel_known": "hồ sơ có kết quả có ghi kênh nộp",
    "fee": "hồ sơ có nghĩa vụ tài chính (cột «Có phí, lệ phí» của hồ sơ)",
    "fee_enabled": ("hồ sơ có nghĩa vụ tài chính mà thủ tục cho phép thanh toán trực tuyến "
                    "(danh mục TTHC của năm tiếp nhận)"),
    "fee_enabled_paid": "hồ sơ đó đã thanh toán trực tuyến",
    "synced": "hồ sơ đồng bộ trạng thái lên Cổng Dịch vụ công quốc gia",
    "digitized": "hồ sơ được số hóa",
    "wait_sum": "tổng số phút chờ tại Bộ phận Một cửa",
    "wait_count": "lượt giao dịch có ghi thời gian chờ (kể cả 0 phút)",
    "resolved": "hồ sơ có kết quả (kể cả hồ sơ từ chối giải quyết và hồ sơ công dân rút)",
    "early": "hồ sơ có kết quả trước ngày hẹn trả",
    "on_day": "hồ sơ có kết quả trong ngày hẹn trả, không sau thời điểm hẹn trả",
    "late": "hồ sơ có kết quả sau thời điểm hẹn trả (quá hạn)",
    "ontime": "hồ sơ có kết quả không quá hạn (trước hạn và đúng hạn)",
    "late_apology": "hồ sơ có kết quả quá hạn có văn bản xin lỗi",
    "online_resolved": "hồ sơ có kết quả đã nộp qua kênh trực tuyến (dịch vụ công trực tuyến)",
    "electronic_result": "hồ sơ trả kết quả điện tử",
    "processing_days_sum": "tổng số ngày từ tiếp nhận đến có kết quả (ngày lịch, tính cả phần lẻ)",
    "rated": "hồ sơ được đánh giá",
    "satisfied": "hồ sơ được đánh giá «Rất hài lòng» hoặc «Hài lòng»",
    "pending": "hồ sơ đã tiếp nhận, chưa có kết quả",
    "pending_overdue": ("hồ sơ đã tiếp nhận, chưa có kết quả và đã quá thời điểm hẹn trả (trừ hồ sơ "
                        "đang chờ bổ sung, chờ thực hiện nghĩa vụ tài chính hoặc tạm dừng xử lý)"),
    "pending_overdue_apology": "hồ sơ đang giải quyết quá hạn có văn bản xin lỗi",
    "carried_over": "hồ sơ tiếp nhận trước đầu kỳ, chưa có kết quả tại đầu kỳ",
    "apology_num": "hồ sơ chậm, muộn có văn bản xin lỗi",
    "apology_den": "hồ sơ chậm, muộn",
    "eligible_full": "TTHC đủ điều kiện và đã cung cấp dịch vụ công trực tuyến toàn trình",
    "eligible": "TTHC đủ điều kiện cung cấp dịch vụ công trực tuyến toàn trình",
    "online_services": "TTHC có dịch vụ công trực tuyến (một phần hoặc toàn trình)",
    "procedures": "TTHC trong danh mục",
    "integrated": "dịch vụ công trực tuyến tích hợp lên Cổng Dịch vụ công quốc gia",
    "published": "TTHC công khai cả niêm yết và điện tử",
    "fields_removed": "số trường thông tin cắt giảm trên tờ khai",
    "fields_before": "số trường thông tin trước khi cắt giảm, trên các tờ khai đã được đơn giản hóa",
}

BASE_VI = {
    "received": "theo ngày tiếp nhận",
    "completed": "theo ngày có kết quả",
    "rated": "theo ngày đánh giá (không ghi ngày đánh giá thì theo ngày có kết quả)",
    "stock": "tại thời điểm cuối kỳ",
    "stock_start": "tại thời điểm đầu kỳ",
    "catalogue": "theo danh mục TTHC của năm báo cáo",
}

SOURCE_DOSSIERS = "tệp hồ sơ TTHC xuất từ Hệ thống thông tin giải quyết TTHC (data/raw/dossiers/)"
SOURCE_CATALOGUE = "danh mục TTHC của Sở (data/raw/procedures.csv)"

# The plan indicators (cchc_lib.plan): numerator / denominator in words.
PLAN_FORMULA_VI: dict[str, str] = {
    "esigned_document_share": "văn bản điện tử có ký số / văn bản trao đổi trong kỳ",
    "online_workfile_share": "hồ sơ công việc xử lý trên môi trường mạng / hồ sơ công việc của năm",
    "degree_share": "công chức có trình độ đại học trở lên / công chức có ghi trình độ",
    "postgraduate_share": "công chức có trình độ thạc sĩ, tiến sĩ / công chức có ghi trình độ",
    "state_mgmt_trained_share": ("công chức được bồi dưỡng kiến thức quản lý nhà nước theo ngạch / "
                                 "công chức trong danh sách của năm"),
    "digital_id_share": "công chức được gắn định danh số / công chức trong danh sách của năm",
    "security_trained_share": ("công chức được tuyên truyền, bồi dưỡng về chuyển đổi số, an toàn "
                               "thông tin / công chức trong danh sách của năm"),
    "feedback_ontime_rate": ("phản ánh, kiến nghị xử lý xong đúng hạn / phản ánh, kiến nghị xử lý "
                             "xong trong kỳ"),
    "plan_task_completion": "nhiệm vụ hoàn thành đúng hạn / nhiệm vụ đã đến hạn",
}
# The plan indicators (cchc_lib.plan) by their input table: (what is counted, when, source).
PLAN_TABLE_VI: dict[str, tuple[str, str]] = {
    "documents": ("theo ngày văn bản, không tính văn bản mật; văn bản giấy không tính là ký số",
                  "sổ văn bản đi/đến (data/raw/documents/)"),
    "workfiles": ("theo năm của hồ sơ công việc, không tính hồ sơ mật",
                  "danh sách hồ sơ công việc (data/raw/workfiles.csv)"),
    "staff": ("trên danh sách công chức của năm (trình độ: trên những người có ghi trình độ)",
              "danh sách công chức (data/raw/staff.csv)"),
    "feedback": ("theo ngày xử lý xong; đúng hạn = xử lý xong không sau hạn xử lý",
                 "phản ánh, kiến nghị (data/raw/feedback/)"),
    "plan_tasks": ("nhiệm vụ đã đến hạn tại ngày tính đến; nhiệm vụ thường xuyên đến hạn cuối kỳ",
                   "tiến độ nhiệm vụ (data/raw/plan_tasks.csv)"),
    "manual": ("số liệu do cán bộ nhập theo kỳ", "số liệu nhập tay (data/raw/manual_figures.csv)"),
}


def measure_bases(measure: str) -> list[str]:
    """The date bases a measure is counted by, read from the engine's measure tuples."""
    if measure in ind.COMPOSED_MEASURES:
        out: list[str] = []
        for part in ind.COMPOSED_MEASURES[measure]:
            out += [b for b in measure_bases(part) if b not in out]
        return out
    if measure in ind.RECEIVED_MEASURES:
        return ["received"]
    if measure in ind.COMPLETED_MEASURES:
        return ["completed"]
    if measure in ind.RATED_MEASURES:
        return ["rated"]
    if measure == "carried_over":
        return ["stock_start"]
    if measure in ind.STOCK_MEASURES:
        return ["stock"]
    return ["catalogue"]


def _describe(measure: str) -> str:
    text = MEASURE_VI[measure]
    if measure in ind.COMPOSED_MEASURES and measure not in ("ontime",):
        parts = " + ".join(MEASURE_VI[p] for p in ind.COMPOSED_MEASURES[measure])
        text = f"{text} ({parts})"
    return text


def indicator_method(defn: ind.IndicatorDef) -> dict[str, str]:
    """Numerator, denominator, date base and source of one engine indicator, in words."""
    if defn.catalogue:
        base = BASE_VI["catalogue"]
    elif defn.id == "apology_rate":
        base = ("hồ sơ có kết quả quá hạn trong kỳ theo ngày có kết quả, cộng hồ sơ đang giải "
                "quyết quá hạn tại thời điểm cuối kỳ")
    else:
        measures = [defn.numerator] + ([defn.denominator] if defn.denominator else [])
        bases: list[str] = []
        for m in measures:
            bases += [b for b in measure_bases(m) if b not in bases]
        base = "; ".join(BASE_VI[b] for b in bases)
    if defn.unit == "count":
        formula = f"số {_describe(defn.numerator)}"
    elif defn.unit in ("minutes", "days"):
        formula = f"{_describe(defn.numerator)} / {_describe(defn.denominator or '')} (trung bình)"
    else:
        formula = f"{_describe(defn.numerator)} / {_describe(defn.denominator or '')}"
    return {"formula": formula, "base": base,
            "source": SOURCE_CATALOGUE if defn.catalogue else SOURCE_DOSSIERS}


def _plan_method(indicator: str) -> dict[str, str] | None:
    for d in plan.PLAN_INDICATORS:
        if d.id == indicator:
            base, source = PLAN_TABLE_VI.get(d.table, ("", ""))
            return {"formula": PLAN_FORMULA_VI.get(d.id, d.label_vi), "base": base, "source": source}
    spec = manual_figures.SPECS.get(indicator)
    if spec is None:
        return None
    return {"formula": spec.formula_vi, "base": spec.base_vi, "source": spec.source_vi}


def method_for(indicator: str) -> dict[str, str] | None:
    """How an indicator is computed, whichever module computes it."""
    if indicator in ind.INDICATORS:
        return indicator_method(ind.INDICATORS[indicator])
    return _plan_method(indicator)


def window_sentence(period: Period, window: str = "calendar") -> str:
    """The reporting window in words: the calendar period, or the legal data window of
    NĐ 09/2019 (15th to 14th) when the run's conventions ask for it."""
    p = period.with_window(window)
    how = "tính theo lịch" if window == "calendar" else "tính theo Nghị định số 09/2019/NĐ-CP, Điều 12"
    return (f"{period.label_vi} {how}: từ 00:00 ngày {fmt_date(p.start)} "
            f"đến hết ngày {fmt_date(p.last_day)} (giờ địa phương); số hồ sơ đang giải quyết "
            f"tính tại thời điểm kết thúc kỳ, số chuyển sang tại thời điểm bắt đầu kỳ.")


def _indicator_lines(frame: pd.DataFrame) -> list[str]:
    lines = []
    seen: set[str] = set()
    for row in frame.to_dict("records"):
        indicator = str(row["indicator"])
        if indicator in seen:
            continue
        seen.add(indicator)
        method = method_for(indicator)
        if method is None:
            continue
        target = str(row.get("target_text_vi") or "").strip()
        if target in ("", "Không có chỉ tiêu"):
            target = "Kế hoạch không đặt chỉ tiêu"
        lines.append(
            f"- **{row.get('label_vi') or indicator}** = {method['formula']}; {method['base']}; "
            f"nguồn: {method['source']}; chỉ tiêu: {target}."
        )
    return lines


def readings(year: int) -> list[str]:
    """Each reading chosen where the plan is ambiguous, and how its targets were read."""
    targets = load_targets(year)
    out = [
        "Tỷ lệ giải quyết đúng hạn, trước hạn tính **theo từng hồ sơ**, dù mục II.2 của Kế hoạch "
        "viết «100% thủ tục hành chính được giải quyết đúng hạn, 80% thủ tục hành chính trở lên "
        "được giải quyết trước thời hạn»: một thủ tục có nhiều hồ sơ, nên đếm theo hồ sơ (như "
        "Biểu 06/VPCP/KSTT).",
        "Hồ sơ **quá hạn**: có kết quả sau thời điểm hẹn trả (hẹn trả không ghi giờ được tính đến "
        "hết ngày); **trước hạn**: không quá hạn và có kết quả trước ngày hẹn trả; **đúng hạn**: "
        "các hồ sơ còn lại.",
        "Hồ sơ **từ chối giải quyết** và hồ sơ **công dân rút** có ngày có kết quả được tính là hồ "
        "sơ đã giải quyết, xếp trước hạn / đúng hạn / quá hạn theo ngày như mọi hồ sơ khác.",
        "Tỷ lệ hồ sơ trực tuyến **theo cách tính của Kế hoạch** (mục III.2, Biểu II.8: «tỷ lệ hồ sơ "
        "giải quyết theo dịch vụ công trực tuyến mức độ 3, 4 trên tổng số hồ sơ giải quyết») tính "
        "trên hồ sơ có kết quả trong kỳ; tỷ lệ hồ sơ nộp trực tuyến trên hồ sơ tiếp nhận vẫn được "
        "nêu (Bộ chỉ số 766 dùng số này) nhưng không có chỉ tiêu riêng.",
        "Văn bản xin lỗi (Biểu II.5: «100% hồ sơ TTHC để chậm, muộn phải có văn bản xin lỗi») tính "
        "trên mọi hồ sơ chậm, muộn: hồ sơ có kết quả quá hạn trong kỳ và hồ sơ đang giải quyết "
        "quá hạn tại thời điểm cuối kỳ.",
    ]
    integ = targets.get("national_integration_share")
    if integ is not None and integ.relative_to_previous_year is not None:
        points = fmt_number(integ.relative_to_previous_year * 100)
        out.append(
            f"«Tăng thêm {points}% so với năm {year - 1}» (tỷ lệ DVCTT tích hợp Cổng Dịch vụ công "
            f"quốc gia, {integ.source}) được hiểu là **cộng {points} điểm phần trăm** vào tỷ lệ của "
            f"năm {year - 1} (không phải nhân tỷ lệ năm {year - 1} với "
            f"{fmt_number(1 + integ.relative_to_previous_year, 1)}), tối đa 100%.")
    out.append(
        "Tỷ lệ cắt giảm thông tin trên tờ khai (Biểu II.4: «cắt giảm tối thiểu 20% thông tin phải "
        "khai báo») tính **trên các tờ khai đã được đơn giản hóa** (có số trường trước và sau, số "
        "sau ít hơn số trước): số trường cắt giảm / số trường trước khi cắt giảm.")
    for t in targets.entries.values():
        if t.conflicting:
            figures = sorted([(t.source, t.value), (t.source_min, t.value_min)],
                             key=lambda f: f[0].lower().startswith("biểu"))
            both = "; ".join(f"theo {cite(s)}: {level_text(t.op, float(v or 0), 'rate')}" for s, v in figures)
            label = _label(t.indicator)
            out.append(f"{label}: {both} — **{CONFLICT_NOTE}**; báo cáo đánh giá theo "
                       f"{cite(t.source)} (chọn trong tệp chỉ tiêu, khóa `decides`).")
    for t in targets.entries.values():
        if t.derived_from:
            out.append(f"{_label(t.indicator)}: chỉ tiêu **suy ra** từ {t.derived_from}; Kế hoạch "
                       f"không nêu trực tiếp.")
    return out


def _label(indicator: str) -> str:
    if indicator in ind.INDICATORS:
        return ind.INDICATORS[indicator].label_vi
    for d in plan.PLAN_INDICATORS:
        if d.id == indicator:
            return d.label_vi
    spec = manual_figures.SPECS.get(indicator)
    return spec.label_vi if spec else indicator


def plan_inconsistencies(tasks: pd.DataFrame | None) -> list[str]:
    """Where the plan contradicts itself about a task (the task states carry the note)."""
    if tasks is None or not len(tasks) or "deadline_note" not in tasks.columns:
        return []
    rows = tasks[tasks["deadline_note"].notna()]
    return [f"Nhiệm vụ {r['section']}.{r['task_no']}: {r['deadline_note']}" for r in rows.to_dict("records")]


def methods_markdown(frame: pd.DataFrame, period: Period, tasks: pd.DataFrame | None = None,
                     conventions: Conventions | None = None) -> str:
    """The whole section (without its heading): indicators, readings, window, the counting
    conventions in force (``conventions``, default the packaged ones), data notes."""
    conventions = conventions or DEFAULT_CONVENTIONS
    parts = ["**Cách tính từng chỉ số** (tử số / mẫu số; thời điểm tính; nguồn số liệu; chỉ tiêu):",
             "\n".join(_indicator_lines(frame))]
    parts += ["**Cách đọc Kế hoạch** ở những chỗ Kế hoạch chưa rõ hoặc ghi không thống nhất:",
              "\n".join(f"- {r}" for r in [*readings(period.year), *plan_inconsistencies(tasks)])]
    parts += ["**Kỳ báo cáo:** " + window_sentence(period, conventions.window)]
    sentences = conventions_sentences_vi(conventions, period)
    parts += ["**Quy ước tính:**", "\n".join(f"- {line}" for line in sentences)]
    parts += ["**Dữ liệu:** thông tin cá nhân của người nộp hồ sơ được loại bỏ ngay khi nhập dữ liệu; "
              "các dòng dữ liệu không hợp lệ bị loại khi nhập và được liệt kê trong tệp rejects.csv "
              "kèm lý do. «Không phát sinh»: không có hồ sơ để tính; «Chưa có dữ liệu»: thiếu tệp "
              "đầu vào tương ứng."]
    return "\n\n".join(parts)
