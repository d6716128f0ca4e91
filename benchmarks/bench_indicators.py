"""Benchmark: every dossier indicator for 1,000,000 generated dossiers, for every month, quarter
and year of two years (34 periods), overall and by department, against a plain DuckDB SQL
reference computed in the same run over the same data (numerators and denominators compared).

    python -m benchmarks bench_indicators        (CCHC_BENCH_N=200000 for a quicker run)
"""

from __future__ import annotations

import gc
import os
import resource
import time
import tracemalloc

import numpy as np
import pandas as pd

from cchc_lib.indicators import DOSSIER_INDICATORS, compute_many
from cchc_lib.periods import Period, periods_in_year
from cchc_lib.processed import ProcessedData
from cchc_lib.schema import TABLES

YEARS = (2022, 2023)
N_PROCEDURES = 60
DEPARTMENTS = ("Văn phòng Sở", "Phòng Đăng ký kinh doanh", "Phòng Kinh tế đối ngoại",
               "Phòng Tổng hợp, Quy hoạch", "Phòng Kinh tế ngành", "Phòng Đấu thầu, Thẩm định",
               "Thanh tra Sở")
FIELDS = ("Thành lập và hoạt động của doanh nghiệp", "Đầu tư tại Việt Nam", "Đấu thầu",
          "Thành lập và hoạt động của hợp tác xã", "Hỗ trợ doanh nghiệp nhỏ và vừa")


def generate(n: int, seed: int = 2023) -> ProcessedData:
    """A processed-schema data set of ``n`` dossiers over two years, vectorised."""
    rng = np.random.default_rng(seed)
    start = np.datetime64("2022-01-01T00:00:00", "ns")
    span = int((np.datetime64("2024-01-01", "ns") - start) / np.timedelta64(1, "s"))
    received = start + rng.integers(0, span, n).astype("timedelta64[s]")
    # date-only due dates (end of day), 1-20 days after receipt
    due_day = (received + rng.integers(1, 21, n).astype("timedelta64[D]")).astype("datetime64[D]")
    due = due_day.astype("datetime64[ns]") + np.timedelta64(86_400_000_000_000 - 1_000, "ns")
    done = rng.random(n) < 0.93
    completed = received + rng.integers(600, 24 * 86400, n).astype("timedelta64[s]")
    completed = np.where(done, completed.astype("datetime64[ns]"), np.datetime64("NaT", "ns"))
    rated_flag = done & (rng.random(n) < 0.4)
    rated_at = np.where(rated_flag & (rng.random(n) < 0.7),
                        completed + np.timedelta64(3600, "s").astype("timedelta64[ns]"),
                        np.datetime64("NaT", "ns"))
    proc = rng.integers(0, N_PROCEDURES, n)
    codes = np.array([f"1.00{1000 + i}" for i in range(N_PROCEDURES)], dtype=object)
    proc_field = np.array([FIELDS[i % len(FIELDS)] for i in range(N_PROCEDURES)], dtype=object)
    dept = rng.integers(0, len(DEPARTMENTS), n)
    channel = np.array(["online", "in_person", "postal"], dtype=object)[
        rng.choice(3, n, p=[0.6, 0.37, 0.03])]
    rating = np.array(["very_satisfied", "satisfied", "unsatisfied"], dtype=object)[rng.choice(3, n)]
    wait = rng.gamma(4.0, 4.0, n).round(1)

    def flag(p: float) -> pd.arrays.BooleanArray:
        return pd.array(rng.random(n) < p, dtype="boolean")

    cols = {
        "dossier_id": pd.array(np.char.add("HS", np.arange(n).astype(str)), dtype="string"),
        "procedure_code": pd.array(codes[proc], dtype="string"),
        "procedure_name": pd.array(np.char.add("Thủ tục ", codes[proc].astype(str)), dtype="string"),
        "field": pd.array(proc_field[proc], dtype="string"),
        "department": pd.array(np.array(DEPARTMENTS, dtype=object)[dept], dtype="string"),
        "channel": pd.array(channel, dtype="string"),
        "service_level": pd.array(np.where(channel == "online", "full", "partial"), dtype="string"),
        "received_at": received.astype("datetime64[ns]"),
        "due_at": due,
        "completed_at": completed,
        "returned_at": completed,
        "status": pd.array(np.where(done, "resolved", "processing"), dtype="string"),
        "fee_required": flag(0.35),
        "paid_online": flag(0.2),
        "digitized": flag(0.6),
        "electronic_result": flag(0.55),
        "synced_national": flag(0.85),
        "apology_issued": flag(0.7),
        "rating": pd.array(np.where(rated_flag, rating, None), dtype="string"),
        "rated_at": rated_at,
        "wait_minutes": pd.array(np.where(rng.random(n) < 0.5, wait, np.nan), dtype="Float64"),
        "reused_digitized_data": flag(0.3),
        "citizen_data_connected": flag(0.3),
        "from_national_storage": flag(0.3),
        "submitted_at": received.astype("datetime64[ns]"),
        "source_file": pd.array(np.full(n, "bench.csv", dtype=object), dtype="string"),
        "source_row": pd.array(np.arange(n) + 2, dtype="Int64"),
    }
    dossiers = pd.DataFrame(cols)
    dossiers = dossiers[[s.name for s in TABLES["dossiers"]]]
    catalogue = []
    for year in YEARS:
        for i in range(N_PROCEDURES):
            catalogue.append({
                "procedure_code": codes[i], "procedure_name": f"Thủ tục {codes[i]}", "field": proc_field[i],
                "service_level": "full" if i % 3 else "partial", "full_online_eligible": i % 4 != 0,
                "national_integrated": i % 2 == 0, "published_posted": True, "published_electronic": True,
                "online_payment": (i + year) % 3 != 0, "fee_required": i % 2 == 1, "statutory_days": 15.0,
                "form_fields_before": 20, "form_fields_after": 16, "year": year,
                "source_file": "tthc.csv", "source_row": i + 2,
            })
    procedures = pd.DataFrame(catalogue)
    for spec in TABLES["procedures"]:
        procedures[spec.name] = (procedures[spec.name].astype(spec.dtype) if spec.name in procedures
                                 else pd.Series(pd.NA, index=procedures.index, dtype=spec.dtype))
    procedures = procedures[[s.name for s in TABLES["procedures"]]]
    return ProcessedData(dossiers, procedures, None, {})


