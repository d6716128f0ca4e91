"""The day-level aggregate of every dossier measure (``daily.parquet``), written by ingest, from
which the indicator engine, Biểu 06, the national index, the reports and the explorer's month
grid take their numbers instead of scanning the dossiers.

Why per day: a calendar month and a Nghị định 09 window (15th to 14th) are both unions of whole
days, so one table serves both windows exactly. Why these keys: every measure is additive, so it
is summed once per *cell* (department, field, procedure code, channel: the finest split any
breakdown or department filter uses), per day and per *kind*, the part of a dossier that the
reporting conventions look at (conventions.counted_dossiers):

- ``w``: 0 not withdrawn, 1 withdrawn without a completion, 2 withdrawn with one
  (``withdrawn: excluded`` drops w > 0; ``on_time`` makes w = 2 resolved on the day and never
  overdue, since its due instant becomes the end of its completion day);
- ``t``: the timeliness class of a resolved dossier: 1 early, 2 on the day, 3 late under both
  conventions, 4 late only by the instant (completed on the due date after the due time:
  on the day under ``timeliness: day``).

The aggregate is convention-free and window-free, like the processed data: the conventions and
the window are applied when it is read (:func:`month_events`), with the engine's own rules, and
a test holds every number equal to the dossier-level engine's for every convention combination.

Columns: the four cell columns, ``day`` (days since 1970-01-01, :data:`NO_DAY` when the date is
missing), ``lag``, ``kind`` (``w * 5 + t``; t = 0 outside the completion rows) and the measures
below, each placed on the day of its own time base (received, completed, rated, the backlog's
in/out).

``lag``: the row's events became known on day ``day + lag`` (the day the data as it stood at
the end of a day first shows them; :mod:`cchc_lib.asof_daily` reads the year to a date from
it). Nearly always 0; not 0 for a completion dated before its receipt (known once received), a
rating dated before its completion (known once completed), a clock-stopped dossier with a
completion (may be overdue only once completed) and the ``inflight_due`` rows (see
:data:`ASOF`). Readers that do not look at the date something became known sum over it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cchc_lib.conventions import CLOCK_STOPPED, END_OF_DAY, NOT_RECEIVED, WITHDRAWN
from cchc_lib.periods import ND09_DAY

DAILY_FILE = "daily.parquet"
CELL_COLUMNS = ("department", "field", "procedure_code", "channel")
NO_DAY = -(2**31)  # a missing date: earlier than any other day, so max() ignores it
KINDS = 5  # t classes per w

# Measures by time base (the day a row stands on). The received count is also the backlog's
# "in" (a dossier enters the backlog the day it is received).
RECEIVED = ("received", "online", "channel_known", "fee", "fee_enabled_calendar",
            "fee_enabled_nd09", "fee_enabled_paid_calendar", "fee_enabled_paid_nd09", "synced",
            "digitized", "wait_sum", "wait_count",
            # for the national index (index766): its own inputs
            "fee_paid", "reused_digitized", "citizen_connected", "online_from_storage")
COMPLETED = ("resolved", "resolved_apology", "online_resolved", "resolved_channel_known",
             "electronic_result", "processing_days_sum",
             # index766: resolved neither rated unsatisfied nor the subject of a PAKN
             "resolved_content")
RATED = ("rated", "satisfied")
STOCK = ("out", "due_in", "due_in_apology", "due_out", "due_out_apology")
# For the data as it stood at the end of a day D (cchc_lib.asof_daily), which no other reader
# uses: a completed withdrawn dossier entering the overdue backlog on its own due date, on a row
# whose ``day + lag`` is its completion day (it counts while D is before it: still open at D,
# so ``withdrawn: on_time`` has not made it on time yet). And the national index's resolved
# dossiers "without an unsatisfied rating" at D: a dossier rated unsatisfied after its completion
# became known was content until its rating became known (``resolved_content`` counts its final
# rating): ``unrated_content_in`` on its completion's row, ``unrated_content_out`` on the same
# day's row known with the rating, so the rows known by D hold ``in - out`` = 1 only between.
ASOF = ("inflight_due", "inflight_due_apology", "unrated_content_in", "unrated_content_out")
MEASURES = (*RECEIVED, *COMPLETED, *RATED, *STOCK, *ASOF)
FLOAT_MEASURES = ("wait_sum", "processing_days_sum")
# The dossier columns build_daily reads (ingest builds the aggregate from these alone).
DAILY_INPUTS = frozenset({
    *CELL_COLUMNS, "dossier_id", "status", "received_at", "due_at", "completed_at", "rated_at", "rating",
    "channel", "wait_minutes", "fee_required", "paid_online", "apology_issued", "synced_national",
    "digitized", "reused_digitized_data", "citizen_data_connected", "from_national_storage",
    "electronic_result"})


def accepts_online_payment(dossiers: pd.DataFrame, procedures: pd.DataFrame,
                           received_year: np.ndarray) -> np.ndarray:
    """Whether each dossier's procedure accepts online payment in the catalogue of the year
    the dossier was received (catalogue row with the same code and year)."""
    accepting = procedures[procedures["online_payment"].fillna(False).astype(bool)]
    if accepting.empty or dossiers.empty:
        return np.zeros(len(dossiers), dtype=bool)
    codes, _ = pd.factorize(pd.concat([dossiers["procedure_code"], accepting["procedure_code"]],
                                      ignore_index=True))
    n = len(dossiers)
    # One integer key per (code, year): cheap set membership for a million dossiers.
    dossier_keys = codes[:n].astype(np.int64) * 10_000 + received_year
    catalogue_keys = codes[n:].astype(np.int64) * 10_000 + accepting["year"].to_numpy(dtype=np.int64)
    return np.isin(dossier_keys, catalogue_keys)


def _days(values: pd.Series) -> np.ndarray:
    arr = values.to_numpy(dtype="datetime64[ns]")
    days = arr.astype("datetime64[D]").astype(np.int64)
    return np.where(np.isnat(arr), NO_DAY, days)


def _flag(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return frame[column].to_numpy(dtype=bool, na_value=False)


def month_of_days(days: np.ndarray, window: str) -> np.ndarray:
    """Month number (year * 12 + month - 1) of each day under ``window``; 0 for NO_DAY (as
    the engine numbers a missing date). Under ``nd09`` the 15th onwards is the next month."""
    valid = days != NO_DAY
    dates = np.where(valid, days, 0).astype("datetime64[D]")
    calendar = dates.astype("datetime64[M]")
    months = calendar.astype(np.int64) + 1970 * 12
    if window == "nd09":
        day_of_month = (dates - calendar.astype("datetime64[D]")).astype(np.int64) + 1
        months = months + (day_of_month >= ND09_DAY)
    return np.where(valid, months, 0)


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` by sorting: numpy 2.4's ``np.unique`` without ``return_*`` hashes
    instead, which took 0.5-0.7 s on the 3-4 million keys of 500,000 dossiers (sorting them:
    0.03 s)."""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def build_daily(dossiers: pd.DataFrame, procedures: pd.DataFrame,
                feedback: pd.DataFrame | None = None) -> pd.DataFrame:
    """The day-level aggregate of processed ``dossiers`` (see the module docstring); ``feedback``
    (PAKN) says which dossiers were complained about."""
    cells, cell, day, lag, kind, columns = daily_arrays(dossiers, procedures, feedback)
    out = cells.iloc[cell].reset_index(drop=True)
    out["day"] = day
    out["lag"] = lag
    out["kind"] = kind
    for name in MEASURES:
        out[name] = columns.pop(name)
    return out


