"""The national service index (Quyết định 766/QĐ-TTg) counted from the department's own
processed data: numerators and denominators per component (:func:`counts_from_data`) that
:mod:`cchc_lib.index766.scores` scores, and the frames of the report's index section."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cchc_lib.asof_daily import AsOfMeasures
from cchc_lib.datacache import derived
from cchc_lib.dossier_source import counted_columns, counted_has, is_lazy
from cchc_lib.index766.scores import (
    COUNT_COLUMNS,
    GROUPS,
    METRIC_CODES,
    OVERALL_UNIT,
    TOTAL,
    levers,
    score_from_counts,
)
from cchc_lib.periods import Period
from cchc_lib.processed import ProcessedData
from cchc_lib.schema import flag
from cchc_lib.workdays import add_working_days

_SATISFIED_NOT = "unsatisfied"
_ONLINE_LEVELS = ("partial", "full")
PUBLIC_UPDATE_WORKING_DAYS = 5


def _has(frame: pd.DataFrame | None, *columns: str) -> bool:
    """The inputs exist: every column present with at least one known value."""
    return frame is not None and all(
        c in frame.columns and bool(frame[c].notna().any()) for c in columns
    )


# The dossier inputs the aggregate path asks about (index766.daily.dossier_counts' requires).
_DOSSIER_INPUTS = ("fee_required", "paid_online", "electronic_result", "digitized",
                   "reused_digitized_data", "from_national_storage", "citizen_data_connected",
                   "synced_national", "channel")


def _unread_has(data: ProcessedData):
    """``_has`` on the counted dossiers, read a few columns at a time and remembered on ``data``
    (every month of a report asks the same question of the same dossiers)."""
    known: dict[str, bool] = data.__dict__.setdefault("_index766_has", {})

    def has(*columns: str) -> bool:
        missing = [c for c in columns if c not in known]
        if missing:
            asked = [*dict.fromkeys([*missing, *(c for c in _DOSSIER_INPUTS if c not in known)])]
            known.update(counted_has(data, asked))
        return all(known[c] for c in columns)

    return has


def _times(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:  # an absent optional column: no dates at all
        return np.full(len(frame), np.datetime64("NaT", "ns"))
    return frame[column].to_numpy(dtype="datetime64[ns]")


def _in_period(values: np.ndarray, period) -> np.ndarray:
    start, end = np.datetime64(period.start, "ns"), np.datetime64(period.end, "ns")
    return ~np.isnat(values) & (values >= start) & (values < end)


def _tally(codes: np.ndarray, n_units: int, metric: str, den: np.ndarray, num: np.ndarray,
           available: bool) -> dict:
    """Numerator and denominator per unit code (code -1 = counts for no unit), as the columns
    :func:`_stacked` puts together."""
    keep = codes >= 0
    if available:
        d = np.bincount(codes[keep], weights=den[keep], minlength=n_units)
        n = np.bincount(codes[keep], weights=(num & den)[keep], minlength=n_units)
    else:
        d = n = np.full(n_units, np.nan)
    return {"code": np.arange(n_units), "metric": metric, "numerator": n, "denominator": d}


def _stacked(parts: list[dict]) -> pd.DataFrame:
    """The metrics' columns (``code``, ``metric``, ``numerator``, ``denominator``: one dict per
    metric, numbers per unit code) one metric after another in one frame: the rows a frame per
    metric concatenated gave, built once (twenty small frames cost more than the counting)."""
    sizes = [len(part["code"]) for part in parts]
    return pd.DataFrame({
        "code": np.concatenate([np.asarray(part["code"], dtype=np.int64) for part in parts]),
        "metric": np.repeat(np.array([part["metric"] for part in parts], dtype=object), sizes),
        "numerator": np.concatenate([np.asarray(part["numerator"], dtype="float64") for part in parts]),
        "denominator": np.concatenate([np.asarray(part["denominator"], dtype="float64")
                                       for part in parts]),
    })


def _unit_codes(values: pd.Series, units: list[str]) -> np.ndarray:
    """Position of each value in ``units``; -1 (counts for no unit) when absent or <NA>."""
    probe = pd.Index(values.astype(object).where(values.notna(), None))
    return pd.Index(units, dtype=object).get_indexer(probe).astype(np.int64)


def _catalogue_for(procedures: pd.DataFrame, year: int) -> pd.DataFrame | None:
    """The catalogue of ``year``, else the latest earlier one; None when there is none."""
    if procedures is None or procedures.empty:
        return None
    years = procedures["year"].dropna().astype("int64")
    candidates = years[years <= year]
    if candidates.empty:
        return None
    return procedures[procedures["year"] == candidates.max()].reset_index(drop=True)


def _on_data(data: ProcessedData, key: tuple, source: object, compute):
    """``compute()``, remembered on ``data`` itself for ``key`` while ``source`` (the input it
    is computed from) is the same object: every period a batch counts on one data asks again."""
    kept: dict = data.__dict__.setdefault("_index766_kept", {})
    entry = kept.get(key)
    if entry is None or entry[0] is not source:
        entry = kept[key] = (source, compute())
    return entry[1]


def _catalogue_of(data: ProcessedData, year: int) -> pd.DataFrame | None:
    """:func:`_catalogue_for` of ``year`` with each procedure's "made public on time" (column
    ``_public_on_time``: per procedure, so it follows the rows into any merge), worked out once
    per data and year (the add of working days is most of a period's catalogue counting)."""
    procedures = data.procedures

    def compute() -> pd.DataFrame | None:
        catalogue = _catalogue_for(procedures, year)
        if catalogue is not None:
            catalogue["_public_on_time"] = _made_public_on_time(catalogue)
        return catalogue

    return _on_data(data, ("catalogue", int(year)), procedures, compute)


def _catalogue_side(data: ProcessedData, catalogue: pd.DataFrame, year: int, by: str,
                    owners: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The catalogue's rows per unit (``_unit``: "Toàn Sở", or each department that ever handled
    a dossier of the procedure: ``owners``, every (procedure, department) pair of the data
    whatever the date, the same for each period) and what the catalogue metrics read of them,
    worked out once per data, year and breakdown."""

    def compute() -> tuple[pd.DataFrame, dict]:
        if by == "overall":
            cat = catalogue.assign(_unit=OVERALL_UNIT)
        else:
            cat = catalogue.merge(owners.rename(columns={"department": "_unit"}),
                                  on="procedure_code", how="inner")
        effective = _times(cat, "legal_effective_date")
        decided = _times(cat, "published_decision_date")
        return cat, {
            "probe": pd.MultiIndex.from_arrays([cat["_unit"].astype(object),
                                                cat["procedure_code"].astype(object)]),
            "fee": flag(cat, "fee_required"), "online_payment": flag(cat, "online_payment"),
            "citizen": flag(cat, "citizen_data_connected"), "content": flag(cat, "content_complete"),
            "service": cat["service_level"].isin(_ONLINE_LEVELS).to_numpy(dtype=bool, na_value=False),
            "everything": np.ones(len(cat), dtype=bool),
            "effective_known": ~np.isnat(effective), "decided_known": ~np.isnat(decided),
            "published_on_time": ~np.isnat(decided) & (decided <= effective),
            "public_on_time": cat["_public_on_time"].to_numpy(bool),
            "has_payment": _has(catalogue, "fee_required", "online_payment"),
            "has_fee": _has(catalogue, "fee_required"),
            "has_citizen": _has(catalogue, "citizen_data_connected"),
            "has_publish": _has(catalogue, "legal_effective_date", "published_decision_date"),
            "has_public": _has(catalogue, "published_decision_date", "made_public_date"),
            "has_content": _has(catalogue, "content_complete"),
        }

    return _on_data(data, ("catalogue side", int(year), by), catalogue, compute)


def _made_public_on_time(procedures: pd.DataFrame) -> np.ndarray:
    """Made public within 5 working days after the decision announcing the procedure."""
    if not _has(procedures, "published_decision_date", "made_public_date"):
        return np.zeros(len(procedures), dtype=bool)
    decided = procedures["published_decision_date"].dt.normalize()
    public = procedures["made_public_date"].dt.normalize()
    known = decided.notna() & public.notna()
    limit = add_working_days(decided.where(known), PUBLIC_UPDATE_WORKING_DAYS)
    return (known & (public <= limit)).to_numpy(dtype=bool)


def _dossier_counts(d: pd.DataFrame, feedback, period: Period, by: str, end, frames: list) -> tuple:
    """The dossier metrics of counts_from_data from the counted dossiers ``d``, appended to
    ``frames``; returns (units, {"received"|"online": (unit, procedure) pairs with a dossier
    received / received online in the period}, every (procedure, department) pair)."""
    received = _times(d, "received_at")
    completed = _times(d, "completed_at")
    due = _times(d, "due_at")

    rec = _in_period(received, period)
    done = _in_period(completed, period)
    late = ~np.isnat(completed) & (completed > due)
    pending = (received < end) & (np.isnat(completed) | (completed >= end))
    stopped = (d["clock_stopped"].to_numpy(dtype=bool) if "clock_stopped" in d.columns
               else np.zeros(len(d), dtype=bool))
    pending_ok = pending & (~(due < end) | stopped)
    online = (d["channel"] == "online").to_numpy(dtype=bool, na_value=False)

    # Units: overall, or the departments active in the period.
    if by == "overall":
        units = [OVERALL_UNIT]
        dossier_codes = np.zeros(len(d), dtype=np.int64)
    else:
        active = rec | done | pending
        units = sorted(d.loc[active, "department"].dropna().astype(str).unique())
        dossier_codes = _unit_codes(d["department"], units)
    n_units = len(units)

    def add(codes, metric, den, num, available=True):
        frames.append(_tally(codes, n_units, metric, np.asarray(den, dtype=bool),
                             np.asarray(num, dtype=bool), available))

    # -- dossiers ------------------------------------------------------------------------
    dc = dossier_codes
    add(dc, "PROGRESS_ON_TIME", done | pending, (done & ~late) | pending_ok)
    fee = flag(d, "fee_required")
    add(dc, "PAYMENT_DOSSIER", rec & fee, flag(d, "paid_online"),
        _has(d, "fee_required", "paid_online"))
    complained = np.zeros(len(d), dtype=bool)
    if feedback is not None and "dossier_id" in feedback.columns:
        complained = d["dossier_id"].isin(feedback["dossier_id"].dropna()).to_numpy(dtype=bool)
    unsatisfied = (d["rating"] == _SATISFIED_NOT).to_numpy(dtype=bool, na_value=False)
    add(dc, "DOSSIER_RECEIVING_SATISFACTION", done, ~late & ~unsatisfied & ~complained)
    add(dc, "ORIGINAL_RESULT_AVAILABLE", done, flag(d, "electronic_result"),
        _has(d, "electronic_result"))
    for metric, column, base in (
        ("SO_HOA_GIAY_TO_GIAI_QUYET", "digitized", rec),
        ("REUSED_DIGITIZED_DATA", "reused_digitized_data", rec),
        ("SYNCED_WITH_DVCQG_PERSONAL_STORAGE", "from_national_storage", rec & online),
        ("CITIZEN_DATA_CONNECTED_DOSSIER", "citizen_data_connected", rec),
        ("DOSSIER_SYNC", "synced_national", rec),
    ):
        add(dc, metric, base, flag(d, column), _has(d, column))
    add(dc, "ONLINE_DOSSIER_SHARE", rec & d["channel"].notna().to_numpy(dtype=bool), online,
        _has(d, "channel"))
    unit_of_dossier = (
        pd.Series(OVERALL_UNIT, index=d.index) if by == "overall" else d["department"]
    ).astype(object)
    code = d["procedure_code"].astype(object)
    pairs = {name: pd.DataFrame({"unit": unit_of_dossier[mask], "procedure_code": code[mask]})
             for name, mask in (("received", rec), ("online", rec & online))}
    return units, pairs, d[["procedure_code", "department"]].dropna().drop_duplicates()


def counts_from_data(data: ProcessedData, period: Period, by: str = "overall") -> pd.DataFrame:
    """Long-form counts ``unit, metric, numerator, denominator`` for one period, from processed
    dossiers, the procedure catalogue and PAKN (``data`` is ``cchc_lib.processed.ProcessedData``).

    ``by="overall"``: one unit, "Toàn Sở"; ``by="department"``: one unit per department with any
    dossier received, resolved or pending in the period. Not-available metrics have NaN
    numerator and denominator. Definitions in the module docstring.
    """
    if by not in ("overall", "department"):
        raise ValueError(f"by must be 'overall' or 'department', not {by!r}")
    conventions = getattr(data, "conventions", None)
    daily = data.aggregate() if hasattr(data, "aggregate") else None
    # The data as it stood at the end of a day, from the aggregate (asof_daily.as_of_data): it
    # holds no dossiers; the aggregate's rows known by then answer (index766.daily.asof_tallies).
    asof = getattr(data, "grid", None)
    if not isinstance(asof, AsOfMeasures):
        asof = None
    # With the aggregate and the dossiers still unread, they stay unread: the few facts wanted
    # of single dossiers are read column by column (dossier_source) instead.
    d = None if (daily is not None or asof is not None) and is_lazy(data) else (
        data.counted() if hasattr(data, "counted") else data.dossiers)
    if conventions is not None:
        period = period.with_window(conventions.window)
    end = np.datetime64(period.end, "ns")
    frames: list[dict] = []  # each metric's columns (_tally), stacked at the end
    feedback = data.feedback
    if asof is not None:
        from cchc_lib.index766.daily import dossier_counts

        units, pairs, owners = dossier_counts(data, asof.daily, period, by, frames, has=asof.has,
                                              unit_codes=_unit_codes, overall_unit=OVERALL_UNIT,
                                              asof=asof)
    elif daily is not None:
        # The day-level aggregate written by ingest: the same counts without a dossier scan.
        from cchc_lib.index766.daily import dossier_counts

        units, pairs, owners = dossier_counts(data, daily, period, by, frames,
                                              has=(lambda *columns: _has(d, *columns)) if d is not None
                                              else _unread_has(data),
                                              unit_codes=_unit_codes, overall_unit=OVERALL_UNIT)
    else:
        units, pairs, owners = _dossier_counts(d, feedback, period, by, end, frames)
    n_units = len(units)

    def add(codes, metric, den, num, available=True):
        frames.append(_tally(codes, n_units, metric, np.asarray(den, dtype=bool),
                             np.asarray(num, dtype=bool), available))

    # -- catalogue -----------------------------------------------------------------------
    catalogue = _catalogue_of(data, period.year)
    if catalogue is None:
        for metric in ("PAYMENT_PROCEDURE", "PAYMENT_PROCEDURE_WITH_DOSSIERS",
                       "CITIZEN_DATA_CONNECTED_FORMALITY", "PUBLISH_ON_TIME",
                       "PUBLIC_UPDATE_ON_TIME", "PUBLIC_CONTENT_FULL", "ONLINE_SERVICE_PROVIDED",
                       "ONLINE_SERVICE_WITH_DOSSIERS"):
            add(np.zeros(0, dtype=np.int64), metric, np.zeros(0), np.zeros(0), False)
    else:
        # The procedures' side (for "department": every department that ever handled one of
        # a procedure's dossiers, whatever the period) is the same for every period of a year.
        cat, c = _catalogue_side(data, catalogue, period.year, by, owners)
        cat_codes = _unit_codes(cat["_unit"], units)

        def had(which: str) -> np.ndarray:
            keys = pd.MultiIndex.from_frame(pairs[which].astype(object))
            return c["probe"].isin(keys)

        add(cat_codes, "PAYMENT_PROCEDURE", c["fee"], c["online_payment"], c["has_payment"])
        add(cat_codes, "PAYMENT_PROCEDURE_WITH_DOSSIERS", c["fee"], had("received"), c["has_fee"])
        add(cat_codes, "CITIZEN_DATA_CONNECTED_FORMALITY", c["everything"], c["citizen"],
            c["has_citizen"])
        add(cat_codes, "PUBLISH_ON_TIME", c["effective_known"], c["published_on_time"],
            c["has_publish"])
        add(cat_codes, "PUBLIC_UPDATE_ON_TIME", c["decided_known"], c["public_on_time"], c["has_public"])
        add(cat_codes, "PUBLIC_CONTENT_FULL", c["everything"], c["content"], c["has_content"])
        add(cat_codes, "ONLINE_SERVICE_PROVIDED", c["everything"], c["service"])
        service = c["service"]
        add(cat_codes, "ONLINE_SERVICE_WITH_DOSSIERS", service, had("online"))

    # -- PAKN ----------------------------------------------------------------------------
    if feedback is None:
        for metric in ("PETITION_PROCESSING_ON_TIME", "PETITION_HANDLING_SATISFACTION"):
            add(np.zeros(0, dtype=np.int64), metric, np.zeros(0), np.zeros(0), False)
    else:
        if by == "overall":
            fb_codes = np.zeros(len(feedback), dtype=np.int64)
        else:
            # A PAKN belongs to the department that handled the dossier it concerns.
            ids = feedback["dossier_id"].dropna().unique()
            owner = (d if d is not None  # else only the dossiers PAKN concerns
                     else asof.owners(("dossier_id", "department"), ids) if asof is not None
                     else _on_data(data, ("feedback owners",), feedback, lambda: counted_columns(
                         data, ("dossier_id", "department"), ids=ids)))
            dept = feedback["dossier_id"].map(
                pd.Series(owner["department"].to_numpy(), index=owner["dossier_id"].to_numpy())
            )
            fb_codes = _unit_codes(dept, units)
        f_received = _times(feedback, "received_at")
        f_handled = _times(feedback, "handled_at")
        f_due = _times(feedback, "due_at")
        handled = _in_period(f_handled, period)
        open_overdue = (
            (f_received < end) & (np.isnat(f_handled) | (f_handled >= end)) & (f_due < end)
        )
        f_unsatisfied = (feedback["rating"] == _SATISFIED_NOT).to_numpy(dtype=bool, na_value=False)
        add(fb_codes, "PETITION_PROCESSING_ON_TIME", handled | open_overdue,
            handled & (f_handled <= f_due))
        add(fb_codes, "PETITION_HANDLING_SATISFACTION", handled, ~f_unsatisfied)

    # No input in the data contract for electronic certified copies.
    add(np.zeros(0, dtype=np.int64), "ELECTRONIC_CERTIFIED_COPY", np.zeros(0), np.zeros(0), False)

    out = _stacked(frames)
    out["unit"] = pd.Series(units, dtype=object).reindex(out["code"].to_numpy()).to_numpy()
    out["_m"] = out["metric"].map({c: i for i, c in enumerate(METRIC_CODES)})
    out = out.sort_values(["code", "_m"], kind="stable").reset_index(drop=True)
    out = out[list(COUNT_COLUMNS)].astype({"unit": "string", "metric": "string"})
    return out


# -- for the report notebook ---------------------------------------------------------------------


def index_section_frames(data: ProcessedData, period: Period) -> dict[str, pd.DataFrame]:
    """Everything the report's national-index section shows, as tidy frames:

    - ``scores``: every row (components, groups, TOTAL) for "Toàn Sở" in the period;
    - ``summary``: the six group rows and TOTAL for "Toàn Sở";
    - ``trend``: group and TOTAL rows for each month from January of the period's year to the
      period's last month (year to date), with ``period`` (``2023-03``) and ``label``
      (``T3/2023``) columns;
    - ``departments``: group and TOTAL rows per department for the period;
    - ``levers``: the levers of "Toàn Sở", sorted by points gained.
    """
    group_rows = [g.code for g in GROUPS] + [TOTAL]

    # A batch asks for the same months again and again (each month's own report, then the
    # trend of every later month, quarter and year): counted and scored once per data read.
    def counts_of(p, by):
        return derived(data, ("index766-counts", p.code, by), lambda: counts_from_data(data, p, by))

    def scores_of(p):
        return derived(data, ("index766-scores", p.code), lambda: score_from_counts(counts_of(p, "overall")))

    counts = counts_of(period, "overall")
    scores = scores_of(period)
    trend_frames = []
    last_month = period.first_month + period.n_months - 1
    for month in range(1, last_month + 1):
        p = Period("month", period.year, month)
        s = scores_of(p)
        s = s[s["metric"].isin(group_rows)].assign(period=p.code, label=p.short_label_vi)
        trend_frames.append(s)
    by_dept = counts_from_data(data, period, "department")
    if by_dept.empty:
        departments = scores.iloc[0:0]
    else:
        departments = score_from_counts(by_dept)
        departments = departments[departments["metric"].isin(group_rows)]
    return {
        "scores": scores,
        "summary": scores[scores["metric"].isin(group_rows)].reset_index(drop=True),
        "trend": pd.concat(trend_frames, ignore_index=True),
        "departments": departments.reset_index(drop=True),
        "levers": levers(counts, scores),
    }
