"""The indicator engine: every dossier and catalogue indicator of the plan, for any period and
breakdown, against the plan's targets (``cchc_lib/targets/<year>.yaml``).

How it works (and why it is fast): numerators and denominators are additive, so each dossier
(or, when ingest wrote one, each row of the day-level aggregate ``daily.parquet``, which sums
the dossiers per day and cell: :mod:`cchc_lib.daily`, same numbers for every convention and
window) is placed once in a month grid per time base (received, completed, rated) and every measure is
summed per (group, month) with ``np.bincount``. A period's value is then a difference of
cumulative sums, ``C[end] - C[start]``. The backlog counts are point-in-time but fall out of
the same cumulative sums: a dossier is pending at a month boundary ``e`` when it was received
before ``e`` and not completed before ``e``, so ``pending(e) = #received<e - #completed<e``
(with completed counted at ``max(received, completed)`` to stay exact even on odd data).

Definitions (see ``/shared/spec/indicators.md``): periods are half-open in local time;
resolved = ``completed_at`` inside the period whatever the status (refused and withdrawn
included); timeliness classes: late = completed after the due instant, early = not late and
completed on an earlier calendar day, on the day = the rest.

Decisions documented here because others build on them:
- A nullable yes/no column that is <NA> for a dossier counts as "no" for that dossier; an
  indicator is "Chưa có dữ liệu" only when its input column is missing or <NA> everywhere in
  the processed data (before any department filter).
- ``online_payment_share`` counts, in its numerator, fee dossiers paid online whose procedure
  accepts online payment, so that it is a share of its denominator (never above 100%).
- Catalogue indicators are computed for ``by="overall"`` (whole catalogue) and ``by="field"``
  (per catalogue field); for the other breakdowns, and when a ``department`` filter is given,
  they are omitted (the catalogue has no department, channel or dossier-level meaning).
- ``form_field_reduction`` = fields removed / fields before, over the forms that were
  simplified (both counts known and fewer fields after than before).
- Groups with no activity at all in a period (nothing received, resolved, rated, pending or
  carried over) are left out of breakdowns; the overall group is always there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cchc_lib import dossier_source
from cchc_lib.config import profile
from cchc_lib.daily import accepts_online_payment, month_events
from cchc_lib.periods import ND09_DAY, Period, months_between
from cchc_lib.processed import ProcessedData
from cchc_lib.schema import flag
from cchc_lib.targets import Targets, load_targets, target_text_vi

GROUP_OVERALL = "Toàn Sở"
GROUP_UNKNOWN = "Không rõ"  # dossiers whose department, field, procedure or channel is unknown
STATUS_MET = "Đạt"
STATUS_NOT_MET = "Chưa đạt"
STATUS_NO_EVENT = "Không phát sinh"
STATUS_NO_DATA = "Chưa có dữ liệu"

BY_CHOICES = ("overall", "department", "field", "procedure", "channel")
CHANNEL_LABELS = {"online": "Trực tuyến", "in_person": "Trực tiếp", "postal": "Bưu chính công ích"}
BY_LABELS = {
    "overall": "Toàn Sở",
    "department": "Phòng xử lý",
    "field": "Lĩnh vực",
    "procedure": "Thủ tục hành chính",
    "channel": "Kênh nộp",
}

_TIDY = ["period", "group_by", "group", "indicator", "numerator", "denominator", "value", "target",
         "status"]
CLI_COLUMNS = [*_TIDY, "window"]  # the data window appended (conventions.md §3)
COLUMNS = [*_TIDY, "label_vi", "unit", "target_min", "target_op", "target_text_vi",
           "target_source", "status_min", "prev_value", "change_prev", "yoy_value", "change_yoy"]




@dataclass(frozen=True)
class IndicatorDef:
    id: str
    label_vi: str
    unit: str  # rate | minutes | days | count
    numerator: str
    denominator: str | None  # None: a count (value = numerator)
    requires: tuple[str, ...] = ()  # availability keys, see _availability
    catalogue: bool = False


DOSSIER_INDICATORS: tuple[IndicatorDef, ...] = (
    IndicatorDef("ontime_rate", "Tỷ lệ hồ sơ giải quyết đúng hạn", "rate", "ontime", "resolved"),
    IndicatorDef("early_rate", "Tỷ lệ hồ sơ giải quyết trước hạn", "rate", "early", "resolved"),
    IndicatorDef("late_rate", "Tỷ lệ hồ sơ giải quyết quá hạn", "rate", "late", "resolved"),
    # Biểu II.5 "hồ sơ để chậm, muộn": resolved late in the period + pending overdue at its end.
    IndicatorDef("apology_rate", "Tỷ lệ hồ sơ chậm, muộn có văn bản xin lỗi", "rate", "apology_num",
                 "apology_den", ("apology_issued",)),
    # III.2, Biểu II.8 "hồ sơ giải quyết theo DVCTT / hồ sơ giải quyết": by completion date, over
    # the resolved dossiers whose channel is known (an export without a channel column: no data).
    IndicatorDef("online_resolved_share", "Tỷ lệ hồ sơ giải quyết theo dịch vụ công trực tuyến",
                 "rate", "online_resolved", "resolved_channel_known", ("channel",)),
    IndicatorDef("online_share", "Tỷ lệ hồ sơ nộp trực tuyến", "rate", "online", "channel_known",
                 ("channel",)),
    IndicatorDef("payment_enabled_share",
                 "Tỷ lệ hồ sơ có nghĩa vụ tài chính được triển khai thanh toán trực tuyến", "rate",
                 "fee_enabled", "fee", ("fee_required", "catalogue_online_payment")),
    IndicatorDef("online_payment_share", "Tỷ lệ giao dịch thanh toán trực tuyến", "rate",
                 "fee_enabled_paid", "fee_enabled",
                 ("fee_required", "paid_online", "catalogue_online_payment")),
    IndicatorDef("satisfaction_rate", "Mức độ hài lòng của người dân, tổ chức", "rate",
                 "satisfied", "rated", ("rating",)),
    IndicatorDef("avg_wait_minutes", "Thời gian chờ trung bình tại Bộ phận Một cửa", "minutes",
                 "wait_sum", "wait_count", ("wait_minutes",)),
    IndicatorDef("synced_share", "Tỷ lệ hồ sơ đồng bộ Cổng DVCQG", "rate", "synced", "received",
                 ("synced_national",)),
    IndicatorDef("digitized_share", "Tỷ lệ hồ sơ được số hóa", "rate", "digitized", "received",
                 ("digitized",)),
    IndicatorDef("electronic_result_share", "Tỷ lệ kết quả giải quyết điện tử", "rate",
                 "electronic_result", "resolved", ("electronic_result",)),
    IndicatorDef("avg_processing_days", "Thời gian giải quyết trung bình", "days",
                 "processing_days_sum", "resolved"),
    IndicatorDef("pending", "Hồ sơ đang giải quyết tại thời điểm cuối kỳ", "count", "pending", None),
    IndicatorDef("pending_overdue", "Hồ sơ đang giải quyết quá hạn tại thời điểm cuối kỳ", "count",
                 "pending_overdue", None),
    IndicatorDef("carried_over", "Số hồ sơ kỳ trước chuyển sang", "count", "carried_over", None),
)

CATALOGUE_INDICATORS: tuple[IndicatorDef, ...] = (
    IndicatorDef("full_online_coverage", "Tỷ lệ TTHC đủ điều kiện được cung cấp DVC toàn trình",
                 "rate", "eligible_full", "eligible", ("full_online_eligible",), True),
    IndicatorDef("online_service_share", "Tỷ lệ TTHC có DVC trực tuyến", "rate",
                 "online_services", "procedures", (), True),
    IndicatorDef("national_integration_share", "Tỷ lệ DVC trực tuyến tích hợp Cổng DVCQG", "rate",
                 "integrated", "online_services", ("national_integrated",), True),
    IndicatorDef("published_share", "Tỷ lệ TTHC công khai cả niêm yết và điện tử", "rate",
                 "published", "procedures", ("published",), True),
    IndicatorDef("form_field_reduction", "Tỷ lệ cắt giảm thông tin phải khai trên tờ khai", "rate",
                 "fields_removed", "fields_before", ("form_fields",), True),
)
INDICATORS: dict[str, IndicatorDef] = {d.id: d for d in (*DOSSIER_INDICATORS, *CATALOGUE_INDICATORS)}

# Additive measures by time base; "in"/"out"/"due_in"/"due_out" feed the backlog counts.
RECEIVED_MEASURES = ("received", "online", "channel_known", "fee", "fee_enabled", "fee_enabled_paid",
                     "synced",
                     "digitized", "wait_sum", "wait_count")
COMPLETED_MEASURES = ("resolved", "early", "on_day", "late", "late_apology", "online_resolved",
                      "resolved_channel_known", "electronic_result", "processing_days_sum")
RATED_MEASURES = ("rated", "satisfied")
STOCK_BASES = ("in", "out", "due_in", "due_out")
# Point-in-time counts (at the period's end; carried_over at its start).
STOCK_MEASURES = ("pending", "pending_overdue", "carried_over", "pending_overdue_apology")
# Measures that are sums of others (the methods section reads their parts from here too).
COMPOSED_MEASURES: dict[str, tuple[str, ...]] = {
    "ontime": ("early", "on_day"),
    "apology_num": ("late_apology", "pending_overdue_apology"),
    "apology_den": ("late", "pending_overdue"),
}
DOSSIER_MEASURES = (*RECEIVED_MEASURES, *COMPLETED_MEASURES, *RATED_MEASURES, *STOCK_MEASURES,
                    *COMPOSED_MEASURES)


# -- per-dossier arrays ----------------------------------------------------------------------


def _months(values: pd.Series, window: str = "calendar") -> tuple[np.ndarray, np.ndarray]:
    """(month number = year * 12 + month - 1, valid mask) of a datetime column.

    Under the ``nd09`` window a month runs from the 15th of the month before to the 14th, so
    an instant on or after the 15th belongs to the next month's window."""
    arr = values.to_numpy(dtype="datetime64[ns]")
    valid = ~np.isnat(arr)
    calendar_month = arr.astype("datetime64[M]")
    months = calendar_month.astype(np.int64) + 1970 * 12
    if window == "nd09":
        day = (arr.astype("datetime64[D]") - calendar_month.astype("datetime64[D]")).astype(np.int64) + 1
        months = months + (day >= ND09_DAY)
    return np.where(valid, months, 0), valid


