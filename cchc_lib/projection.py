"""Where the year is heading (issue 12 §4): numbers as of a date, and year-end projections.

``as_of_view`` is the processed data as it stood at an instant: dossiers received later are
gone, completions and ratings after it have not happened yet, and a pending dossier due after
it is not yet overdue. Any period computed on that view is the period *to date*: the year 2023
as of 15/06/2023 is "2023-YTD" (``indicators_as_of``), so the plan report judges its dossier
indicators at the same date as its tasks.

``year_end`` projects each rate with a yearly target from the months so far, in words a leader
can act on:
- the year-to-date value (numerator / denominator to the date);
- the point projection: the remaining months keep the volume of the months so far (average
  denominator per month) at the rate of the last three complete months;
- the range: the remaining months at the lowest and at the highest monthly rate seen so far;
- what the remaining months need: ``target x (year-end denominator) - numerator so far``, per
  remaining month, in the indicator's own units ("cần khoảng 8 hồ sơ ... mỗi tháng trong 7 tháng
  còn lại").
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd

from cchc_lib import indicators as ind
from cchc_lib.asof_daily import as_of_data, whole_data
from cchc_lib.datacache import derived
from cchc_lib.dossier_source import dossier_columns
from cchc_lib.formatting import fmt_date, fmt_number, fmt_percent, format_value, level_text
from cchc_lib.periods import Period
from cchc_lib.processed import MissingDataError, ProcessedData, load_processed
from cchc_lib.schema import TABLES
from cchc_lib.targets import load_targets, targets_version

_FAR = pd.Timestamp("2200-01-01")  # a due date that no period of interest reaches
_MICRO = pd.Timedelta(microseconds=1)

# The rates projected, with what their numerator and denominator count, in plain words.
PROJECTED: dict[str, tuple[str, str]] = {
    "ontime_rate": ("hồ sơ giải quyết đúng hạn", "hồ sơ giải quyết"),
    "early_rate": ("hồ sơ giải quyết trước hạn", "hồ sơ giải quyết"),
    "online_resolved_share": ("hồ sơ giải quyết theo dịch vụ công trực tuyến", "hồ sơ giải quyết"),
    "payment_enabled_share": ("hồ sơ có phí được triển khai thanh toán trực tuyến", "hồ sơ có phí"),
    "online_payment_share": ("hồ sơ thanh toán trực tuyến",
                             "hồ sơ có phí được triển khai thanh toán trực tuyến"),
    "satisfaction_rate": ("đánh giá hài lòng", "đánh giá"),
    "avg_wait_minutes": ("phút chờ", "lượt giao dịch có ghi thời gian chờ"),
    "synced_share": ("hồ sơ đồng bộ Cổng DVCQG", "hồ sơ tiếp nhận"),
}
RECENT_MONTHS = 3
STATUS_ON_TRACK = "Dự báo đạt"
STATUS_OFF_TRACK = "Dự báo chưa đạt"
STATUS_DONE = "Năm đã kết thúc"
STATUS_TOO_EARLY = "Chưa đủ số liệu để dự báo"


def _instant(at: object) -> pd.Timestamp:
    from cchc_lib.plan import as_of_instant

    return as_of_instant(at)


# What the indicator engine reads of a dossier: every column but its id and name, where it came
# from and its submission instant (the year-end projection reads no more, not the whole file).
ENGINE_COLUMNS = tuple(spec.name for spec in TABLES["dossiers"] if spec.name not in (
    "dossier_id", "procedure_name", "source_file", "source_row", "submitted_at"))


def as_of_view(data: ProcessedData, at: object,
               columns: tuple[str, ...] | None = None) -> ProcessedData:
    """The processed data as it stood at the instant ``at`` (a date alone = the end of that day),
    with just the dossier ``columns`` (None: all of them)."""
    at = _instant(at)
    d = data.dossiers if columns is None else dossier_columns(data, columns, received_by=at)
    d = d[(d["received_at"] <= at).fillna(False).to_numpy()].copy()
    later = (d["completed_at"] > at).fillna(False).to_numpy()
    d.loc[later, "completed_at"] = pd.NaT
    if "returned_at" in d.columns:
        d.loc[(d["returned_at"] > at).fillna(False).to_numpy(), "returned_at"] = pd.NaT
    # A rating after the date did not exist then; nor one on a completion that had not happened.
    not_yet_rated = ((d["rated_at"] > at).fillna(False) | pd.Series(later, index=d.index)).to_numpy()
    d.loc[not_yet_rated, "rating"] = pd.NA
    d.loc[not_yet_rated, "rated_at"] = pd.NaT
    # Open at the date and due after it: not overdue yet, whatever period end it is judged at.
    not_due = (d["completed_at"].isna() & (d["due_at"] > at)).to_numpy()
    d.loc[not_due, "due_at"] = _FAR
    return replace(data, dossiers=d)


def engine_as_of(data: ProcessedData, at: object,
                 columns: tuple[str, ...] | None = None) -> ProcessedData:
    """The data at ``at`` for the indicator engine: from the day-level aggregate when it can say
    (``at`` the end of a day, as a period's end or ``--as-of DATE`` always is; see
    :mod:`cchc_lib.asof_daily`), else :func:`as_of_view` (the same numbers, from the dossiers).

    ``data`` may itself be the data at a date from the aggregate (``cchc report --as-of`` hands
    it to the year-end projection): at that date or later it is the answer; earlier, the data it
    was cut from is cut there instead (a view of a view at an earlier instant is the view of the
    whole data)."""
    at = _instant(at)
    return as_of_data(data, at) or as_of_view(whole_data(data), at, columns)


def to_date_code(period: Period) -> str:
    """``2023-YTD`` for a year judged before its end; a shorter period keeps its code."""
    return f"{period.year}-YTD" if period.kind == "year" else period.code


def indicators_as_of(data: ProcessedData, period: Period, at: object, by: str = "overall",
                     department: str | None = None) -> pd.DataFrame:
    """``period`` to the date ``at`` (the whole period when ``at`` is at or after its end); the
    change against last year compares with the same date a year earlier."""
    at = _instant(at)
    if at >= period.end - _MICRO:
        return ind.compute_indicators(data, period, by=by, department=department)
    rows = ind.compute_many(engine_as_of(data, at), [period], by, department, with_changes=False)
    last = ind.compute_many(engine_as_of(data, at - pd.DateOffset(years=1)), [period.same_last_year()],
                            by, department, with_changes=False)
    keys = ["group", "indicator"]
    rows["yoy_value"] = rows[keys].merge(last[[*keys, "value"]], on=keys, how="left")["value"].to_numpy()
    rows["change_yoy"] = rows["value"] - rows["yoy_value"]
    rows["period"] = to_date_code(period)
    return rows[ind.COLUMNS]


def period_as_of(period: Period) -> pd.Timestamp:
    """The last instant of a period: a period report looks at its year from there."""
    return period.end - _MICRO


# -- year-end projection --------------------------------------------------------------------


def months_elapsed(year: int, at: pd.Timestamp) -> float:
    """Months of ``year`` elapsed at ``at``: whole months plus the elapsed share of the current
    one (end of 31/05 -> 5.0; end of 15/06 -> 5.5)."""
    start = pd.Timestamp(year=year, month=1, day=1)
    if at < start:
        return 0.0
    end = pd.Timestamp(year=year + 1, month=1, day=1)
    if at >= end - _MICRO:
        return 12.0
    month_start = pd.Timestamp(year=year, month=at.month, day=1)
    month_len = (month_start + pd.DateOffset(months=1)) - month_start
    return (at.month - 1) + min(1.0, (at + _MICRO - month_start) / month_len)


def year_end(data: ProcessedData, year: int, at: object,
             department: str | None = None) -> pd.DataFrame:
    """One row per projected rate with a yearly target: year to date, projection and range,
    and what the remaining months need (numbers and a sentence).

    The same for every report of a data read judged at the same instant (a month, its quarter
    and, in December, the year): worked out once per read in a batch worker."""
    at = _instant(at)
    year = int(year)
    return derived(data, ("year end", year, at, department or None, targets_version(year)),
                   lambda: _year_end(data, year, at, department))


def _year_end(data: ProcessedData, year: int, at: pd.Timestamp,
              department: str | None) -> pd.DataFrame:
    period = Period("year", year)
    view = engine_as_of(data, at, ENGINE_COLUMNS)
    # The projected rates are dossier indicators: the catalogue's rows are not asked for.
    ytd = ind.compute_many(view, [period], "overall", department, with_changes=False,
                           with_catalogue=False)
    elapsed = months_elapsed(year, at)
    complete = [m for m in period.months() if m.end - _MICRO <= at]
    monthly = (ind.compute_many(view, complete, "overall", department, with_changes=False,
                                with_catalogue=False)
               if complete else ytd.iloc[0:0])
    targets = load_targets(year)
    rows = []
    for indicator in PROJECTED:
        t = targets.get(indicator)
        if t is None or t.value is None or t.op is None:
            continue
        row = ytd[ytd["indicator"] == indicator]
        if not len(row):
            continue
        rows.append(_project(indicator, row.iloc[0], monthly[monthly["indicator"] == indicator],
                             t.op, float(t.value), elapsed, at))
    return pd.DataFrame(rows)


def _project(indicator: str, ytd: pd.Series, monthly: pd.DataFrame, op: str, target: float,
             elapsed: float, at: pd.Timestamp) -> dict:
    num, den = float(ytd["numerator"]), float(ytd["denominator"])
    left = max(0.0, 12.0 - elapsed)
    out = {
        "indicator": indicator, "label_vi": ytd["label_vi"], "unit": ytd["unit"], "op": op,
        "target": target, "as_of": at, "ytd_numerator": num, "ytd_denominator": den,
        "ytd_value": float(ytd["value"]), "months_elapsed": elapsed, "months_left": left,
        "pace_numerator": np.nan, "pace_denominator": np.nan, "recent_value": np.nan,
        "projected": np.nan, "low": np.nan, "high": np.nan, "needed_total": np.nan,
        "needed_per_month": np.nan, "needed_rate": np.nan, "status": STATUS_TOO_EARLY,
    }
    rates = monthly[monthly["denominator"] > 0]
    if np.isnan(den) or left == 0 or not len(rates) or elapsed <= 0:
        if left == 0 and not np.isnan(den):
            out.update(projected=out["ytd_value"], low=out["ytd_value"], high=out["ytd_value"],
                       status=STATUS_DONE)
        return out
    pace_den = den / elapsed
    recent = rates.tail(RECENT_MONTHS)
    recent_rate = float(recent["numerator"].sum() / recent["denominator"].sum())
    lowest, highest = float(rates["value"].min()), float(rates["value"].max())
    year_den = den + left * pace_den

    def at_rate(rate: float) -> float:
        return (num + left * pace_den * rate) / year_den

    needed = target * year_den - num
    better_low = op in ("<=", "<")  # waiting minutes: lower is better
    projected = at_rate(recent_rate)
    meets = projected <= target + 1e-9 if better_low else projected >= target - 1e-9
    out.update(
        pace_numerator=num / elapsed, pace_denominator=pace_den, recent_value=recent_rate,
        projected=projected, low=at_rate(lowest), high=at_rate(highest), needed_total=needed,
        needed_per_month=needed / left, needed_rate=needed / (left * pace_den) if pace_den else np.nan,
        status=STATUS_ON_TRACK if meets else STATUS_OFF_TRACK,
    )
    return out


def _months_text(months: float) -> str:
    return fmt_number(months, 0 if float(months).is_integer() else 1)


def _value(value: float, unit: str) -> str:
    return format_value(value, unit)


def needs_sentence(row: dict) -> str:
    """What the remaining months need, in plain words."""
    label = str(row["label_vi"])
    if row["status"] == STATUS_DONE:
        return f"{label}: năm đã kết thúc, kết quả cả năm {_value(row['ytd_value'], row['unit'])}."
    if row["status"] == STATUS_TOO_EARLY:
        return f"{label}: chưa đủ một tháng số liệu có phát sinh để dự báo."
    noun, den_noun = PROJECTED[row["indicator"]]
    left = _months_text(row["months_left"])
    target = level_text(row["op"], row["target"], row["unit"] if row["unit"] != "minutes" else "minutes")
    if row["unit"] == "minutes":
        need = row["needed_total"] / (row["months_left"] * row["pace_denominator"])
        if need <= 0:
            return (f"{label}: không thể đưa bình quân cả năm về {target} trong {left} tháng còn lại "
                    f"(đến nay {_value(row['ytd_value'], 'minutes')}).")
        return (f"{label}: để cả năm {target}, thời gian chờ bình quân trong {left} tháng còn lại "
                f"cần không quá {fmt_number(need, 1)} phút mỗi lượt (đến nay "
                f"{_value(row['ytd_value'], 'minutes')}).")
    per_month = row["needed_per_month"]
    pace_den = row["pace_denominator"]
    if row["needed_rate"] > 1 + 1e-9:
        return (f"{label}: không còn đạt được chỉ tiêu {target} cả năm, kể cả khi mọi {den_noun} "
                f"trong {left} tháng còn lại đều đạt (đến nay {fmt_number(row['ytd_numerator'])} "
                f"{noun} trên {fmt_number(row['ytd_denominator'])} {den_noun}).")
    if per_month <= 0:
        return (f"{label}: đến nay đã đủ để cả năm đạt {target} nếu số {den_noun} các tháng còn lại "
                f"giữ như bình quân; giữ tỷ lệ từ {fmt_percent(max(0.0, row['needed_rate']))} trở lên.")
    return (f"{label}: để cả năm đạt {target}, cần khoảng {fmt_number(math.ceil(per_month - 1e-9))} "
            f"{noun} mỗi tháng trong {left} tháng còn lại (bình quân đến nay "
            f"{_count(row['pace_numerator'])} {noun} trên {_count(pace_den)} {den_noun} mỗi tháng), "
            f"tức tỷ lệ {fmt_percent(row['needed_rate'])} trong các tháng còn lại.")


def _count(value: float) -> str:
    """A monthly average: whole when it is whole or large, one decimal otherwise."""
    return fmt_number(value, 0 if float(value).is_integer() or value >= 10 else 1)


def method_sentence(frame: pd.DataFrame) -> str:
    """How the projection is made (for the report, next to the numbers)."""
    if not len(frame):
        return ""
    first = frame.iloc[0]
    return (f"Số liệu từ đầu năm đến hết ngày {fmt_date(first['as_of'])} "
            f"({_months_text(first['months_elapsed'])} tháng). Dự báo cuối năm: các tháng còn lại giữ "
            f"số hồ sơ bình quân mỗi tháng từ đầu năm, với tỷ lệ bình quân của {RECENT_MONTHS} tháng "
            f"đủ gần nhất; khoảng dự báo: các tháng còn lại đạt tỷ lệ thấp nhất và cao nhất của một "
            f"tháng từ đầu năm. Dự báo để tham khảo, không phải kết quả.")


def projection_markdown(frame: pd.DataFrame) -> str:
    """The sentences: method, then what each rate needs."""
    if not len(frame):
        return "Không có chỉ tiêu năm nào để dự báo."
    lines = [method_sentence(frame), ""]
    lines += [f"- {needs_sentence(r)}" for r in frame.to_dict("records")]
    return "\n".join(lines)


def year_end_from(processed_dir: str, year: int, at: object) -> pd.DataFrame:
    """``year_end`` from the processed folder; an empty frame when no dossiers were ingested
    (the plan report still renders)."""
    from pathlib import Path

    try:
        data = load_processed(Path(processed_dir))
    except MissingDataError:
        return pd.DataFrame()
    return year_end(data, year, at)


# -- "2023-YTD" on the command line ------------------------------------------------------------

YTD_SUFFIX = "-YTD"


def parse_year_to_date(text: str) -> Period | None:
    """``2023-YTD`` -> the year 2023 (to be judged as of a date); None for anything else."""
    value = str(text).strip().upper()
    if value.endswith(YTD_SUFFIX) and value[:-len(YTD_SUFFIX)].isdigit():
        return Period.parse(value[:-len(YTD_SUFFIX)])
    return None


def default_as_of(period: Period, today: pd.Timestamp | None = None) -> pd.Timestamp:
    """``2023-YTD`` without a date: today, or the year's last day once it is over."""
    today = pd.Timestamp.now() if today is None else pd.Timestamp(today)
    return _instant(min(today.normalize(), period.last_day))
