"""The report's national-index frames for many periods at once (a batch worker's reports):
every period's counts as :func:`cchc_lib.index766.counts.index_section_frames` counts them, then
all of them scored, and their levers worked out, in one call each instead of one per period
and unit.

Scoring is unit by unit: each unit's rows are scored from its own counts only (the groups and
the total summed over the unit's own rows, in their order), and the levers are sorted with a
stable sort on per-row keys. So scoring the counts of several periods side by side, each
period's units under a name of their own, gives each unit the very rows (to the last bit, in
the same order) that scoring its period alone gives; the names are put back afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from cchc_lib.datacache import derived
from cchc_lib.index766.counts import counts_from_data
from cchc_lib.index766.scores import GROUPS, TOTAL, levers, score_from_counts
from cchc_lib.periods import Period
from cchc_lib.processed import ProcessedData

_SEP = "\x1f"  # between a key's number and the unit's name (never in a unit's name)


def _side_by_side(counts: list[pd.DataFrame]) -> pd.DataFrame:
    """The counts of several scorings in one frame, each one's units named apart (in the
    dtype they came in: the scoring keeps it)."""
    renamed = [c.assign(unit=(f"{k}{_SEP}" + c["unit"].astype(object)).astype(c["unit"].dtype))
               for k, c in enumerate(counts)]
    return pd.concat(renamed, ignore_index=True)


def _apart(frame: pd.DataFrame, n: int) -> list[pd.DataFrame]:
    """:func:`_side_by_side`'s scoring split back into ``n`` frames, the units' names restored
    (and the dtypes a scoring of one gives)."""
    parts = frame["unit"].astype(object).str.split(_SEP, n=1)
    key = parts.str[0].astype("int64").to_numpy()
    unit = pd.Series(parts.str[1].to_numpy(), index=frame.index).astype(frame["unit"].dtype)
    whole = frame.assign(unit=unit)
    return [whole[key == k].reset_index(drop=True) for k in range(n)]


def scores_many(counts: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """``[score_from_counts(c) for c in counts]``, scored in one call."""
    if not counts:
        return []
    return _apart(score_from_counts(_side_by_side(counts)), len(counts))


def levers_many(counts: list[pd.DataFrame], scores: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """``[levers(c, s) for c, s in zip(counts, scores)]``, worked out in one call."""
    if not counts:
        return []
    return _apart(levers(_side_by_side(counts), _side_by_side(scores)), len(counts))


def index_section_frames_many(data: ProcessedData,
                              periods: Sequence[Period]) -> dict[Period, dict[str, pd.DataFrame]]:
    """:func:`cchc_lib.index766.counts.index_section_frames` of each of ``periods`` (the whole
    department), each equal to what that function gives for its period alone."""
    group_rows = [g.code for g in GROUPS] + [TOTAL]
    periods = list(dict.fromkeys(periods))
    months = list(dict.fromkeys(
        Period("month", p.year, m) for p in periods
        for m in range(1, p.first_month + p.n_months)))
    overall_periods = list(dict.fromkeys([*periods, *months]))

    # Counted once per data read, as index_section_frames counts them (the same cache keys).
    def counts_of(p: Period, by: str) -> pd.DataFrame:
        return derived(data, ("index766-counts", p.code, by), lambda: counts_from_data(data, p, by))

    overall = [counts_of(p, "overall") for p in overall_periods]
    by_dept = [counts_from_data(data, p, "department") for p in periods]
    scored = scores_many(overall + [c for c in by_dept if not c.empty])
    overall_scores = dict(zip(overall_periods, scored[:len(overall)], strict=True))
    dept_scores = iter(scored[len(overall):])
    lever_frames = levers_many([overall[overall_periods.index(p)] for p in periods],
                               [overall_scores[p] for p in periods])
    out: dict[Period, dict[str, pd.DataFrame]] = {}
    for p, counts, lever in zip(periods, by_dept, lever_frames, strict=True):
        scores = overall_scores[p]
        trend = []
        for month in range(1, p.first_month + p.n_months):
            m = Period("month", p.year, month)
            s = overall_scores[m]
            trend.append(s[s["metric"].isin(group_rows)].assign(period=m.code, label=m.short_label_vi))
        if counts.empty:
            departments = scores.iloc[0:0]
        else:
            departments = next(dept_scores)
            departments = departments[departments["metric"].isin(group_rows)]
        out[p] = {
            "scores": scores,
            "summary": scores[scores["metric"].isin(group_rows)].reset_index(drop=True),
            "trend": pd.concat(trend, ignore_index=True),
            "departments": departments.reset_index(drop=True),
            "levers": lever,
        }
    return out
