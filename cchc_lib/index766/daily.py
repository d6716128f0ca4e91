"""The dossier counts of the national service index (QĐ 766) from the day-level aggregate
(:mod:`cchc_lib.daily`) instead of the dossiers: the same definitions as
``index766.counts_from_data`` (its module docstring), summed over the aggregate's rows.

A period is whole days, so "in the period" is the row's day inside the period's window, and the
backlog at the period's end is what entered before the end minus what left before it (the
engine's rule, equal to "received before the end and not completed before it").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cchc_lib.daily import CELL_COLUMNS, MEASURES, counted_rows, month_of_days
from cchc_lib.indicators import _month_number


@dataclass
class DailyTallies:
    """Per unit sums of one period; ``unit_of`` maps each counted row to its unit (-1 none)."""

    rows: pd.DataFrame
    in_period: np.ndarray  # the row's day is inside the period
    before_end: np.ndarray  # the row's day is before the period's end
    late: np.ndarray  # the row's resolved dossiers are late under the conventions
    due_weight: np.ndarray  # the row's overdue-backlog measures count

    def sums(self, unit_of: np.ndarray, n_units: int) -> dict[str, np.ndarray]:
        keep = unit_of >= 0
        codes = unit_of[keep]

        def total(weights: np.ndarray) -> np.ndarray:
            return np.bincount(codes, weights=np.asarray(weights, dtype=float)[keep], minlength=n_units)

        r = self.rows

        def flow(name: str) -> np.ndarray:
            return total(r[name].to_numpy() * self.in_period)

        def stock(name: str, weight: np.ndarray | float = 1.0) -> np.ndarray:
            return total(r[name].to_numpy() * self.before_end * weight)

        out = {name: flow(name) for name in (
            "received", "resolved", "online", "channel_known", "fee", "fee_paid", "digitized",
            "reused_digitized", "citizen_connected", "online_from_storage", "synced",
            "electronic_result")}
        out["late"] = total(r["resolved"].to_numpy() * self.in_period * self.late)
        out["content_not_late"] = total(r["resolved_content"].to_numpy() * self.in_period * ~self.late)
        out["pending"] = stock("received") - stock("out")
        out["pending_overdue"] = stock("due_in", self.due_weight) - stock("due_out", self.due_weight)
        return out

    def departments(self) -> pd.Series:
        return self.rows["department"]

    def had(self, measure: str) -> pd.DataFrame:
        """(department, procedure_code) pairs with ``measure`` > 0 in the period."""
        mask = self.in_period & (self.rows[measure].to_numpy() > 0)
        return self.rows.loc[mask, ["department", "procedure_code"]]

    def owners(self) -> pd.DataFrame:
        """Every (procedure_code, department) pair of the counted dossiers, whatever the date."""
        return self.rows[["procedure_code", "department"]].dropna().drop_duplicates()


def daily_tallies(daily: pd.DataFrame, conventions, period) -> DailyTallies:
    """The aggregate's counted rows placed against ``period`` (already in its data window)."""
    rows, effective, due_weight = counted_rows(daily, conventions)
    months = month_of_days(rows["day"].to_numpy(dtype=np.int64), period.window)
    start, end = _month_number(period)
    return DailyTallies(rows, (months >= start) & (months < end), months < end, effective == 3,
                        due_weight)


class AsOfTallies(DailyTallies):
    """:class:`DailyTallies` of the data as it stood at the end of a day (:func:`asof_tallies`);
    ``content``: each row's resolved dossiers without an unsatisfied rating or a PAKN, then."""

    def __init__(self, rows, in_period, before_end, late, due_weight, content: np.ndarray) -> None:
        super().__init__(rows, in_period, before_end, late, due_weight)
        self.content = content

    def sums(self, unit_of: np.ndarray, n_units: int) -> dict[str, np.ndarray]:
        out = super().sums(unit_of, n_units)
        keep = unit_of >= 0
        weights = (self.content * self.in_period * ~self.late)[keep].astype(float)
        out["content_not_late"] = np.bincount(unit_of[keep], weights=weights, minlength=n_units)
        return out

    def owners(self) -> pd.DataFrame:
        # The dossiers received by D: the rows with a receipt (an inflight_due row may be known
        # before its dossier's receipt, when its completion is dated earlier).
        found = self.rows.loc[self.rows["received"].to_numpy() > 0, ["procedure_code", "department"]]
        return found.dropna().drop_duplicates()