def _present_columns(report: dict, table: str) -> set[str]:
    """Columns some raw file of ``table`` had, per ingest_report.json (empty when unknown)."""
    block = (report or {}).get("tables", {}).get(table, {})
    return set(block.get("columns_present", ()))


def _available(frame: pd.DataFrame, column: str, present: set[str]) -> bool:
    """An input feeds its indicator when an export had the column (even if every cell was
    empty: nobody rated is "Không phát sinh") or, without that record, when it holds a value."""
    if column not in frame.columns:
        return False
    return column in present or bool(frame[column].notna().any())


def _availability(data: ProcessedData) -> dict[str, bool]:
    p = data.procedures
    d_cols = _present_columns(data.ingest_report, "dossiers")
    p_cols = _present_columns(data.ingest_report, "procedures")
    avail = dossier_source.has_values(data, (
        "apology_issued", "fee_required", "paid_online", "rating", "wait_minutes", "synced_national",
        "digitized", "electronic_result", "channel"), d_cols)
    avail["catalogue_online_payment"] = _available(p, "online_payment", p_cols)
    avail["full_online_eligible"] = _available(p, "full_online_eligible", p_cols)
    avail["national_integrated"] = _available(p, "national_integrated", p_cols)
    avail["published"] = (_available(p, "published_posted", p_cols)
                          and _available(p, "published_electronic", p_cols))
    avail["form_fields"] = (_available(p, "form_fields_before", p_cols)
                            and _available(p, "form_fields_after", p_cols))
    return avail


