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

from cchc_lib.daily import counted_rows, month_of_days
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
                   unit_codes: Callable, overall_unit: str) -> tuple:
    """``index766._dossier_counts`` from the day-level aggregate: the dossier metrics appended
    to ``frames`` (columns code, metric, numerator, denominator), then (units, the (unit,
    procedure) pairs with a dossier received / received online in the period, every (procedure,
    department) pair). ``has(*columns)``: whether the counted dossiers hold those inputs;
    ``unit_codes``: index766's own numbering of units (passed in: index766 imports this module)."""
    tallies = daily_tallies(daily, data.conventions, period)
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
        frames.append(pd.DataFrame({
            "code": np.arange(n_units), "metric": metric,
            "numerator": num if available else nan, "denominator": den if available else nan}))

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