def asof_tallies(asof, period) -> DailyTallies:
    """The tallies of ``as_of_view(data, end of day D)`` placed against ``period`` (already in
    its data window), from the aggregate: ``asof`` is the as-of data's
    :class:`cchc_lib.asof_daily.AsOfMeasures`, which says which rows are known by D.

    The rows known by D, under the conventions, give every flow and the backlog (the engine's
    as-of rules, :mod:`cchc_lib.asof_daily`); two things differ from the whole data's tallies:

    - resolved without an unsatisfied rating: a dossier whose unsatisfied rating became known
      after D counts, until then, as content (``unrated_content_in - unrated_content_out``);
    - the overdue backlog at the period's end: at a boundary after the start of D + 1, the
      dossiers open at D and due by D (due-in minus due-out with no convention's weight); at an
      earlier one, the whole data's rule plus, under ``withdrawn: on_time``, the withdrawn
      dossiers due by then and completed after D (``inflight_due``), still open at D."""
    conventions = asof.conventions
    rows, late, due_weight, content = asof.remembered("index766 rows", lambda: _known_rows(asof))
    start, end = _month_number(period)
    after = bool(asof.after(np.array([end]), period.window)[0])
    if after:
        due_weight = np.ones(len(rows), dtype=bool)
    elif conventions.withdrawn == "on_time":
        # Only their due-in flow: every other measure of these rows is not known by D.
        inflight = asof.inflight()
        extra = inflight[list(CELL_COLUMNS) + ["day"]].copy()
        for name in MEASURES:
            extra[name] = np.zeros(len(inflight), dtype=rows[name].dtype)
        extra["due_in"] = inflight["inflight_due"].to_numpy()
        extra["due_in_apology"] = inflight["inflight_due_apology"].to_numpy()
        rows = pd.concat([rows[extra.columns], extra], ignore_index=True)
        late = np.r_[late, np.zeros(len(extra), dtype=bool)]
        due_weight = np.r_[due_weight, np.ones(len(extra), dtype=bool)]
        content = np.r_[content, np.zeros(len(extra), dtype=content.dtype)]
    months = month_of_days(rows["day"].to_numpy(dtype=np.int64), period.window)
    return AsOfTallies(rows, (months >= start) & (months < end), months < end, late, due_weight,
                       content)


def _known_rows(asof) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """The counted rows known by D, their lateness, overdue weights and resolved_content as it
    stood then (the same for every period: worked out once per as-of data)."""
    rows, effective, due_weight = counted_rows(asof.visible(), asof.conventions)
    content = (rows["resolved_content"].to_numpy() + rows["unrated_content_in"].to_numpy()
               - rows["unrated_content_out"].to_numpy())
    return rows, effective == 3, due_weight, content


# index766 metric -> (numerator, denominator) among DailyTallies.sums.
DOSSIER_METRICS = {
    "PAYMENT_DOSSIER": ("fee_paid", "fee"),
    "ORIGINAL_RESULT_AVAILABLE": ("electronic_result", "resolved"),
    "SO_HOA_GIAY_TO_GIAI_QUYET": ("digitized", "received"),
    "REUSED_DIGITIZED_DATA": ("reused_digitized", "received"),
    "SYNCED_WITH_DVCQG_PERSONAL_STORAGE": ("online_from_storage", "online"),
    "CITIZEN_DATA_CONNECTED_DOSSIER": ("citizen_connected", "received"),
    "DOSSIER_SYNC": ("synced", "received"),
    "ONLINE_DOSSIER_SHARE": ("online", "channel_known"),
}