def availability(data: ProcessedData) -> dict[str, bool]:
    """Which inputs exist (availability keys of IndicatorDef.requires, e.g. ``channel``)."""
    return _availability(data)


# The catalogue-year rule lives with the aggregate, which applies it at ingest.
_accepts_online_payment = accepts_online_payment


def _dossier_events(dossiers: pd.DataFrame, procedures: pd.DataFrame,
                    window: str = "calendar") -> dict[str, object]:
    """Month numbers per time base and the per-dossier measure weights. ``dossiers`` are the
    counted ones (conventions.counted_dossiers: due instants per the timeliness convention)."""
    rm, _ = _months(dossiers["received_at"], window)
    cm, done = _months(dossiers["completed_at"], window)
    dm, _ = _months(dossiers["due_at"], window)
    rated_m, rated_valid = _months(dossiers["rated_at"], window)
    # Clock stopped (awaiting the citizen, suspended): never overdue while pending.
    if "clock_stopped" in dossiers.columns:
        may_be_overdue = ~dossiers["clock_stopped"].to_numpy(dtype=bool)
    else:
        may_be_overdue = np.ones(len(dossiers), dtype=bool)

    received = dossiers["received_at"].to_numpy(dtype="datetime64[ns]")
    completed = dossiers["completed_at"].to_numpy(dtype="datetime64[ns]")
    due = dossiers["due_at"].to_numpy(dtype="datetime64[ns]")

    late = done & (completed > due)
    early = done & ~late & (completed.astype("datetime64[D]") < due.astype("datetime64[D]"))
    on_day = done & ~late & ~early

    fee = flag(dossiers, "fee_required")
    enabled = fee & _accepts_online_payment(dossiers, procedures, rm // 12)
    wait = dossiers["wait_minutes"].to_numpy(dtype=float, na_value=np.nan)
    has_wait = ~np.isnan(wait)
    rating = dossiers["rating"]
    rated = rating.notna().to_numpy()
    satisfied = rating.isin(["very_satisfied", "satisfied"]).to_numpy(dtype=bool)
    rated_month = np.where(rated_valid, rated_m, cm)
    rated_ok = rated & (rated_valid | done)
    days = np.where(done, (completed - received).astype("timedelta64[ns]").astype(np.int64), 0) / 86400e9

    ones = np.ones(len(dossiers), dtype=bool)
    online = (dossiers["channel"] == "online").to_numpy(dtype=bool, na_value=False)
    channel_known = dossiers["channel"].notna().to_numpy(dtype=bool)
    apology = flag(dossiers, "apology_issued")
    return {
        "received": (rm, ones, {
            "received": ones,
            "online": online,
            "channel_known": channel_known,
            "fee": fee,
            "fee_enabled": enabled,
            "fee_enabled_paid": enabled & flag(dossiers, "paid_online"),
            "synced": flag(dossiers, "synced_national"),
            "digitized": flag(dossiers, "digitized"),
            "wait_sum": np.where(has_wait, wait, 0.0),
            "wait_count": has_wait,
        }),
        "completed": (cm, done, {
            "resolved": ones,
            "early": early,
            "on_day": on_day,
            "late": late,
            "late_apology": late & apology,
            "online_resolved": online,
            "resolved_channel_known": channel_known,
            "electronic_result": flag(dossiers, "electronic_result"),
            "processing_days_sum": days,
        }),
        "rated": (rated_month, rated_ok, {"rated": ones, "satisfied": satisfied}),
        # Stock bases: a dossier "enters" at its received month and "leaves" at its completion
        # month; max() keeps the identities exact even if a date precedes received_at.
        "in": (rm, ones, {"in": ones}),
        "out": (np.maximum(rm, cm), done, {"out": ones}),
        "due_in": (np.maximum(rm, dm), may_be_overdue, {"due_in": ones, "due_in_apology": apology}),
        "due_out": (np.maximum(np.maximum(rm, dm), cm), done & may_be_overdue,
                    {"due_out": ones, "due_out_apology": apology}),
    }


def _month_number(period: Period) -> tuple[int, int]:
    start = period.year * 12 + period.first_month - 1
    return start, start + period.n_months


def _group_keys(dossiers: pd.DataFrame, by: str) -> tuple[np.ndarray, list[str]]:
    if by == "overall":
        return np.zeros(len(dossiers), dtype=np.int64), [GROUP_OVERALL]
    if by not in BY_CHOICES:
        raise ValueError(f"by must be one of {BY_CHOICES}, not {by!r}")
    column = {"department": "department", "field": "field", "procedure": "procedure_code",
              "channel": "channel"}[by]
    values = dossiers[column]
    if by == "channel":
        values = values.map(CHANNEL_LABELS).fillna(values)
    if values.isna().any():  # an export without the column: its own group, never dropped
        values = values.astype(object).where(values.notna(), GROUP_UNKNOWN)
    codes, uniques = pd.factorize(values, sort=True)
    return codes.astype(np.int64), [str(u) for u in uniques]


def dossier_measures(data: ProcessedData, periods: Sequence[Period], by: str = "overall",
                     department: str | None = None, window: str | None = None) -> pd.DataFrame:
    """Every additive measure and backlog count per (period, group): one row each, columns
    ``period, group`` + ``DOSSIER_MEASURES``. The base for the indicators and for Biểu 06.

    Dossiers are counted per ``data.conventions``; periods cover the data window ``window``
    (default: the conventions' analysis window). A prebuilt grid (measure_grid) built for the
    same conventions and window answers instead of the dossiers."""
    window = window or data.conventions.window
    if data.grid is not None and data.grid.serves(data.conventions, window):
        return data.grid.measures([p.with_window(window) for p in periods], by, department)
    daily = data.aggregate()
    if daily is not None:
        # The day-level aggregate: each row stands for the dossiers it sums, same rules.
        dossiers, events = month_events(daily, data.conventions, window)
    else:
        dossiers = data.counted()
    if department is not None:
        chosen = (dossiers["department"] == department).to_numpy(dtype=bool, na_value=False)
        dossiers = dossiers[chosen]
        if daily is not None:
            events = {base: (months[chosen], valid[chosen], {k: v[chosen] for k, v in ms.items()})
                      for base, (months, valid, ms) in events.items()}
    periods = list(dict.fromkeys(p.with_window(window) for p in periods))
    if daily is None:
        events = _dossier_events(dossiers, data.procedures, window)
    sums, groups, _, starts, ends = period_sums(dossiers, events, periods, by)
    columns = measure_columns(sums, starts, ends)
    return pd.DataFrame({
        "period": np.repeat([p.code for p in periods], len(groups)),
        "group": np.tile(np.array(groups, dtype=object), len(periods)),
        **{name: columns[name] for name in DOSSIER_MEASURES},
    })


def period_sums(rows: pd.DataFrame, events: dict, periods: Sequence[Period], by: str) -> tuple:
    """Cumulative month sums of every measure of ``events`` (per base: month, valid, weights, one
    value per row of ``rows``) per group of ``rows`` under ``by``: ``(sums, groups, bounds,
    starts, ends)``, each period's months in ``bounds`` and its start and end columns."""
    bounds = np.array([_month_number(p) for p in periods], dtype=np.int64).reshape(-1, 2)
    # Month grid: offset 0 holds everything up to the month before the earliest start, the last
    # offset everything from the latest end on; so every period has 1 <= start < end <= last.
    origin = int(bounds[:, 0].min()) - 1
    width = int(bounds[:, 1].max()) - origin + 1
    group_codes, groups = _group_keys(rows, by)
    n_groups = len(groups)
    sums: dict[str, np.ndarray] = {}
    for months, valid, measures in events.values():
        keys = (group_codes * width + np.clip(months - origin, 0, width - 1))[valid]
        for name, weights in measures.items():
            counts = np.bincount(keys, weights=weights[valid].astype(np.float64), minlength=n_groups * width)
            cum = np.zeros((n_groups, width + 1))
            np.cumsum(counts.reshape(n_groups, width), axis=1, out=cum[:, 1:])
            sums[name] = cum
    return sums, groups, bounds, bounds[:, 0] - origin, bounds[:, 1] - origin


def measure_columns(
    sums: dict[str, np.ndarray], starts: np.ndarray, ends: np.ndarray
) -> dict[str, np.ndarray]:
    """Every measure of ``DOSSIER_MEASURES`` per (period, group), in that order, from cumulative
    sums (one row per group, column k = everything before boundary k) and each period's start
    and end column: flows are differences, stocks are read at the period's end (carried_over at
    its start). Shared by the engine and the explorer's month grid."""
    columns: dict[str, np.ndarray] = {}
    for name in (*RECEIVED_MEASURES, *COMPLETED_MEASURES, *RATED_MEASURES):
        cum = sums[name]
        columns[name] = (cum[:, ends] - cum[:, starts]).T.ravel()  # (period, group) order

    def stock(into: str, out: str, at: np.ndarray) -> np.ndarray:
        return (sums[into][:, at] - sums[out][:, at]).T.ravel()

    columns["pending"] = stock("in", "out", ends)
    columns["pending_overdue"] = stock("due_in", "due_out", ends)
    columns["carried_over"] = stock("in", "out", starts)
    columns["pending_overdue_apology"] = stock("due_in_apology", "due_out_apology", ends)
    for name, parts in COMPOSED_MEASURES.items():
        columns[name] = sum(columns[part] for part in parts)
    return columns


# -- catalogue -------------------------------------------------------------------------------


def catalogue_measures(procedures: pd.DataFrame, years: Iterable[int], by: str = "overall") -> pd.DataFrame:
    """Catalogue numerators/denominators per (catalogue year, group); by overall or field."""
    p = procedures[procedures["year"].isin(list(years))]
    level = p["service_level"]
    eligible = p["full_online_eligible"].fillna(False).astype(bool)
    online = level.isin(["full", "partial"]).fillna(False).astype(bool)
    before = p["form_fields_before"].astype("Float64")
    after = p["form_fields_after"].astype("Float64")
    simplified = (before.notna() & after.notna() & (after < before)).fillna(False).astype(bool)
    parts = pd.DataFrame({
        "year": p["year"].astype(np.int64),
        "group": GROUP_OVERALL if by == "overall" else p["field"].astype(object),
        "procedures": 1,
        "eligible": eligible.astype(np.int64),
        "eligible_full": (eligible & (level == "full").fillna(False)).astype(np.int64),
        "online_services": online.astype(np.int64),
        "integrated": (online & p["national_integrated"].fillna(False).astype(bool)).astype(np.int64),
        "published": (p["published_posted"].fillna(False).astype(bool)
                      & p["published_electronic"].fillna(False).astype(bool)).astype(np.int64),
        "fields_before": before.where(simplified, 0).fillna(0).astype(float),
        "fields_removed": (before - after).where(simplified, 0).fillna(0).astype(float),
    })
    return parts.groupby(["year", "group"], as_index=False, sort=True).sum()


# -- assembling the tidy frame ---------------------------------------------------------------


def _targets(year: int) -> Targets:
    return _targets_in(year, profile().targets_dir)  # the run's agency profile says where


@lru_cache(maxsize=16)
def _targets_in(year: int, directory: Path) -> Targets:
    return load_targets(year, directory)


def _status(values: np.ndarray, op: str | None, targets: np.ndarray) -> np.ndarray:
    """Vectorised Đạt / Chưa đạt / "" (no numeric target or no value)."""
    out = np.full(len(values), "", dtype=object)
    if op is None:
        return out
    eps = 1e-9
    with np.errstate(invalid="ignore"):
        if op == ">=":
            ok = values >= targets - eps
        elif op == ">":
            ok = values > targets + eps
        elif op == "<=":
            ok = values <= targets + eps
        elif op == "<":
            ok = values < targets - eps
        else:
            ok = np.abs(values - targets) <= eps
    judged = ~np.isnan(values) & ~np.isnan(targets)
    out[judged & ok] = STATUS_MET
    out[judged & ~ok] = STATUS_NOT_MET
    return out


def _indicator_rows(defn: IndicatorDef, base: pd.DataFrame, years: np.ndarray, available: np.ndarray,
                    by: str, prev_catalogue_value: np.ndarray | None = None) -> dict[str, Any]:
    """Rows of one indicator for every (period, group) row of ``base``, as columns (the caller
    stacks every indicator's into one frame: a frame each cost more than the arithmetic)."""
    n = len(base)
    num = base[defn.numerator].to_numpy(dtype=float)
    if defn.denominator is None:
        den = np.full(n, np.nan)
        value = num.copy()
        no_event = np.zeros(n, dtype=bool)
    else:
        den = base[defn.denominator].to_numpy(dtype=float)
        no_event = den == 0
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.where(no_event, np.nan, num / np.where(no_event, 1, den))
    num = np.where(available, num, np.nan)
    den = np.where(available, den, np.nan)
    value = np.where(available, value, np.nan)

    target = np.full(n, np.nan)
    target_min = np.full(n, np.nan)
    op: str | None = None
    texts = np.empty(n, dtype=object)
    sources = np.empty(n, dtype=object)
    for year in np.unique(years):
        rows = years == year
        t = _targets(int(year)).get(defn.id)
        if t is None:
            texts[rows] = target_text_vi(None, defn.unit, int(year) if not _targets(int(year)).available
                                         else None)
            sources[rows] = ""
            continue
        op = t.op or op
        sources[rows] = t.source + (f"; {t.source_min}" if t.source_min else "")
        if t.relative_to_previous_year is not None:
            prev = (prev_catalogue_value[rows] if prev_catalogue_value is not None
                    else np.full(int(rows.sum()), np.nan))
            target[rows] = np.minimum(1.0, prev + t.relative_to_previous_year)
            texts[rows] = [target_text_vi(t, defn.unit, int(year), None if np.isnan(v) else float(v))
                           for v in prev]
        else:
            target[rows] = np.nan if t.value is None else t.value
            target_min[rows] = np.nan if t.value_min is None else t.value_min
            texts[rows] = target_text_vi(t, defn.unit, int(year))
    status = _status(value, op, target)
    status_min = _status(value, op, target_min)
    for arr in (status, status_min):
        arr[no_event] = STATUS_NO_EVENT
        arr[~available] = STATUS_NO_DATA
    status_min[np.isnan(target_min)] = ""  # no lower level, nothing to judge against it
    return {"period": base["period"].to_numpy(), "group_by": by, "group": base["group"].to_numpy(),
            "indicator": defn.id, "numerator": num, "denominator": den, "value": value,
            "target": target, "status": status, "label_vi": defn.label_vi, "unit": defn.unit,
            "target_min": target_min, "target_op": op or "", "target_text_vi": texts,
            "target_source": sources, "status_min": status_min}


def _stacked(parts: list[dict[str, Any]]) -> pd.DataFrame:
    """One frame of the indicators' columns (a scalar: the same value on each of its rows)."""
    sizes = [len(part["period"]) for part in parts]
    if not all(sizes):  # the column types of an empty frame are pandas' concat's to decide
        return pd.concat([pd.DataFrame(part) for part in parts], ignore_index=True)
    return pd.DataFrame({name: np.concatenate([
        np.full(size, part[name], dtype=object) if isinstance(part[name], str) else part[name]
        for part, size in zip(parts, sizes, strict=True)]) for name in parts[0]})


def _period_year(codes: Iterable[str]) -> np.ndarray:
    return np.array([int(str(c)[:4]) for c in codes], dtype=np.int64)


def _catalogue_rows(data: ProcessedData, periods: Sequence[Period], by: str,
                    avail: dict[str, bool]) -> list[dict[str, Any]]:
    years = sorted({p.year for p in periods})
    measures = catalogue_measures(data.procedures, [*years, *(y - 1 for y in years)], by)
    present_years = set(data.procedures["year"].dropna().astype(int))
    base_cols = ["procedures", "eligible", "eligible_full", "online_services", "integrated",
                 "published", "fields_before", "fields_removed"]
    per_year = measures.set_index(["year", "group"])
    groups = sorted(measures["group"].unique()) if by == "field" else [GROUP_OVERALL]
    base = pd.DataFrame(
        [(p.code, p.year, g) for p in periods for g in groups], columns=["period", "year", "group"]
    )
    joined = base.join(per_year[base_cols], on=["year", "group"])
    joined[base_cols] = joined[base_cols].fillna(0)
    # Previous catalogue year's integration share, per group, for the "+20 points" target.
    prev = per_year.reindex(pd.MultiIndex.from_arrays([joined["year"] - 1, joined["group"]]))
    with np.errstate(invalid="ignore", divide="ignore"):
        prev_share = np.where(prev["online_services"].fillna(0).to_numpy() > 0,
                              prev["integrated"].to_numpy(dtype=float)
                              / prev["online_services"].to_numpy(dtype=float), np.nan)
    prev_year_ok = np.array([(y - 1) in present_years for y in joined["year"]])
    prev_share = np.where(prev_year_ok & avail["national_integrated"], prev_share, np.nan)
    year_present = np.array([y in present_years for y in joined["year"]])
    out = []
    for defn in CATALOGUE_INDICATORS:
        available = year_present & all(avail[k] for k in defn.requires)
        out.append(_indicator_rows(defn, joined, joined["year"].to_numpy(), available, by,
                                   prev_share if defn.id == "national_integration_share" else None))
    return out


def _compute_rows(data: ProcessedData, periods: Sequence[Period], by: str,
                  department: str | None, with_catalogue: bool = True) -> pd.DataFrame:
    avail = _availability(data)
    base = dossier_measures(data, periods, by, department)
    if by != "overall":
        activity = base[["received", "resolved", "rated", "pending", "carried_over"]].sum(axis=1)
        base = base[activity.to_numpy() > 0].reset_index(drop=True)
    years = _period_year(base["period"])
    frames = [
        _indicator_rows(d, base, years, np.full(len(base), all(avail[k] for k in d.requires)), by)
        for d in DOSSIER_INDICATORS
    ]
    if with_catalogue and by in ("overall", "field") and department is None:
        frames.extend(_catalogue_rows(data, periods, by, avail))
    rows = _stacked(frames)
    order = {p.code: i for i, p in enumerate(periods)}
    ind_order = {name: i for i, name in enumerate(INDICATORS)}
    rows["_p"] = rows["period"].map(order)
    rows["_g"] = (rows["group"] != GROUP_OVERALL).astype(int)
    rows["_i"] = rows["indicator"].map(ind_order)
    rows = rows.sort_values(["_p", "_g", "group", "_i"], kind="stable").drop(columns=["_p", "_g", "_i"])
    return rows.reset_index(drop=True)


def compute_many(data: ProcessedData, periods: Sequence[Period], by: str = "overall",
                 department: str | None = None, with_changes: bool = True,
                 with_catalogue: bool = True) -> pd.DataFrame:
    """Indicators for many periods in one pass (one month grid, one bincount per measure);
    ``with_catalogue=False``: the dossier indicators' rows only (the same rows)."""
    periods = list(dict.fromkeys(periods))
    if not periods:
        return pd.DataFrame(columns=COLUMNS)
    # Results keep the periods' codes; the data window is the conventions' (the window column).
    wanted = list(periods)
    if with_changes:
        extra = [q for p in periods for q in (p.previous(), p.same_last_year())]
        wanted = list(dict.fromkeys([*periods, *extra]))
    rows = _compute_rows(data, wanted, by, department, with_catalogue)
    if with_changes:
        keys = ["period", "group", "indicator"]
        lookup = rows[keys + ["value"]]
        for prefix, shift in (("prev", Period.previous), ("yoy", Period.same_last_year)):
            mapping = {p.code: shift(p).code for p in periods}
            probe = rows[keys].copy()
            probe["period"] = probe["period"].map(mapping)
            found = probe.merge(lookup, on=keys, how="left")["value"].to_numpy(dtype=float)
            rows[f"{prefix}_value"] = found
        requested = {p.code for p in periods}
        rows = rows[rows["period"].isin(requested)].reset_index(drop=True)
    else:
        rows["prev_value"] = np.nan
        rows["yoy_value"] = np.nan
    rows["change_prev"] = rows["value"] - rows["prev_value"]
    rows["change_yoy"] = rows["value"] - rows["yoy_value"]
    return rows[COLUMNS]


def compute_indicators(data: ProcessedData, period: Period, by: str = "overall",
                       department: str | None = None) -> pd.DataFrame:
    """Every indicator for one period, tidy: one row per (group, indicator), columns COLUMNS."""
    return compute_many(data, [period], by, department, with_changes=True)


def monthly_indicators(data: ProcessedData, start: Period, end: Period, by: str = "overall",
                       department: str | None = None) -> pd.DataFrame:
    """The same columns for every month from ``start`` to ``end`` inclusive (for charts)."""
    return compute_many(data, months_between(start, end), by, department, with_changes=False)