DailyArrays = tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]


def daily_arrays(dossiers: pd.DataFrame, procedures: pd.DataFrame,
                 feedback: pd.DataFrame | None = None) -> DailyArrays:
    """:func:`build_daily`'s table before its cells are spelt out row by row: (the cells by
    first appearance, each row's cell number among them, day, lag, kind, {measure: column}).
    The ingest's running total (ingest/daily_total.py) takes these as they are."""
    status = dossiers["status"].astype("string")
    received = ~(status == NOT_RECEIVED).to_numpy(dtype=bool, na_value=False)
    # Not copied when every dossier was received (nearly always): filtering took every column.
    d = dossiers if received.all() else dossiers[received]
    if d is not dossiers:
        status = d["status"].astype("string")
    n = len(d)
    completed = d["completed_at"]
    due = d["due_at"]
    done = completed.notna().to_numpy()
    withdrawn = (status == WITHDRAWN).to_numpy(dtype=bool, na_value=False)
    w = np.where(withdrawn, np.where(done, 2, 1), 0).astype(np.int64)

    # Timeliness classes by the engine's comparisons, on the instant and on the day.
    comp = completed.to_numpy(dtype="datetime64[ns]")
    due_instant = due.to_numpy(dtype="datetime64[ns]")
    due_day_end = (due.dt.normalize() + END_OF_DAY).to_numpy(dtype="datetime64[ns]")
    late_instant = done & (comp > due_instant)
    late_day = done & (comp > due_day_end)
    early = done & ~late_instant & (comp.astype("datetime64[D]") < due_instant.astype("datetime64[D]"))
    t = np.select([~done, early, late_day, late_instant], [0, 1, 3, 4], default=2).astype(np.int64)

    rd, cd, dd = _days(d["received_at"]), _days(completed), _days(due)
    rated_at = _days(d["rated_at"])
    rated = d["rating"].notna().to_numpy()
    rated_day = np.where(rated_at != NO_DAY, rated_at, cd)
    rated_ok = rated & ((rated_at != NO_DAY) | done)
    clock_status = status.isin(CLOCK_STOPPED).to_numpy(dtype=bool, na_value=False)
    stopped = clock_status & ~done
    may_be_overdue = ~stopped

    received_dates = d["received_at"].to_numpy(dtype="datetime64[ns]")
    calendar_year = received_dates.astype("datetime64[Y]").astype(np.int64) + 1970
    month = received_dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day_of_month = (received_dates.astype("datetime64[D]")
                    - received_dates.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    nd09_year = calendar_year + ((month == 12) & (day_of_month >= ND09_DAY))
    # The engine numbers a missing received date as month 0 (year 0).
    no_received = np.isnat(received_dates)
    calendar_year = np.where(no_received, 0, calendar_year)
    nd09_year = np.where(no_received, 0, nd09_year)
    fee = _flag(d, "fee_required")
    paid = _flag(d, "paid_online")
    enabled_cal = fee & accepts_online_payment(d, procedures, calendar_year)
    enabled_nd09 = fee & accepts_online_payment(d, procedures, nd09_year)
    wait = d["wait_minutes"].to_numpy(dtype=float, na_value=np.nan)
    has_wait = ~np.isnan(wait)
    processing = np.where(done, (comp - received_dates).astype("timedelta64[ns]").astype(np.int64),
                          0) / 86400e9
    online = (d["channel"] == "online").to_numpy(dtype=bool, na_value=False)
    channel_known = d["channel"].notna().to_numpy(dtype=bool)
    apology = _flag(d, "apology_issued")
    satisfied = d["rating"].isin(["very_satisfied", "satisfied"]).to_numpy(dtype=bool)
    unsatisfied = (d["rating"] == "unsatisfied").to_numpy(dtype=bool, na_value=False)
    complained = np.zeros(n, dtype=bool)
    if feedback is not None and "dossier_id" in feedback.columns:
        complained = d["dossier_id"].isin(feedback["dossier_id"].dropna()).to_numpy(dtype=bool)
    ones = np.ones(n, dtype=bool)

    # Cells numbered in order of first appearance (one factorize per column, then of the combination).
    combined = np.zeros(n, dtype=np.int64)
    for column in CELL_COLUMNS:
        codes, uniques = pd.factorize(d[column], use_na_sentinel=False)
        combined = combined * max(len(uniques), 1) + codes
    cell_of, _ = pd.factorize(combined)
    first_rows = np.unique(cell_of, return_index=True)[1] if n else np.zeros(0, dtype=np.int64)
    cells = d[list(CELL_COLUMNS)].iloc[first_rows].reset_index(drop=True)

    # (day, day known, valid rows, kind, {measure: weights}) per time base; "known" is the
    # first day the data as it stood at a day's end shows the event (see ``lag``).
    due_day = np.maximum(rd, dd)
    last_day = np.maximum(due_day, cd)
    completion_known = np.maximum(rd, cd)
    rating_known = np.maximum(np.maximum(rd, rated_day), np.where(done, cd, NO_DAY))
    # Resolved, no complaint, rated unsatisfied on a later day than the completion became known.
    rated_later = done & unsatisfied & ~complained & (rating_known > completion_known)
    bases = [
        (rd, rd, ones, w * KINDS, {
            "received": ones, "online": online, "channel_known": channel_known, "fee": fee,
            "fee_enabled_calendar": enabled_cal, "fee_enabled_nd09": enabled_nd09,
            "fee_enabled_paid_calendar": enabled_cal & paid, "fee_enabled_paid_nd09": enabled_nd09 & paid,
            "synced": _flag(d, "synced_national"), "digitized": _flag(d, "digitized"),
            "wait_sum": np.where(has_wait, wait, 0.0), "wait_count": has_wait,
            "fee_paid": fee & paid, "reused_digitized": _flag(d, "reused_digitized_data"),
            "citizen_connected": _flag(d, "citizen_data_connected"),
            "online_from_storage": online & _flag(d, "from_national_storage")}),
        (cd, completion_known, done, w * KINDS + t, {
            "resolved": ones, "resolved_apology": apology, "online_resolved": online,
            "resolved_channel_known": channel_known,
            "electronic_result": _flag(d, "electronic_result"), "processing_days_sum": processing,
            "resolved_content": ~unsatisfied & ~complained, "unrated_content_in": rated_later}),
        (rated_day, rating_known, rated_ok, w * KINDS, {"rated": ones, "satisfied": satisfied}),
        (cd, rating_known, rated_later, w * KINDS + t, {"unrated_content_out": ones}),
        (np.maximum(rd, cd), np.maximum(rd, cd), done, w * KINDS, {"out": ones}),
        # A clock-stopped status with a completion: pending within time until completed.
        (due_day, np.where(clock_status & done, last_day, due_day), may_be_overdue, w * KINDS,
         {"due_in": ones, "due_in_apology": apology}),
        (last_day, last_day, done & may_be_overdue, w * KINDS,
         {"due_out": ones, "due_out_apology": apology}),
        (due_day, cd, (w == 2) & ~clock_status, w * KINDS,
         {"inflight_due": ones, "inflight_due_apology": apology}),
    ]
    # One integer key per (cell, day, day known, kind), days counted from the first one (0: no
    # date); sums by bincount per base over its own keys, then placed in the union of every
    # base's keys.
    known = [np.concatenate([day[valid & (day != NO_DAY)], seen[valid & (seen != NO_DAY)]])
             for day, seen, valid, _, _ in bases]
    known = [k for k in known if len(k)]
    first_day = int(min(k.min() for k in known)) if known else 0
    n_days = (int(max(k.max() for k in known)) - first_day + 2) if known else 1
    per_base = []
    for day, seen, valid, kind, measures in bases:
        offset = np.where(day[valid] == NO_DAY, 0, day[valid] - first_day + 1)
        # A row's events are known on its own day unless said otherwise (lag 0 with no date).
        seen_offset = np.where((seen[valid] == NO_DAY) | (day[valid] == NO_DAY), offset,
                               seen[valid] - first_day + 1)
        keys = ((cell_of[valid].astype(np.int64) * n_days + offset) * n_days
                + seen_offset) * 3 * KINDS + kind[valid]
        unique, inverse = np.unique(keys, return_inverse=True)
        sums = {name: np.bincount(inverse, weights=np.asarray(weights[valid], dtype=np.float64),
                                  minlength=len(unique)) for name, weights in measures.items()}
        per_base.append((unique, sums))
    all_keys = sorted_unique(np.concatenate([u for u, _ in per_base])) if per_base else np.zeros(0, np.int64)
    columns = {name: np.zeros(len(all_keys), dtype=np.float64 if name in FLOAT_MEASURES else np.int64)
               for name in MEASURES}
    # Each base's sums let go once placed, each column once in the frame: the aggregate is held
    # about once, not three times (it is nearly as long as the dossiers in a batch).
    per_base.reverse()
    while per_base:
        unique, sums = per_base.pop()
        at = np.searchsorted(all_keys, unique)
        for name, values in sums.items():
            columns[name][at] += values if name in FLOAT_MEASURES else np.rint(values).astype(np.int64)
        del unique, sums
    kind_of = all_keys % (3 * KINDS)
    rest = all_keys // (3 * KINDS)
    seen_of = rest % n_days
    rest = rest // n_days
    offset_of = rest % n_days
    day = np.where(offset_of == 0, NO_DAY, offset_of - 1 + first_day).astype(np.int32)
    lag = (seen_of - offset_of).astype(np.int32)
    return cells, rest // n_days, day, lag, kind_of.astype(np.int8), columns


DAILY_BATCH_ROWS = 1_000_000  # dossiers per batch: the per-row temporaries stay near 0.3 GB


def build_daily_in_batches(dossiers: pd.DataFrame, procedures: pd.DataFrame,
                           feedback: pd.DataFrame | None = None,
                           batch_rows: int = DAILY_BATCH_ROWS) -> pd.DataFrame:
    """:func:`build_daily` computed over ``batch_rows`` dossiers at a time and added
    (:func:`add_daily`): the same table, while the some thirty per-dossier arrays that
    build_daily works with exist for one batch only. Up to ``batch_rows`` dossiers it is
    build_daily itself, byte for byte."""
    if len(dossiers) <= batch_rows:
        return build_daily(dossiers, procedures, feedback)
    parts = [build_daily(dossiers.iloc[start:start + batch_rows], procedures, feedback)
             for start in range(0, len(dossiers), batch_rows)]
    return add_daily(parts)


def add_daily(parts: list[pd.DataFrame], release: bool = False) -> pd.DataFrame:
    """The sum of day-level aggregates of consecutive batches of dossiers: the aggregate of
    all of them, in build_daily's order (cells by first appearance, then day, lag, kind).
    With ``release``, ``parts`` is emptied once its frames are stacked: when it holds the last
    references to them they are freed before the sum is built (a running total at 10M
    dossiers is some 0.3 GB, held three times over otherwise).

    Every measure is additive, so a (cell, day, lag, kind) row of the whole is the sum of that row
    over the batches. Counts are exact; the two float sums may differ from a single pass in
    the last bits only (the additions are grouped differently)."""
    if len(parts) == 1:
        return parts[0]
    combined = pd.concat(parts, ignore_index=True)
    if release:
        parts.clear()
    n = len(combined)
    # Batches are consecutive and each lists its cells by first appearance, so the first
    # appearance in the concatenation is the first appearance among all dossiers.
    cell_key = np.zeros(n, dtype=np.int64)
    for column in CELL_COLUMNS:
        codes, uniques = pd.factorize(combined[column], use_na_sentinel=False)
        cell_key = cell_key * max(len(uniques), 1) + codes
    cell_of, _ = pd.factorize(cell_key)
    day = combined["day"].to_numpy(dtype=np.int64)
    lag = combined["lag"].to_numpy(dtype=np.int64)
    kind = combined["kind"].to_numpy(dtype=np.int64)
    order = np.lexsort((kind, lag, day, cell_of))
    cell_s, day_s, lag_s, kind_s = cell_of[order], day[order], lag[order], kind[order]
    starts = np.flatnonzero(np.r_[True, (cell_s[1:] != cell_s[:-1]) | (day_s[1:] != day_s[:-1])
                                  | (lag_s[1:] != lag_s[:-1]) | (kind_s[1:] != kind_s[:-1])]
                            ) if n else np.zeros(0, np.int64)
    out = combined[list(CELL_COLUMNS)].iloc[order[starts]].reset_index(drop=True)
    out["day"] = day_s[starts].astype(np.int32)
    out["lag"] = lag_s[starts].astype(np.int32)
    out["kind"] = kind_s[starts].astype(np.int8)
    for name in MEASURES:
        values = combined[name].to_numpy()[order]
        out[name] = np.add.reduceat(values, starts) if n else values
    return out


def counted_rows(daily: pd.DataFrame, conventions) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """(rows that count under ``conventions``, the timeliness class each gives its resolved
    dossiers: 1 early, 2 on the day, 3 late, and whether its backlog-overdue measures count)."""
    kind = daily["kind"].to_numpy(dtype=np.int64)
    w, t = kind // KINDS, kind % KINDS
    keep = (w == 0) if conventions.withdrawn == "excluded" else np.ones(len(daily), dtype=bool)
    rows = daily[keep] if not keep.all() else daily
    w, t = w[keep], t[keep]
    effective = np.where(t == 4, 3 if conventions.timeliness == "instant" else 2, t)
    on_time_withdrawn = (w == 2) if conventions.withdrawn == "on_time" else np.zeros(len(rows), bool)
    effective = np.where(on_time_withdrawn, 2, effective)
    # Withdrawn and resolved under on_time: due at the end of its completion day, so it enters
    # and leaves the overdue backlog on the same day: it is never overdue.
    return rows, effective, ~on_time_withdrawn


def month_events(daily: pd.DataFrame, conventions, window: str) -> tuple[pd.DataFrame, dict]:
    """The aggregate's rows counted under ``conventions`` (withdrawn rows out under
    ``excluded``) and, for those rows, the engine's event dict (see
    ``indicators._dossier_events``): per time base, (month number under ``window``, valid
    mask, {measure: weights}); each row stands for the dossiers it sums."""
    rows, effective, due_weight = counted_rows(daily, conventions)
    months = month_of_days(rows["day"].to_numpy(dtype=np.int64), window)

    def col(name: str) -> np.ndarray:
        return rows[name].to_numpy()

    resolved = col("resolved")
    late = effective == 3
    valid = np.ones(len(rows), dtype=bool)
    suffix = "nd09" if window == "nd09" else "calendar"
    events = {
        "received": (months, valid, {
            "received": col("received"), "online": col("online"),
            "channel_known": col("channel_known"), "fee": col("fee"),
            "fee_enabled": col(f"fee_enabled_{suffix}"),
            "fee_enabled_paid": col(f"fee_enabled_paid_{suffix}"),
            "synced": col("synced"), "digitized": col("digitized"),
            "wait_sum": col("wait_sum"), "wait_count": col("wait_count")}),
        "completed": (months, valid, {
            "resolved": resolved, "early": resolved * (effective == 1),
            "on_day": resolved * (effective == 2), "late": resolved * late,
            "late_apology": col("resolved_apology") * late,
            "online_resolved": col("online_resolved"),
            "resolved_channel_known": col("resolved_channel_known"),
            "electronic_result": col("electronic_result"),
            "processing_days_sum": col("processing_days_sum")}),
        "rated": (months, valid, {"rated": col("rated"), "satisfied": col("satisfied")}),
        "in": (months, valid, {"in": col("received")}),
        "out": (months, valid, {"out": col("out")}),
        "due_in": (months, valid, {"due_in": col("due_in") * due_weight,
                                   "due_in_apology": col("due_in_apology") * due_weight}),
        "due_out": (months, valid, {"due_out": col("due_out") * due_weight,
                                    "due_out_apology": col("due_out_apology") * due_weight}),
    }
    return rows, events


def read_daily(path) -> pd.DataFrame:
    """``daily.parquet`` as written by ingest."""
    return pd.read_parquet(path)