def all_periods() -> list[Period]:
    return [p for y in YEARS for p in periods_in_year(y)]


# -- DuckDB reference -------------------------------------------------------------------------

_SQL = """
WITH d AS (
    SELECT {group_expr} AS grp, d.*,
           coalesce(c.online_payment, false) AS accepts_online_payment
    FROM dossiers d
    LEFT JOIN procedures c
      ON c.procedure_code = d.procedure_code AND c.year = year(d.received_at)
),
received AS (
    SELECT p.code, grp,
           count(*) AS received,
           count(*) FILTER (WHERE channel = 'online') AS online,
           count(channel) AS channel_known,
           count(*) FILTER (WHERE coalesce(fee_required, false)) AS fee,
           count(*) FILTER (WHERE coalesce(fee_required, false) AND accepts_online_payment) AS fee_enabled,
           count(*) FILTER (WHERE coalesce(fee_required, false) AND accepts_online_payment
                            AND coalesce(paid_online, false)) AS fee_enabled_paid,
           count(*) FILTER (WHERE coalesce(synced_national, false)) AS synced,
           count(*) FILTER (WHERE coalesce(digitized, false)) AS digitized,
           coalesce(sum(wait_minutes), 0) AS wait_sum,
           count(wait_minutes) AS wait_count
    FROM d JOIN period_months p ON date_trunc('month', d.received_at) = p.month
    GROUP BY ALL
),
resolved AS (
    SELECT p.code, grp,
           count(*) AS resolved,
           count(*) FILTER (WHERE completed_at <= due_at
                            AND CAST(completed_at AS DATE) < CAST(due_at AS DATE)) AS early,
           count(*) FILTER (WHERE completed_at <= due_at) AS ontime,
           count(*) FILTER (WHERE completed_at > due_at) AS late,
           count(*) FILTER (WHERE completed_at > due_at AND coalesce(apology_issued, false)) AS late_apology,
           count(*) FILTER (WHERE channel = 'online') AS online_resolved,
           count(*) FILTER (WHERE coalesce(electronic_result, false)) AS electronic_result,
           sum(epoch_ns(completed_at) - epoch_ns(received_at)) / 86400e9 AS processing_days_sum
    FROM d JOIN period_months p ON date_trunc('month', d.completed_at) = p.month
    GROUP BY ALL
),
rated AS (
    SELECT p.code, grp, count(*) AS rated,
           count(*) FILTER (WHERE rating IN ('very_satisfied', 'satisfied')) AS satisfied
    FROM d JOIN period_months p ON date_trunc('month', coalesce(rated_at, completed_at)) = p.month
    WHERE rating IS NOT NULL
    GROUP BY ALL
),
backlog AS (
    SELECT p.code, grp,
           count(*) FILTER (WHERE received_at < p.end_at
                            AND (completed_at IS NULL OR completed_at >= p.end_at)) AS pending,
           count(*) FILTER (WHERE received_at < p.end_at AND due_at < p.end_at
                            AND (completed_at IS NULL OR completed_at >= p.end_at)) AS pending_overdue,
           count(*) FILTER (WHERE received_at < p.end_at AND due_at < p.end_at
                            AND (completed_at IS NULL OR completed_at >= p.end_at)
                            AND coalesce(apology_issued, false)) AS pending_overdue_apology,
           count(*) FILTER (WHERE received_at < p.start_at
                            AND (completed_at IS NULL OR completed_at >= p.start_at)) AS carried_over
    FROM d CROSS JOIN periods p
    GROUP BY ALL
)
SELECT * FROM backlog
FULL JOIN received USING (code, grp)
FULL JOIN resolved USING (code, grp)
FULL JOIN rated USING (code, grp)
"""


