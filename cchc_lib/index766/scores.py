"""The national service index (Quyết định 766/QĐ-TTg): scores out of 100 from counts.

The national public-service portal scores every agency on six groups. This module reproduces
the portal's scoring from counts (numerator, denominator per component), computes those counts
from the department's own processed data, and tells which lever gains the most points.

Scoring from counts
-------------------
Input: long form, one row per (unit, metric), columns ``unit, metric, numerator, denominator``.
Every component scores ``min(max_score, max_score * ratio / threshold)`` with
``ratio = numerator / denominator``; the threshold is the ratio at which the component reaches
full marks (1 unless stated). Components, by group (max points):

- TRANSPARENCY "Công khai minh bạch" (18): PUBLISH_ON_TIME 6, PUBLIC_UPDATE_ON_TIME 4,
  PUBLIC_CONTENT_FULL 2, DOSSIER_SYNC 6.
- PROGRESS "Tiến độ giải quyết" (20): PROGRESS_ON_TIME 20.
- ONLINE_SERVICE "Dịch vụ công trực tuyến" (12, an ESTIMATE: the portal does not publish the
  split; the spec's candidate 2 x min(1, r1/0.8) + 4 x r2 + 6 x min(1, r3/0.5)). Our own codes:
  ONLINE_SERVICE_PROVIDED (r1 = procedures with an online service, partial or full / procedures
  under the agency's authority; 2 points, full at 0.8), ONLINE_SERVICE_WITH_DOSSIERS (r2 = online
  services that had online dossiers / online services; 4 points), ONLINE_DOSSIER_SHARE (r3 =
  dossiers submitted online / all dossiers; 6 points, full at 0.5).
- PAYMENT "Thanh toán trực tuyến" (10): PAYMENT_DOSSIER (A) 6 x A, PAYMENT_PROCEDURE (B)
  min(2, 2.5 x B) (2 points, full at 0.8), PAYMENT_PROCEDURE_WITH_DOSSIERS (C) 2.5 x C. The
  components add up to 10.5, so the group is capped at its 10 points.
- SATISFACTION "Mức độ hài lòng" (18): DOSSIER_RECEIVING_SATISFACTION min(6, 6 x ratio / 0.90),
  PETITION_PROCESSING_ON_TIME 6 x ratio, PETITION_HANDLING_SATISFACTION 6 x ratio.
- DIGITIZATION "Số hóa hồ sơ" (22): ORIGINAL_RESULT_AVAILABLE 6, SO_HOA_GIAY_TO_GIAI_QUYET 4,
  REUSED_DIGITIZED_DATA min(2, 2 x ratio / 0.80), SYNCED_WITH_DVCQG_PERSONAL_STORAGE 4,
  CITIZEN_DATA_CONNECTED_DOSSIER 2, CITIZEN_DATA_CONNECTED_FORMALITY 2, ELECTRONIC_CERTIFIED_COPY 2.

Zero denominators: the ratio is 0, so the component scores 0 ("0 when nothing was handled"),
except the two petition (PAKN) components PETITION_PROCESSING_ON_TIME and
PETITION_HANDLING_SATISFACTION, which score full marks (ratio taken as 1) when there was no PAKN.

Missing inputs: an empty numerator or denominator (or no row at all for a component) means the
component is NOT AVAILABLE: ``score``/``ratio`` are NaN, ``available`` is False, and people see
"không có dữ liệu" — never 0. A group's score is the sum of its available components (capped at
the group's maximum), with ``complete=False`` when any component is unavailable; a group with no
available component is itself unavailable (NaN). TOTAL is the sum of the available groups,
``complete`` only when every group is complete. ONLINE_SERVICE rows carry ``estimate=True``, and
so does TOTAL whenever the ONLINE_SERVICE group contributes to it.

Output (``score_from_counts``): rows ``unit, group, metric, score, max_score`` then
``ratio, numerator, denominator, available, complete, estimate``. For each unit: per group its
row whose ``metric`` is the group code then its components, then a ``TOTAL`` row (group and
metric both ``TOTAL``).

Counts from the department's own data (``counts_from_data``)
--------------------------------------------------------------
Period rules are those of ``indicators.md``: received-based metrics take dossiers whose
``received_at`` is in the period, resolution-based ones those whose ``completed_at`` is in it,
backlog is taken at the period's end. "Resolved late" = ``completed_at > due_at``. Dossiers
and periods follow the data's conventions (conventions.md): never-received registrations are
left out, the period covers the analysis ``window``, due instants follow ``timeliness``, and a
clock-stopped dossier (awaiting the citizen, suspended) is pending within time.

- PROGRESS_ON_TIME: numerator = resolved in the period not late + pending at the end whose due
  instant is not before the end (pending within time); denominator = resolved in the period +
  pending at the end.
- PAYMENT_DOSSIER (A): dossiers received in the period with ``fee_required``; numerator those
  with ``paid_online``.
- PAYMENT_PROCEDURE (B): catalogue procedures with a fee; numerator those accepting online
  payment (``online_payment``).
- PAYMENT_PROCEDURE_WITH_DOSSIERS (C): catalogue procedures with a fee; numerator those that
  had at least one dossier received in the period.
- DOSSIER_RECEIVING_SATISFACTION: dossiers resolved in the period; numerator those neither
  rated "Không hài lòng", nor resolved late, nor the subject of a PAKN (feedback row carrying the
  dossier's id). Without a feedback table the complaint part cannot be checked (documented
  optimism); an unrated dossier is not an unsatisfied one.
- PETITION_PROCESSING_ON_TIME: denominator = PAKN handled in the period + PAKN still open at the
  end and already past their deadline; numerator = handled in the period by their deadline.
- PETITION_HANDLING_SATISFACTION: PAKN handled in the period; numerator those not rated
  "Không hài lòng".
- ORIGINAL_RESULT_AVAILABLE: dossiers resolved in the period; numerator ``electronic_result``.
- SO_HOA_GIAY_TO_GIAI_QUYET: dossiers received; numerator ``digitized``.
- REUSED_DIGITIZED_DATA: dossiers received; numerator ``reused_digitized_data``.
- SYNCED_WITH_DVCQG_PERSONAL_STORAGE: dossiers received ONLINE (only an online submission can
  take files from the citizen's storage on the national portal); numerator
  ``from_national_storage``.
- CITIZEN_DATA_CONNECTED_DOSSIER: dossiers received; numerator ``citizen_data_connected``.
- CITIZEN_DATA_CONNECTED_FORMALITY: catalogue procedures; numerator ``citizen_data_connected``.
- ELECTRONIC_CERTIFIED_COPY: no input in the data contract: always not available.
- PUBLISH_ON_TIME: catalogue procedures with a ``legal_effective_date``; numerator those whose
  ``published_decision_date`` is on or before it.
- PUBLIC_UPDATE_ON_TIME: catalogue procedures with a ``published_decision_date``; numerator those
  whose ``made_public_date`` is within 5 working days of it (Monday-Friday minus Vietnamese public
  holidays; working days counted from the day after the decision).
- PUBLIC_CONTENT_FULL: catalogue procedures; numerator ``content_complete``.
- DOSSIER_SYNC: dossiers received; numerator ``synced_national``.
- ONLINE_SERVICE_PROVIDED (r1): catalogue procedures; numerator service level partial or full.
- ONLINE_SERVICE_WITH_DOSSIERS (r2): catalogue procedures with an online service; numerator
  those that received at least one online dossier in the period.
- ONLINE_DOSSIER_SHARE (r3): dossiers received; numerator received online.

"Catalogue procedures" = the catalogue rows of the period's year (a period never spans two
years); when that year has no catalogue, the latest earlier year's. Yes/no inputs follow the
indicator engine's rule (``cchc_lib.indicators``): a <NA> value on one row counts as "no", and the
metric is not available (empty numerator and denominator) when an input column is absent or
<NA> everywhere in the processed table (checked before any department split). A metric whose
table is absent (no feedback file, no catalogue for the period's year or earlier) is not
available. A feedback table that is present but has no PAKN in the period gives 0/0: full marks.

By department: dossier metrics use the dossier's ``department``; PAKN are attributed through the
dossier they concern (PAKN without a dossier only count for "Toàn Sở"); catalogue procedures are
attributed to every department that handled at least one of their dossiers in the whole data
set (the catalogue itself carries no department), so a procedure nobody ever handled only counts
for "Toàn Sở".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

OVERALL_UNIT = "Toàn Sở"
NOT_AVAILABLE_VI = "không có dữ liệu"
ESTIMATE_VI = "ước tính"
TOTAL = "TOTAL"
TOTAL_MAX = 100.0
COUNT_COLUMNS = ("unit", "metric", "numerator", "denominator")
SCORE_COLUMNS = (
    "unit", "group", "metric", "score", "max_score",
    "ratio", "numerator", "denominator", "available", "complete", "estimate",
)


class IndexInputError(ValueError):
    """Counts that cannot be scored; the message names the offending CSV rows."""


@dataclass(frozen=True)
class Group:
    code: str
    max_score: float
    label_vi: str


@dataclass(frozen=True)
class Component:
    code: str
    group: str
    max_score: float
    label_vi: str
    lever_vi: str  # what one more unit of numerator is, for "thêm N ..."
    threshold: float = 1.0  # the ratio at which the component reaches full marks
    full_if_none: bool = False  # a zero denominator scores full marks (PAKN)


# Display order follows the spec: công khai, tiến độ, DVCTT, thanh toán, hài lòng, số hóa.
GROUPS: tuple[Group, ...] = (
    Group("TRANSPARENCY", 18, "Công khai minh bạch"),
    Group("PROGRESS", 20, "Tiến độ giải quyết"),
    Group("ONLINE_SERVICE", 12, "Dịch vụ công trực tuyến (ước tính)"),
    Group("PAYMENT", 10, "Thanh toán trực tuyến"),
    Group("SATISFACTION", 18, "Mức độ hài lòng"),
    Group("DIGITIZATION", 22, "Số hóa hồ sơ"),
)
GROUP_BY_CODE = {g.code: g for g in GROUPS}
ESTIMATE_GROUPS = frozenset({"ONLINE_SERVICE"})

COMPONENTS: tuple[Component, ...] = (
    Component("PUBLISH_ON_TIME", "TRANSPARENCY", 6, "Công bố TTHC đúng hạn", "TTHC công bố đúng hạn"),
    Component(
        "PUBLIC_UPDATE_ON_TIME", "TRANSPARENCY", 4, "Công khai TTHC đúng hạn",
        "TTHC công khai đúng hạn",
    ),
    Component(
        "PUBLIC_CONTENT_FULL", "TRANSPARENCY", 2, "Công khai đầy đủ bộ phận TTHC",
        "TTHC công khai đầy đủ nội dung",
    ),
    Component(
        "DOSSIER_SYNC", "TRANSPARENCY", 6, "Đồng bộ trạng thái hồ sơ lên Cổng DVCQG",
        "hồ sơ đồng bộ trạng thái lên Cổng DVCQG",
    ),
    Component(
        "PROGRESS_ON_TIME", "PROGRESS", 20, "Hồ sơ giải quyết đúng hạn",
        "hồ sơ giải quyết đúng hạn (thay cho hồ sơ quá hạn)",
    ),
    Component(
        "ONLINE_SERVICE_PROVIDED", "ONLINE_SERVICE", 2, "TTHC có dịch vụ công trực tuyến (r1)",
        "TTHC cung cấp dịch vụ công trực tuyến", threshold=0.8,
    ),
    Component(
        "ONLINE_SERVICE_WITH_DOSSIERS", "ONLINE_SERVICE", 4,
        "DVC trực tuyến phát sinh hồ sơ (r2)", "DVC trực tuyến phát sinh hồ sơ trực tuyến",
    ),
    Component(
        "ONLINE_DOSSIER_SHARE", "ONLINE_SERVICE", 6, "Hồ sơ nộp trực tuyến (r3)",
        "hồ sơ nộp trực tuyến (thay cho nộp trực tiếp)", threshold=0.5,
    ),
    Component(
        "PAYMENT_DOSSIER", "PAYMENT", 6, "Hồ sơ có nghĩa vụ tài chính thanh toán trực tuyến (A)",
        "hồ sơ thanh toán trực tuyến",
    ),
    Component(
        "PAYMENT_PROCEDURE", "PAYMENT", 2, "TTHC có phí triển khai thanh toán trực tuyến (B)",
        "TTHC có phí triển khai thanh toán trực tuyến", threshold=0.8,
    ),
    Component(
        "PAYMENT_PROCEDURE_WITH_DOSSIERS", "PAYMENT", 2.5, "TTHC có phí phát sinh hồ sơ (C)",
        "TTHC có phí phát sinh hồ sơ",
    ),
    Component(
        "DOSSIER_RECEIVING_SATISFACTION", "SATISFACTION", 6, "Hài lòng về giải quyết hồ sơ",
        "hồ sơ không có đánh giá «Không hài lòng», không bị phản ánh, không quá hạn", threshold=0.9,
    ),
    Component(
        "PETITION_PROCESSING_ON_TIME", "SATISFACTION", 6, "PAKN được xử lý đúng hạn",
        "PAKN xử lý đúng hạn", full_if_none=True,
    ),
    Component(
        "PETITION_HANDLING_SATISFACTION", "SATISFACTION", 6, "Hài lòng về xử lý PAKN",
        "PAKN không có đánh giá «Không hài lòng»", full_if_none=True,
    ),
    Component(
        "ORIGINAL_RESULT_AVAILABLE", "DIGITIZATION", 6, "Trả kết quả điện tử",
        "hồ sơ trả kết quả điện tử",
    ),
    Component(
        "SO_HOA_GIAY_TO_GIAI_QUYET", "DIGITIZATION", 4, "Số hóa hồ sơ, giấy tờ",
        "hồ sơ được số hóa",
    ),
    Component(
        "REUSED_DIGITIZED_DATA", "DIGITIZATION", 2, "Tái sử dụng dữ liệu số hóa",
        "hồ sơ tái sử dụng dữ liệu số hóa", threshold=0.8,
    ),
    Component(
        "SYNCED_WITH_DVCQG_PERSONAL_STORAGE", "DIGITIZATION", 4, "Lấy giấy tờ từ kho DVCQG",
        "hồ sơ trực tuyến lấy giấy tờ từ kho dữ liệu Cổng DVCQG",
    ),
    Component(
        "CITIZEN_DATA_CONNECTED_DOSSIER", "DIGITIZATION", 2, "Hồ sơ kết nối dữ liệu dân cư",
        "hồ sơ kết nối dữ liệu dân cư",
    ),
    Component(
        "CITIZEN_DATA_CONNECTED_FORMALITY", "DIGITIZATION", 2, "TTHC kết nối dữ liệu dân cư",
        "TTHC kết nối dữ liệu dân cư",
    ),
    Component(
        "ELECTRONIC_CERTIFIED_COPY", "DIGITIZATION", 2, "Chứng thực bản sao điện tử",
        "hồ sơ chứng thực điện tử",
    ),
)
COMPONENT_BY_CODE = {c.code: c for c in COMPONENTS}
METRIC_CODES = tuple(c.code for c in COMPONENTS)

# Numerical slack when comparing scores with their maxima (floating-point division).
_EPS = 1e-9


# -- reading and validating counts ----------------------------------------------------------


def read_counts_csv(path: str | Path) -> pd.DataFrame:
    """Read a counts CSV as text, keeping each row's spreadsheet number in ``source_row``.

    Blank lines are kept while numbering (header = row 1, first data row = 2) and dropped after,
    so a message names the row a person sees in a spreadsheet.
    """
    path = Path(path)
    try:
        raw = pd.read_csv(
            path, dtype=str, keep_default_na=False, skip_blank_lines=False, encoding="utf-8-sig",
        )
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise IndexInputError(f"Không đọc được tệp số liệu {path}: {exc}") from None
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    raw["source_row"] = np.arange(len(raw)) + 2
    text = raw.drop(columns="source_row").apply(lambda s: s.str.strip())
    blank = (text == "").all(axis=1)
    return raw.loc[~blank].reset_index(drop=True)


def validate_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """Check and coerce counts; raise IndexInputError listing every bad row.

    Rows are named by ``source_row`` when present (as ``read_counts_csv`` sets it), else by their
    position as a CSV would number them (header row 1, first data row 2).
    """
    missing = [c for c in COUNT_COLUMNS if c not in counts.columns]
    if missing:
        raise IndexInputError(
            "Tệp số liệu thiếu cột: " + ", ".join(missing)
            + " (cần các cột unit, metric, numerator, denominator)."
        )
    if "source_row" in counts.columns:
        rows = pd.Series(counts["source_row"].to_numpy(), index=counts.index).astype("int64")
    else:
        rows = pd.Series(np.arange(len(counts)) + 2, index=counts.index)

    unit = counts["unit"].astype("string").str.strip()
    metric = counts["metric"].astype("string").str.strip().str.upper()
    problems: list[tuple[int, str]] = []

    def note(mask: pd.Series, message) -> None:
        for idx in mask[mask.fillna(False).astype(bool)].index:
            problems.append((int(rows[idx]), message(idx)))

    note(unit.isna() | (unit == ""), lambda i: "thiếu tên đơn vị (cột unit)")
    known = metric.isin(METRIC_CODES).fillna(False)
    note(
        ~known,
        lambda i: f"mã chỉ tiêu '{counts['metric'][i]}' không hợp lệ "
        f"(các mã hợp lệ: {', '.join(METRIC_CODES)})",
    )

    values: dict[str, pd.Series] = {}
    for column, label in (("numerator", "tử số"), ("denominator", "mẫu số")):
        raw = counts[column]
        if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
            # Numbers already (counts computed from the data): the same checks without the
            # round trip through text that a CSV's column needs.
            number = raw.astype("float64")
            empty = number.isna()
        else:
            text = raw.astype("string").str.strip()
            empty = text.isna() | (text == "")
            number = pd.to_numeric(text.where(~empty), errors="coerce").astype("float64")
        bad = ~empty & (number.isna() | ~np.isfinite(number.fillna(0)))
        note(bad, lambda i, c=column, lab=label: f"{lab} (cột {c}) '{counts[c][i]}' không phải là số")
        negative = ~bad & (number < 0)
        note(negative, lambda i, c=column, lab=label: f"{lab} (cột {c}) '{counts[c][i]}' là số âm")
        # Counts of dossiers and procedures are whole numbers; "1.234" is most likely a
        # Vietnamese thousands separator, which must not silently become 1,234.
        fraction = ~bad & ~negative & number.notna() & (number % 1 != 0)
        note(
            fraction,
            lambda i, c=column, lab=label: f"{lab} (cột {c}) '{counts[c][i]}' không phải là số "
            "nguyên: ghi số hồ sơ, số thủ tục không có dấu ngăn cách hàng nghìn (ví dụ 1234)",
        )
        values[column] = number.where(~bad & ~negative & ~fraction)
    num, den = values["numerator"], values["denominator"]
    note(
        num > den,
        lambda i: f"tử số ({counts['numerator'][i]}) lớn hơn mẫu số ({counts['denominator'][i]})",
    )

    clean = pd.DataFrame(
        {"unit": unit, "metric": metric, "numerator": num, "denominator": den, "row": rows}
    )
    keyed = clean[known & unit.notna() & (unit != "")]
    dup = keyed.duplicated(["unit", "metric"], keep=False)
    if dup.any():
        first_row = keyed[dup].groupby(["unit", "metric"])["row"].transform("min")
        later = keyed[dup & (keyed["row"] != first_row.reindex(keyed.index))]
        for idx in later.index:
            problems.append(
                (int(rows[idx]), f"trùng đơn vị và mã chỉ tiêu với dòng {int(first_row[idx])}")
            )
    if problems:
        problems.sort()
        lines = [f"- Dòng {row}: {message}" for row, message in problems]
        raise IndexInputError("Tệp số liệu có lỗi:\n" + "\n".join(lines))
    return clean.drop(columns="row").reset_index(drop=True)


# -- scoring ----------------------------------------------------------------------------------


def _component_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "metric": [c.code for c in COMPONENTS],
            "group": [c.group for c in COMPONENTS],
            "max_score": [float(c.max_score) for c in COMPONENTS],
            "threshold": [c.threshold for c in COMPONENTS],
            "full_if_none": [c.full_if_none for c in COMPONENTS],
        }
    )


def _group_sums(codes: np.ndarray, values: pd.Series, n_groups: int) -> np.ndarray:
    """Each group's ``Series.sum(min_count=1)`` (NaN for a group without a value), summed as
    pandas sums a Series (missing values as 0, numpy's sum) so the scores do not move by a
    last digit; a Python function per group through groupby.agg cost more than the scoring."""
    numbers = values.to_numpy(dtype="float64", na_value=np.nan)
    out = np.full(n_groups, np.nan)
    for group in range(n_groups):
        chosen = numbers[codes == group]
        known = ~np.isnan(chosen)
        if known.any():
            out[group] = np.where(known, chosen, 0.0).sum()
    return out


def score_from_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """Score every component, group and the total for each unit of a long-form counts frame.

    Units keep their order of first appearance; every unit gets every component (a component
    with no row is not available). See the module docstring for the rules.
    """
    clean = validate_counts(counts)
    units = list(dict.fromkeys(clean["unit"]))
    grid = pd.MultiIndex.from_product([units, METRIC_CODES], names=["unit", "metric"]).to_frame(
        index=False
    )
    comp = grid.merge(_component_table(), on="metric", how="left").merge(
        clean, on=["unit", "metric"], how="left"
    )
    num, den = comp["numerator"], comp["denominator"]
    available = num.notna() & den.notna()
    zero = available & (den == 0)
    ratio = (num / den.where(den > 0)).where(~zero, np.where(comp["full_if_none"], 1.0, 0.0))
    comp["ratio"] = ratio.where(available)
    comp["score"] = np.minimum(
        comp["max_score"], comp["max_score"] * comp["ratio"] / comp["threshold"]
    ).where(available)
    comp["available"] = available
    comp["complete"] = available
    comp["estimate"] = comp["group"].isin(ESTIMATE_GROUPS)

    # Groups: the sum of the available components, capped at the group's maximum (payment's
    # components add up to 10.5 for a 10-point group); unavailable when none is available.
    by_group = comp.groupby(["unit", "group"], sort=False)
    grp = by_group.agg(available=("available", "any"), complete=("available", "all")).reset_index()
    grp.insert(2, "score", _group_sums(by_group.ngroup().to_numpy(), comp["score"], len(grp)))
    grp["max_score"] = grp["group"].map({g.code: float(g.max_score) for g in GROUPS})
    grp["score"] = np.minimum(grp["score"], grp["max_score"])
    grp["metric"] = grp["group"]
    grp["estimate"] = grp["group"].isin(ESTIMATE_GROUPS)

    by_unit = grp.groupby("unit", sort=False)
    tot = by_unit.agg(available=("available", "any"), complete=("complete", "all")).reset_index()
    tot.insert(1, "score", _group_sums(by_unit.ngroup().to_numpy(), grp["score"], len(tot)))
    estimated_units = grp.loc[grp["estimate"] & grp["available"], "unit"]
    tot["estimate"] = tot["unit"].isin(estimated_units)
    tot["group"] = TOTAL
    tot["metric"] = TOTAL
    tot["max_score"] = TOTAL_MAX

    out = pd.concat([comp, grp, tot], ignore_index=True)
    # Order: unit, then groups in display order, each group row before its components, TOTAL last.
    group_rank = {g.code: i for i, g in enumerate(GROUPS)} | {TOTAL: len(GROUPS)}
    metric_rank = {c: i for i, c in enumerate(METRIC_CODES)}
    out["_u"] = out["unit"].map({u: i for i, u in enumerate(units)})
    out["_g"] = out["group"].map(group_rank)
    out["_m"] = out["metric"].map(metric_rank).fillna(-1)
    out = out.sort_values(["_u", "_g", "_m"], kind="stable").reset_index(drop=True)
    out = out[list(SCORE_COLUMNS)]
    for col in ("available", "complete", "estimate"):
        out[col] = out[col].astype(bool)
    for col in ("score", "max_score", "ratio", "numerator", "denominator"):
        out[col] = out[col].astype("float64")
    out["unit"] = out["unit"].astype("string")
    out["group"] = out["group"].astype("string")
    out["metric"] = out["metric"].astype("string")
    return out


# -- levers -----------------------------------------------------------------------------------


def levers(counts: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """For each component: points missing, the points closing it would gain, and the minimum
    extra numerator (denominator unchanged) that closes the gap, sorted by points gained.

    The gain respects the caps: a component is full at its threshold ratio (reuse at 0.80,
    satisfaction at 0.90, ...), and a payment component only gains up to the group's 10 points.
    With a zero denominator (and no full marks) the lever is one new case that counts (e.g. one
    fee procedure with a dossier), which makes the ratio 1. Unavailable components come last
    with no numbers.
    """
    clean = validate_counts(counts)[["unit", "metric", "numerator", "denominator"]]
    comp = scores[scores["metric"].isin(METRIC_CODES)].drop(columns=["numerator", "denominator"])
    comp = comp.astype({"unit": "string", "metric": "string"}).merge(
        clean.astype({"unit": "string", "metric": "string"}), on=["unit", "metric"], how="left"
    )
    comp = comp.merge(_component_table()[["metric", "threshold"]], on="metric", how="left")
    groups = scores[scores["metric"].isin([g.code for g in GROUPS])][["unit", "group", "score"]]
    group_max = groups["group"].astype(object).map({g.code: float(g.max_score) for g in GROUPS})
    headroom = groups.assign(
        headroom=(group_max.astype("float64") - groups["score"].astype("float64")).clip(lower=0)
    )
    comp = comp.merge(headroom[["unit", "group", "headroom"]], on=["unit", "group"], how="left")
    for col in ("score", "max_score", "numerator", "denominator", "threshold", "headroom"):
        comp[col] = comp[col].astype("float64")

    missing = (comp["max_score"] - comp["score"]).clip(lower=0)
    missing = missing.where(missing > _EPS, 0.0)
    gained = np.minimum(missing, comp["headroom"].fillna(missing))
    gained = gained.where(gained > _EPS, 0.0).where(comp["available"])
    target_score = comp["score"] + gained
    target_ratio = target_score / comp["max_score"] * comp["threshold"]
    num, den = comp["numerator"], comp["denominator"]
    needed = np.ceil(target_ratio * den - num - _EPS).clip(lower=0) + 0.0  # no "-0"
    needed = needed.where(den > 0, np.where(gained > 0, 1.0, 0.0)).where(comp["available"])

    labels = {c.code: c.lever_vi for c in COMPONENTS}
    names = {c.code: c.label_vi for c in COMPONENTS}

    def action(row: dict) -> str:
        if not row["available"]:
            return NOT_AVAILABLE_VI
        if row["points_gained"] <= 0:
            return "đã đạt điểm tối đa" if row["points_missing"] <= 0 else "nhóm đã đạt điểm tối đa"
        return f"tăng thêm {int(row['extra_needed']):,} {labels[row['metric']]}".replace(",", ".")

    out = pd.DataFrame(
        {
            "unit": comp["unit"],
            "group": comp["group"],
            "metric": comp["metric"],
            "label": comp["metric"].map(names),
            "score": comp["score"],
            "max_score": comp["max_score"],
            "points_missing": missing.where(comp["available"]),
            "points_gained": gained,
            "numerator": num,
            "denominator": den,
            "target_ratio": target_ratio.where(gained > 0),
            "extra_needed": needed,
            "available": comp["available"].astype(bool),
            "estimate": comp["estimate"].astype(bool),
        }
    )
    # A per-row formatter over ~20 rows per unit, on plain records (a Series per row cost more
    # than the rest of the levers).
    out["action"] = ([action(row) for row in out[["available", "points_gained", "points_missing",
                                                  "extra_needed", "metric"]].to_dict("records")]
                     if len(out) else pd.Series(dtype="string"))
    out = out.sort_values(
        ["points_gained", "extra_needed"], ascending=[False, True], na_position="last",
        kind="stable",
    ).reset_index(drop=True)
    return out