def dossier_counts(data, daily: pd.DataFrame, period, by: str, frames: list, has: Callable,
                   unit_codes: Callable, overall_unit: str, asof=None) -> tuple:
    """``index766._dossier_counts`` from the day-level aggregate: the dossier metrics appended
    to ``frames`` (columns code, metric, numerator, denominator), then (units, the (unit,
    procedure) pairs with a dossier received / received online in the period, every (procedure,
    department) pair). ``has(*columns)``: whether the counted dossiers hold those inputs;
    ``unit_codes``: index766's own numbering of units (passed in: index766 imports this module);
    ``asof``: the :class:`cchc_lib.asof_daily.AsOfMeasures` of data as it stood at a date
    (then ``daily`` is the whole aggregate it reads)."""
    tallies = (daily_tallies(daily, data.conventions, period) if asof is None
               else asof_tallies(asof, period))
    departments = tallies.departments()
    if by == "overall":
        units = [overall_unit]
        unit_of = np.zeros(len(departments), dtype=np.int64)
    else:
        per_department = pd.DataFrame(tallies.sums(
            pd.factorize(departments, sort=True)[0].astype(np.int64),
            int(departments.nunique())))
        names = pd.factorize(departments, sort=True)[1]
        active = (per_department["received"] + per_department["resolved"]
                  + per_department["pending"]).to_numpy() > 0
        units = sorted(str(v) for v in np.asarray(names, dtype=object)[active])
        unit_of = unit_codes(departments, units)
    n_units = len(units)
    sums = tallies.sums(unit_of, n_units)

    def put(metric: str, num: np.ndarray, den: np.ndarray, available: bool = True) -> None:
        nan = np.full(n_units, np.nan)
        frames.append({"code": np.arange(n_units), "metric": metric,
                       "numerator": num if available else nan, "denominator": den if available else nan})

    put("PROGRESS_ON_TIME",
        sums["resolved"] - sums["late"] + sums["pending"] - sums["pending_overdue"],
        sums["resolved"] + sums["pending"])
    requires = {"PAYMENT_DOSSIER": ("fee_required", "paid_online"),
                "ORIGINAL_RESULT_AVAILABLE": ("electronic_result",),
                "SO_HOA_GIAY_TO_GIAI_QUYET": ("digitized",),
                "REUSED_DIGITIZED_DATA": ("reused_digitized_data",),
                "SYNCED_WITH_DVCQG_PERSONAL_STORAGE": ("from_national_storage",),
                "CITIZEN_DATA_CONNECTED_DOSSIER": ("citizen_data_connected",),
                "DOSSIER_SYNC": ("synced_national",), "ONLINE_DOSSIER_SHARE": ("channel",)}
    for metric in ("PAYMENT_DOSSIER", "DOSSIER_RECEIVING_SATISFACTION", "ORIGINAL_RESULT_AVAILABLE",
                   "SO_HOA_GIAY_TO_GIAI_QUYET", "REUSED_DIGITIZED_DATA",
                   "SYNCED_WITH_DVCQG_PERSONAL_STORAGE", "CITIZEN_DATA_CONNECTED_DOSSIER",
                   "DOSSIER_SYNC", "ONLINE_DOSSIER_SHARE"):
        if metric == "DOSSIER_RECEIVING_SATISFACTION":
            put(metric, sums["content_not_late"], sums["resolved"])
            continue
        num, den = DOSSIER_METRICS[metric]
        put(metric, sums[num], sums[den], has(*requires[metric]))

    def pairs_of(measure: str) -> pd.DataFrame:
        found = tallies.had(measure)
        unit = overall_unit if by == "overall" else found["department"].astype(object)
        return pd.DataFrame({"unit": unit, "procedure_code": found["procedure_code"].astype(object)})

    return units, {"received": pairs_of("received"), "online": pairs_of("online")}, tallies.owners()
