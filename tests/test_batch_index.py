"""A batch's national-index frames and lanes (issue 15): scoring many periods' counts side by
side gives each period exactly its own scores and levers (second method: the single call per
period); a batch's index frames equal each report's own; the year-end outlook kept per instant
equals the outlook computed again; the batch's periods split between workers so that those
ending in the same month meet in one."""

from __future__ import annotations

import pandas as pd
import pytest

from cchc_lib import datacache, projection
from cchc_lib.index766.counts import counts_from_data, index_section_frames
from cchc_lib.index766.many import index_section_frames_many, levers_many, scores_many
from cchc_lib.index766.scores import OVERALL_UNIT, levers, score_from_counts
from cchc_lib.periods import Period, periods_in_year
from cchc_lib.publish import batch_frames
from cchc_lib.publish.index766_section import index_frames

P = Period.parse
YEAR = periods_in_year(2023)


def _exactly(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(ours, theirs, check_exact=True)
    assert list(ours.dtypes) == list(theirs.dtypes)


def _counts(rows: list[tuple[str, str, float, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["unit", "metric", "numerator", "denominator"])
    return frame.astype({"unit": "string", "metric": "string"})


def test_scoring_side_by_side_gives_each_its_own_scores_and_levers():
    # Built by hand: the same unit name in two scorings with other counts, a unit present in
    # one only, a zero denominator, a metric missing; each scored alone is the reference.
    a = _counts([("Toàn Sở", "ONLINE_DOSSIER_SHARE", 3, 4), ("Toàn Sở", "DOSSIER_SYNC", 0, 0),
                 ("Phòng A", "ONLINE_DOSSIER_SHARE", 1, 10)])
    b = _counts([("Toàn Sở", "ONLINE_DOSSIER_SHARE", 4, 4), ("Toàn Sở", "REUSED_DIGITIZED_DATA", 7, 9)])
    c = _counts([("Phòng B", "DOSSIER_SYNC", 2, 3)])
    together = scores_many([a, b, c])
    for got, counts in zip(together, [a, b, c], strict=True):
        _exactly(got, score_from_counts(counts))
    # The shared unit name kept its own numbers in each.
    share = [s.loc[(s["unit"] == "Toàn Sở") & (s["metric"] == "ONLINE_DOSSIER_SHARE"), "ratio"].item()
             for s in together[:2]]
    assert share == [0.75, 1.0]
    for got, counts, scores in zip(levers_many([a, b, c], together), [a, b, c], together, strict=True):
        _exactly(got, levers(counts, scores))
    assert scores_many([]) == [] and levers_many([], []) == []


def test_many_periods_index_frames_equal_each_periods_own(sample_processed):
    data = sample_processed
    for periods in (YEAR[0::2], YEAR[1::2], [P("2023-Q4"), P("2023-02")], [P("2010-01"), P("2023-03")]):
        got = index_section_frames_many(data, periods)
        assert list(got) == list(periods)
        for period in periods:
            alone = index_section_frames(data, period)
            assert set(got[period]) == set(alone)
            for name, frame in alone.items():
                _exactly(got[period][name], frame)
    assert (counts_from_data(data, P("2010-01"), "department").empty
            and got[P("2010-01")]["departments"].empty)
    assert set(got[P("2023-03")]["scores"]["unit"]) == {OVERALL_UNIT}


def test_a_batchs_index_frames_are_the_reports_own(sample_processed_dir, monkeypatch):
    monkeypatch.delenv(batch_frames.BATCH_ENV, raising=False)
    data = datacache.load_processed(sample_processed_dir)
    lane = [P("2023-Q1"), P("2023-03"), P("2023-07")]
    alone = {p: index_frames(data, p) for p in lane}
    for name, value in batch_frames.batch_environment(lane).items():
        monkeypatch.setenv(name, value)
    first = batch_frames.shared_index_frames(data, P("2023-Q1"), None)
    first["scores"]["score"] = -1.0  # a report that alters what it got
    for period in lane:
        got = index_frames(datacache.load_processed(sample_processed_dir), period)
        for name, frame in alone[period].items():
            _exactly(got[name], frame)
    # Not in the batch, or one department's report: computed as alone.
    assert batch_frames.shared_index_frames(data, P("2023-05"), None) is None
    assert batch_frames.shared_index_frames(data, P("2023-03"), "Phòng Đăng ký kinh doanh") is None


def test_the_year_end_outlook_kept_per_instant_is_the_outlook_computed_again(sample_processed_dir):
    data = datacache.load_processed(sample_processed_dir)
    at = projection.period_as_of(P("2023-Q1"))
    first = projection.year_end(data, 2023, at)
    first["projected"] = -1.0  # a report that alters what it got
    again = projection.year_end(datacache.load_processed(sample_processed_dir), 2023,
                                projection.period_as_of(P("2023-03")))
    fresh = projection._year_end(data, 2023, at, None)
    _exactly(again, fresh)
    assert len(fresh) and fresh["projected"].notna().any()


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_lanes_keep_periods_ending_in_one_month_together_and_balance_the_workers(workers):
    lanes = batch_frames.batch_lanes(YEAR, workers)
    assert len(lanes) == len(YEAR) and set(lanes) == set(range(min(workers, 12)))
    by_last: dict[Period, set[int]] = {}
    for period, lane in zip(YEAR, lanes, strict=True):
        by_last.setdefault(period.months()[-1], set()).add(lane)
    assert all(len(v) == 1 for v in by_last.values())
    assert by_last[P("2023-12")] == {lanes[YEAR.index(P("2023"))]}  # 12, Q4 and the year
    sizes = [lanes.count(k) for k in set(lanes)]
    assert max(sizes) - min(sizes) <= 1  # 17 reports: 9 + 8 for two workers
    assert batch_frames.batch_lanes(["2023-01"], 2) == [0]
