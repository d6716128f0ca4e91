"""The analysts' explorer, without widgets: what a choice of controls asks, and the answer.

A :class:`Selection` holds what the analyst clicked (indicators, breakdown, granularity, date
range, the period looked at, a department, a procedure, the period to compare with, and the
reporting conventions: the data window and how dossiers are counted). The
functions here turn a selection into tables and figures, every number coming from the indicator
engine (:mod:`cchc_lib.indicators`) through one memoising :class:`Engine`; the explorer adds only
presentation (ordering, the share of a group in the overall gap, labels). The widgets that drive
all of this live in :mod:`cchc_lib.explorer.ui`; charts, tables and exports in
:mod:`cchc_lib.explorer.view`.

The conventions (:mod:`cchc_lib.conventions`: window calendar|nd09, timeliness, withdrawn
dossiers) are the engine's own: :class:`Engine` keeps one grid-backed copy of the data per
combination chosen (``ProcessedData.conventions`` + a month grid built for them), so every view
under a combination is what ``cchc indicators --conventions FILE --window W`` prints, and
switching back to a combination seen before costs no rebuild.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Literal

import numpy as np
import pandas as pd

from cchc_lib import dossier_source
from cchc_lib.conventions import DEFAULT as DEFAULT_CONVENTIONS
from cchc_lib.conventions import Conventions, counted_dossiers
from cchc_lib.formatting import fmt_date
from cchc_lib.indicators import BY_LABELS, CATALOGUE_INDICATORS, GROUP_OVERALL, INDICATORS, compute_many
from cchc_lib.measure_grid import GridBasis, grid_basis, with_grid
from cchc_lib.periods import ND09_DAY, Period, month_of, periods_between
from cchc_lib.processed import ProcessedData

Granularity = Literal["month", "quarter", "year"]

# Indicators grouped as the period report presents them (its sections 1 and 2).
INDICATOR_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Tiến độ giải quyết", ("ontime_rate", "early_rate", "late_rate", "apology_rate")),
    ("Mức độ hài lòng", ("satisfaction_rate",)),
    ("Hồ sơ nộp trực tuyến", ("online_share",)),
    ("Thanh toán trực tuyến", ("payment_enabled_share", "online_payment_share")),
    ("Số hóa, kết quả điện tử và đồng bộ Cổng DVCQG",
     ("digitized_share", "electronic_result_share", "synced_share")),
    ("Thời gian chờ và thời gian giải quyết", ("avg_wait_minutes", "avg_processing_days")),
    ("Hồ sơ tồn", ("pending", "pending_overdue", "carried_over")),
    ("Danh mục thủ tục (toàn Sở, lĩnh vực)", tuple(d.id for d in CATALOGUE_INDICATORS)),
)
GRANULARITY_LABELS: dict[str, str] = {"month": "Tháng", "quarter": "Quý", "year": "Năm"}
COMPARE_LABELS: dict[str, str] = {"yoy": "Cùng kỳ năm trước", "previous": "Kỳ liền trước"}
# Higher is better unless listed here (backlog counts: fewer is better).
LOWER_IS_BETTER = frozenset({"late_rate", "avg_wait_minutes", "avg_processing_days", "pending",
                             "pending_overdue", "carried_over"})
TIMELINESS_LABELS = {
    "early": "Trước hạn", "on_day": "Đúng hạn", "late": "Quá hạn",
    "pending": "Đang giải quyết (trong hạn)", "pending_overdue": "Đang giải quyết (quá hạn)",
}
CHANNEL_LABELS = {"online": "Trực tuyến", "in_person": "Trực tiếp", "postal": "Bưu chính công ích"}
# The conventions' choices as the controls say them (conventions.md §3).
WINDOW_LABELS = {"calendar": "Theo tháng dương lịch", "nd09": "Theo NĐ 09/2019 (ngày 15 → ngày 14)"}
TIMELINESS_CONVENTION_LABELS = {"instant": "Thời điểm", "day": "Ngày"}
WITHDRAWN_LABELS = {"by_dates": "Xét theo ngày", "on_time": "Tính đúng hạn", "excluded": "Không tính"}


@dataclass(frozen=True)
class Selection:
    """Everything the controls say. ``period`` is the period looked at for the breakdown, the
    drill-down and the comparison (default: the last period of the range). Periods are kept by
    their codes; ``conventions`` (see :func:`choose_conventions`) say how dossiers are counted
    and which data window every period covers."""

    indicators: tuple[str, ...] = ("online_share",)
    by: str = "overall"
    granularity: Granularity = "month"
    start: Period = Period("month", 2023, 1)
    end: Period = Period("month", 2023, 12)
    period: Period | None = None
    department: str | None = None
    procedure: str | None = None
    compare: str = "yoy"
    conventions: Conventions = DEFAULT_CONVENTIONS  # the data window is ``conventions.window``

    @property
    def window(self) -> str:
        """The data window of every period shown: ``calendar`` or ``nd09`` (15th to 14th)."""
        return self.conventions.window

    def label(self, period: Period) -> str:
        """A period's Vietnamese label, with its data window's dates under nd09:
        ``Quý I/2023 (số liệu từ 15/12/2022 đến 14/03/2023)``."""
        return period.with_window(self.window).label_window_vi

    def span(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """First and last day of the data the range covers (under the data window)."""
        periods = self.periods()
        return periods[0].with_window(self.window).start, periods[-1].with_window(self.window).last_day

    def periods(self) -> list[Period]:
        """The periods of the chosen granularity that overlap the date range, in order."""
        return list(_periods_between(self.start, self.end, self.granularity))

    def focus(self) -> Period:
        """The period looked at: the chosen one if it lies in the range, else the last one."""
        periods = self.periods()
        return self.period if self.period in periods else periods[-1]

    def other(self) -> Period:
        """The period the focus is compared with."""
        focus = self.focus()
        return focus.same_last_year() if self.compare == "yoy" else focus.previous()

    @property
    def indicator(self) -> str:
        """The first chosen indicator: the one the breakdown and the drill-down rank by."""
        return self.indicators[0]


@lru_cache(maxsize=256)
def _periods_between(start: Period, end: Period, granularity: Granularity) -> tuple[Period, ...]:
    # Asked some twenty times per click (every view wants the range): worked out once.
    return tuple(periods_between(start, end, granularity))


def window_month_of(instant: object, window: str = "calendar") -> Period:
    """The month whose data window holds an instant: its calendar month, or under nd09 the next
    month from the 15th on (20/12/2023 is in Tháng 1/2024's window 15/12/2023-14/01/2024)."""
    month = month_of(instant)
    return month.shift(1) if window == "nd09" and pd.Timestamp(instant).day >= ND09_DAY else month


def data_months(data: ProcessedData, window: str = "calendar") -> tuple[Period, Period]:
    """The first and last month (under ``window``) with a received dossier."""
    received = data.dossiers["received_at"].dropna()
    if received.empty:
        today = month_of(pd.Timestamp.now())
        return today, today
    return window_month_of(received.min(), window), window_month_of(received.max(), window)


def choose_conventions(base: Conventions, window: str | None = None, timeliness: str | None = None,
                       withdrawn: str | None = None) -> Conventions:
    """``base`` with the controls' choices. A window other than the base's is set the way
    ``--window`` sets it (both windows); the same choices always give the same (equal)
    conventions, so the engine's cache finds them again."""
    chosen = replace(base, timeliness=timeliness or base.timeliness, withdrawn=withdrawn or base.withdrawn)
    return chosen if window is None or window == chosen.window else chosen.with_window(window)


def default_selection(data: ProcessedData) -> Selection:
    """Online share by month over the last 12 months with data, under the data's conventions
    (the packaged conventions file unless another was given): the question analysts ask first."""
    first, last = data_months(data, data.conventions.window)
    start = max(first, last.shift(-11))
    return Selection(start=start, end=last, conventions=data.conventions)


def under_conventions(data: ProcessedData, conventions: Conventions) -> ProcessedData:
    """``data`` read under other ``conventions``, without its grid. Its dossiers are passed on as
    held (a file not read yet stays that file), so its day-level aggregate still counts as
    theirs (``ProcessedData.aggregate``) and the file is read at most once."""
    return replace(data, dossiers=dossier_source.source_of(data), conventions=conventions,
                   grid=None, _counted=None)


class Engine:
    """The indicator engine behind the explorer, memoised: a control that does not change the
    engine's arguments (an indicator, the order of a table) costs no recomputation, and going
    back to an earlier choice is free. Every value is ``compute_many`` output, untouched."""

    def __init__(self, data: ProcessedData, size: int = 64, grids: int = 6) -> None:
        # The engine reads a month grid built once per conventions instead of the dossiers on
        # every call (same numbers: tests/test_measure_grid.py); a click then costs
        # milliseconds, not a pass. ``grids``: how many combinations of conventions keep theirs
        # (3 withdrawn x 2 timeliness x 2 windows = 12 possible; each grid is a few MB).
        self.grids = grids
        self._plain = data  # the processed data as loaded: every combination starts from it
        self._grids: OrderedDict[Conventions, ProcessedData] = OrderedDict()
        self.grids_built = 0  # month grids built (for tests and the benchmark)
        self._basis: GridBasis | None = None
        self._dossiers_of: OrderedDict[tuple[str, str | None], pd.DataFrame] = OrderedDict()
        if data.grid is not None and data.grid.serves(data.conventions, data.conventions.window):
            self._grids[data.conventions] = data
        self.data = self.data_for(data.conventions)
        self.size = size
        self._memo: OrderedDict[tuple, pd.DataFrame] = OrderedDict()
        self.names = procedure_names(self.data)
        self.calls = 0  # engine computations actually run (for tests and the benchmark)

    def data_for(self, conventions: Conventions) -> ProcessedData:
        """The data under ``conventions``, with a month grid built for them and their window
        (built on first use, then kept: switching back is free)."""
        if conventions in self._grids:
            self._grids.move_to_end(conventions)
            return self._grids[conventions]
        # What every combination's grid shares (the aggregate by half-month, each cell's labels)
        # is computed at the first grid: a new combination then costs a fraction of a click.
        daily = self._plain.aggregate()
        if self._basis is None and daily is not None:
            self._basis = grid_basis(daily)
        prepared = with_grid(under_conventions(self._plain, conventions), basis=self._basis)
        self.grids_built += 1
        self._grids[conventions] = prepared
        while len(self._grids) > self.grids:
            oldest = next(iter(self._grids))
            if oldest == self._plain.conventions:  # the opening conventions' grid stays
                self._grids.move_to_end(oldest)
                oldest = next(iter(self._grids))
            self._grids.pop(oldest)
        return prepared

    def dossier_timeliness(self, selection: Selection) -> pd.DataFrame:
        """:func:`dossier_timeliness` under the selection's conventions. The procedure's dossiers
        are kept for the next clicks (finding them compares every dossier's code)."""
        if selection.procedure is None:
            return dossier_timeliness(self._plain, selection)
        key = (selection.procedure, selection.department)
        if key not in self._dossiers_of:
            self._dossiers_of[key] = procedure_dossiers(self._plain.dossiers, *key)
            if len(self._dossiers_of) > 8:
                self._dossiers_of.popitem(last=False)
        # The list changes only with the procedure, the department, the period or the conventions:
        # most clicks (another breakdown, indicator, range) find it here.
        memo_key = ("dossiers", *key, selection.focus().code, selection.conventions)
        if memo_key not in self._memo:
            self._memo[memo_key] = dossier_timeliness(self.data_for(selection.conventions), selection,
                                                      self._dossiers_of[key])
            if len(self._memo) > self.size:
                self._memo.popitem(last=False)
        self._memo.move_to_end(memo_key)
        return self._memo[memo_key]

    @staticmethod
    def kwargs(selection: Selection) -> dict:
        """The selection's engine arguments besides periods and breakdown: the department (the
        conventions choose the data, see :meth:`data_for`)."""
        return {"department": selection.department}

    def frame(self, periods: list[Period], by: str, selection: Selection) -> pd.DataFrame:
        """``compute_many`` for these periods and breakdown under the selection's filters and
        conventions."""
        kwargs = self.kwargs(selection)
        key = (tuple(p.code for p in periods), by, tuple(sorted(kwargs.items())), selection.conventions)
        if key in self._memo:
            self._memo.move_to_end(key)
            return self._memo[key]
        self.calls += 1
        data = self.data_for(selection.conventions)
        result = compute_many(data, periods, by=by, with_changes=False, **kwargs)
        self._memo[key] = result
        if len(self._memo) > self.size:
            self._memo.popitem(last=False)
        return result


def _overall_frame(engine: Engine, selection: Selection) -> pd.DataFrame:
    """All groups together, every period of the range and the period compared with: one engine
    call serves the trend, the overall reference of a breakdown and the comparison."""
    periods = list(dict.fromkeys([*selection.periods(), selection.other()]))
    return engine.frame(periods, "overall", selection)


def _by_frame(engine: Engine, selection: Selection, by: str) -> pd.DataFrame:
    """One breakdown for the period looked at and the period compared with (one engine call)."""
    if by == "overall":
        return _overall_frame(engine, selection)
    return engine.frame([selection.focus(), selection.other()], by, selection)


def _in_period(frame: pd.DataFrame, period: Period) -> pd.DataFrame:
    return frame[frame["period"] == period.code]


def _keep(frame: pd.DataFrame, indicators: tuple[str, ...]) -> pd.DataFrame:
    rows = frame[frame["indicator"].isin(indicators)].copy()
    order = {name: i for i, name in enumerate(indicators)}
    rows["_i"] = rows["indicator"].map(order)
    return rows


def trend(engine: Engine, selection: Selection) -> pd.DataFrame:
    """Every chosen indicator for every period of the range (the department alone if one is
    chosen), in indicator then period order: the lines of the chart."""
    periods = selection.periods()
    order = {p.code: i for i, p in enumerate(periods)}
    frame = _overall_frame(engine, selection)
    rows = _keep(frame[frame["period"].isin(order)], selection.indicators)
    rows["_p"] = rows["period"].map(order)
    return rows.sort_values(["_i", "_p"], kind="stable").drop(columns=["_i", "_p"]).reset_index(drop=True)


def _direction(indicator: str) -> int:
    return -1 if indicator in LOWER_IS_BETTER else 1


def _with_effect(rows: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """Add ``effect``: how far each group moves the overall value, signed so that negative means
    it pulls the result the wrong way. For a ratio the overall value is the groups' values
    weighted by their denominators, so group g contributes ``den_g / den_all * (v_g - v_all)``
    (the effects add up to zero); a count has no overall ratio to pull, its effect is empty."""
    ref = reference.set_index("indicator")

    def floats(values: pd.Series) -> np.ndarray:
        return values.to_numpy(dtype=float, na_value=np.nan)

    indicator = rows["indicator"]
    total = floats(indicator.map(ref["denominator"]))  # NaN: no overall row for it
    overall = floats(indicator.map(ref["value"]))
    den, value = floats(rows["denominator"]), floats(rows["value"])
    direction = floats(indicator.map(_direction))
    judged = ~np.isnan(den) & ~np.isnan(total) & (total != 0) & ~np.isnan(value) & ~np.isnan(overall)
    with np.errstate(invalid="ignore", divide="ignore"):
        effect = np.where(judged, direction * den / np.where(judged, total, 1.0) * (value - overall),
                          np.nan)
    rows = rows.copy()
    rows["effect"] = effect
    return rows


def _worst_first(rows: pd.DataFrame) -> pd.DataFrame:
    """Per indicator: the groups that pull the result down most first (for counts, the largest
    backlog first); groups with nothing to judge last."""
    key = rows["effect"].where(rows["effect"].notna(),
                               -rows["value"] * rows["indicator"].map(_direction))
    rows = rows.assign(_k=key.fillna(np.inf))
    rows = rows.sort_values(["_i", "_k", "group"], kind="stable")
    return rows.drop(columns=["_i", "_k"]).reset_index(drop=True)


def overall_row(engine: Engine, selection: Selection, period: Period | None = None) -> pd.DataFrame:
    """The chosen indicators for one period, all groups together (under the department filter)."""
    period = period or selection.focus()
    frame = _overall_frame(engine, selection)
    if period.code not in set(frame["period"]):
        frame = engine.frame([period], "overall", selection)
    rows = _keep(_in_period(frame, period), selection.indicators)
    return rows.drop(columns=["_i"]).reset_index(drop=True)


def breakdown(engine: Engine, selection: Selection) -> pd.DataFrame:
    """The chosen indicators by the chosen breakdown for the period looked at, worst first,
    with each group's ``effect`` on the overall value (see :func:`_with_effect`)."""
    focus = selection.focus()
    rows = _keep(_in_period(_by_frame(engine, selection, selection.by), focus), selection.indicators)
    return _worst_first(_with_effect(rows, overall_row(engine, selection, focus)))


def procedure_names(data: ProcessedData) -> dict[str, str]:
    """Procedure code -> name (the catalogue's, then the latest name in the dossiers)."""
    names: dict[str, str] = {}
    for frame in (data.procedures, data.dossiers):
        pairs = frame[["procedure_code", "procedure_name"]].dropna().drop_duplicates(
            "procedure_code", keep="last")
        names.update(zip(pairs["procedure_code"].astype(str), pairs["procedure_name"].astype(str),
                         strict=True))
    return names


def department_procedures(engine: Engine, selection: Selection) -> pd.DataFrame:
    """Drill-down: the chosen department's procedures for the period looked at, ranked by the
    first chosen indicator, worst first (the ones that pulled the department down on top).
    Empty without a department. Adds ``procedure_name``."""
    if selection.department is None:
        return pd.DataFrame(columns=[*_overall_frame(engine, selection).columns, "effect",
                                     "procedure_name"])
    focus = selection.focus()
    first = (selection.indicator,)
    rows = _keep(_in_period(_by_frame(engine, selection, "procedure"), focus), first)
    ranked = _worst_first(_with_effect(rows, overall_row(engine, replace(selection, indicators=first),
                                                         focus)))
    names = engine.names
    ranked["procedure_name"] = ranked["group"].map(lambda code: names.get(str(code), str(code)))
    return ranked


def procedure_dossiers(dossiers: pd.DataFrame, procedure: str,
                       department: str | None = None) -> pd.DataFrame:
    """The dossiers of one procedure (in one department when given), as processed."""
    mask = dossiers["procedure_code"] == procedure
    if department is not None:
        mask &= dossiers["department"] == department
    return dossiers[mask.fillna(False).to_numpy(dtype=bool)]


def dossier_timeliness(data: ProcessedData, selection: Selection,
                       dossiers: pd.DataFrame | None = None) -> pd.DataFrame:
    """Drill-down to the dossiers of the chosen procedure (in the chosen department) that the
    period's timeliness counts, under the selection's conventions and data window exactly as
    the engine counts them (:func:`cchc_lib.conventions.counted_dossiers`: never-received
    registrations out, withdrawn ones per the convention, due instants per the timeliness
    convention, a stopped clock never overdue): resolved in the period (early / on the day /
    late) or still open at its end (within or past the due date). No personal data: the
    processed dossiers carry none. Columns: ``dossier_id, channel, received_at, due_at,
    completed_at, timeliness, days_over`` (``due_at`` as recorded; ``days_over``: days past the
    due date, negative = ahead; whole days when timeliness is judged by the day).
    ``dossiers``: :func:`procedure_dossiers` of ``data`` for the selection, when already known."""
    columns = ["dossier_id", "channel", "received_at", "due_at", "completed_at", "timeliness",
               "days_over"]
    if selection.procedure is None:
        return pd.DataFrame(columns=columns)
    conventions = selection.conventions
    focus = selection.focus().with_window(selection.window)
    if dossiers is None:
        dossiers = procedure_dossiers(data.dossiers, selection.procedure, selection.department)
    # The conventions' rules are per dossier: applied to this procedure's dossiers alone, not to
    # every dossier first (a new combination of conventions would otherwise cost a pass).
    d = counted_dossiers(dossiers, conventions)
    start, end = focus.start, focus.end
    done = d["completed_at"].notna()
    resolved = done & (d["completed_at"] >= start) & (d["completed_at"] < end)
    # Open at the end: received before it and not completed before it (the engine's backlog).
    open_at_end = (d["received_at"] < end) & (~done | (d["completed_at"] >= end))
    d = d[(resolved | open_at_end).to_numpy(dtype=bool)]
    resolved = resolved[d.index].to_numpy(dtype=bool)
    late = resolved & (d["completed_at"] > d["due_at"]).to_numpy(dtype=bool)
    early = resolved & ~late & (d["completed_at"].dt.normalize() < d["due_at"].dt.normalize()).to_numpy(
        dtype=bool)
    # A stopped clock (awaiting the citizen, suspended) is never overdue while open.
    overdue_open = ~resolved & (d["due_at"] < end).to_numpy(dtype=bool) & ~d["clock_stopped"].to_numpy(
        dtype=bool)
    cls = np.select([late, early, resolved, overdue_open],
                    ["late", "early", "on_day", "pending_overdue"], "pending")
    reference = d["completed_at"].where(resolved, end)
    if conventions.timeliness == "day":
        days_over = (reference.dt.normalize() - d["due_at"].dt.normalize()).dt.days.astype(float)
    else:
        days_over = (reference - d["due_at"]).dt.total_seconds() / 86400
    recorded_due = data.dossiers.loc[d.index, "due_at"]
    out = pd.DataFrame({
        "dossier_id": d["dossier_id"].astype(str).to_numpy(),
        "channel": d["channel"].map(CHANNEL_LABELS).fillna(d["channel"]).astype(str).to_numpy(),
        "received_at": d["received_at"].to_numpy(),
        "due_at": recorded_due.to_numpy(),
        "completed_at": d["completed_at"].where(resolved).to_numpy(),
        "timeliness": cls,
        "days_over": days_over.to_numpy(dtype=float),
    })
    # The worst first: late (most days late first), open past due, open, on the day, early.
    rank = {"late": 0, "pending_overdue": 1, "pending": 2, "on_day": 3, "early": 4}
    out = out.assign(_r=out["timeliness"].map(rank), _d=-out["days_over"])
    return out.sort_values(["_r", "_d", "dossier_id"], kind="stable").drop(columns=["_r", "_d"]).reset_index(
        drop=True)


def comparison(engine: Engine, selection: Selection) -> pd.DataFrame:
    """The period looked at beside the period compared with (same quarter last year by default),
    for the chosen indicators and breakdown: one row per (group, indicator) with ``value_a``,
    ``value_b``, ``change`` and both numerators and denominators."""
    focus, other = selection.focus(), selection.other()
    frame = _by_frame(engine, selection, selection.by)
    rows = _keep(frame[frame["period"].isin([focus.code, other.code])], selection.indicators)
    keys = ["group", "indicator"]
    a = rows[rows["period"] == focus.code]
    b = rows[rows["period"] == other.code][[*keys, "numerator", "denominator", "value"]]
    out = a.merge(b, on=keys, how="outer", suffixes=("_a", "_b"))
    out["label_vi"] = out["indicator"].map(lambda i: INDICATORS[i].label_vi)
    out["unit"] = out["indicator"].map(lambda i: INDICATORS[i].unit)
    out["_i"] = out["indicator"].map({n: i for i, n in enumerate(selection.indicators)})
    out["_g"] = (out["group"] != GROUP_OVERALL).astype(int)
    out = out.sort_values(["_g", "group", "_i"], kind="stable").reset_index(drop=True)
    out["change"] = out["value_a"] - out["value_b"]
    out["period_a"], out["period_b"] = focus.code, other.code
    return out[["period_a", "period_b", "group", "indicator", "label_vi", "unit", "numerator_a",
                "denominator_a", "value_a", "numerator_b", "denominator_b", "value_b", "change", "target",
                "status"]]


def worst_period(trend_rows: pd.DataFrame, indicator: str) -> Period | None:
    """The period of the trend where ``indicator`` was worst (lowest, or highest when lower is
    better); None when it has no value anywhere. Ties: the earliest."""
    rows = trend_rows[(trend_rows["indicator"] == indicator) & trend_rows["value"].notna()]
    if rows.empty:
        return None
    values = rows["value"].to_numpy(dtype=float) * _direction(indicator)
    return Period.parse(str(rows["period"].iloc[int(np.argmin(values))]))


def describe(selection: Selection) -> str:
    """The selection in Vietnamese, for titles and the export sheet."""
    names = ", ".join(INDICATORS[i].label_vi for i in selection.indicators)
    periods = selection.periods()
    span = (periods[0].label_vi if len(periods) == 1
            else f"{periods[0].label_vi} – {periods[-1].label_vi}")
    who = selection.department or "Toàn Sở"
    return f"{names} — {who} — {span}{window_note(selection)}"


def window_note(selection: Selection) -> str:
    """`` (số liệu từ 15/12/2022 đến 14/12/2023)`` under the nd09 window (whose months are not
    the calendar's), nothing under the calendar one."""
    if selection.window == "calendar":
        return ""
    first, last = selection.span()
    return f" (số liệu từ {fmt_date(first)} đến {fmt_date(last)})"


def conventions_about(selection: Selection) -> list[tuple[str, str]]:
    """The window and counting conventions of a selection, in Vietnamese (for the export's
    'Lựa chọn' sheet)."""
    c = selection.conventions
    first, last = selection.span()
    rows = [
        ("Kỳ số liệu", f"{WINDOW_LABELS[c.window]}: số liệu từ {fmt_date(first)} đến {fmt_date(last)}"),
        ("Đúng hạn xét theo", TIMELINESS_CONVENTION_LABELS[c.timeliness]),
        ("Hồ sơ công dân rút", WITHDRAWN_LABELS[c.withdrawn]),
    ]
    if c.source:
        rows.append(("Tệp quy ước", str(c.source)))
    return rows


def breakdown_label(by: str) -> str:
    return BY_LABELS.get(by, by)