def duckdb_reference(con, by: str) -> pd.DataFrame:
    group_expr = "'Toàn Sở'" if by == "overall" else "d.department"
    out = con.execute(_SQL.format(group_expr=group_expr)).df()
    out = out.rename(columns={"code": "period", "grp": "group"}).fillna(0)
    # Biểu II.5's apology base: resolved late in the period + pending overdue at its end.
    out["apology_num"] = out["late_apology"] + out["pending_overdue_apology"]
    out["apology_den"] = out["late"] + out["pending_overdue"]
    return out


def compare(ours: pd.DataFrame, ref: pd.DataFrame) -> tuple[bool, int]:
    """Numerators and denominators of every dossier indicator, per (period, group)."""
    checked = 0
    ref = ref.set_index(["period", "group"])
    ok = True
    for defn in DOSSIER_INDICATORS:
        mine = ours[ours["indicator"] == defn.id].set_index(["period", "group"])
        other = ref.reindex(mine.index).fillna(0)
        pairs = [("numerator", defn.numerator)]
        if defn.denominator is not None:
            pairs.append(("denominator", defn.denominator))
        for col, measure in pairs:
            a = mine[col].to_numpy(dtype=float)
            b = other[measure].to_numpy(dtype=float)
            same = np.allclose(a, b, rtol=1e-9, atol=1e-6) if measure.endswith("_sum") \
                else np.array_equal(a, b)
            ok &= bool(same)
            checked += len(a)
    return ok, checked


def _timed(fn, repeat: int = 2):
    best, result = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def _peak_mb(fn) -> float:
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def run() -> list[dict]:
    import duckdb

    n = int(os.environ.get("CCHC_BENCH_N", "1000000"))
    t0 = time.perf_counter()
    data = generate(n)
    gen_s = time.perf_counter() - t0
    periods = all_periods()
    con = duckdb.connect()
    con.register("dossiers", data.dossiers)
    con.register("procedures", data.procedures)
    con.register("periods", pd.DataFrame({
        "code": [p.code for p in periods],
        "start_at": [p.start for p in periods],
        "end_at": [p.end for p in periods],
    }))
    # (period, month) pairs: the additive measures join on the month (an equi-join), which is
    # how a person would write it in SQL and much faster than a range join on the bounds.
    con.register("period_months", pd.DataFrame(
        [(p.code, m.start) for p in periods for m in p.months()], columns=["code", "month"]))
    rows = []
    for by in ("overall", "department"):
        ours_s, ours = _timed(lambda by=by: compute_many(data, periods, by=by, with_changes=False))
        ref_s, ref = _timed(lambda by=by: duckdb_reference(con, by))
        equal, cells = compare(ours, ref)
        ours_mb = _peak_mb(lambda by=by: compute_many(data, periods, by=by, with_changes=False))
        rows.append({
            "dossiers": f"{n:,}",
            "periods": len(periods),
            "by": by,
            "cchc s": f"{ours_s:.2f}",
            "cchc peak MB (tracemalloc)": f"{ours_mb:.0f}",
            "DuckDB s": f"{ref_s:.2f}",
            "ratio cchc/DuckDB": f"{ours_s / ref_s:.2f}",
            "target <= 1.5": "yes" if ours_s / ref_s <= 1.5 else "NO",
            "num/den equal": f"{'yes' if equal else 'NO'} ({cells:,} values)",
            # Whole process so far: the generated data, Arrow strings, DuckDB included.
            "process max RSS MB": f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}",
        })
    rows.append({"dossiers": f"(generation {gen_s:.1f} s, not timed above)"})
    con.close()
    return rows


if __name__ == "__main__":  # pragma: no cover
    from benchmarks.__main__ import print_table

    print_table("bench_indicators", run())
