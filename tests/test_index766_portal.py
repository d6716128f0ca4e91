"""Regression guard: the national portal's published QĐ 766 scores for August 2026.

The fixture (copied from ``shared/reference/qd766-portal-2026-08``) holds the counts the portal
published for 164 real units and the scores it showed for them. Every one of the 328 published
scores must be reproduced from the counts within 0.015 points (the portal rounds to two decimals).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cchc_lib.index766.scores import read_counts_csv, score_from_counts

FIXTURE = Path(__file__).parent / "fixtures" / "qd766-portal-2026-08"
# The portal publishes the payment group as one number; our frame calls that row PAYMENT.
PORTAL_METRIC = {"PAYMENT_SUM": "PAYMENT"}


@pytest.fixture(scope="module")
def compared() -> pd.DataFrame:
    scores = score_from_counts(read_counts_csv(FIXTURE / "counts.csv"))
    published = pd.read_csv(FIXTURE / "scores.csv")
    published["our_metric"] = published["metric"].replace(PORTAL_METRIC)
    ours = scores[["unit", "metric", "score"]].rename(columns={"metric": "our_metric", "score": "ours"})
    merged = published.merge(ours, on=["unit", "our_metric"], how="left", validate="one_to_one")
    # A unit with no dossiers scores nothing here and 0 on the portal.
    merged["ours"] = merged["ours"].fillna(0.0)
    return merged


def test_every_published_score_is_present(compared: pd.DataFrame) -> None:
    assert len(compared) == 328
    assert compared["unit"].nunique() == 164


def test_every_published_score_is_reproduced(compared: pd.DataFrame) -> None:
    off = compared[(compared["ours"] - compared["score"]).abs() > 0.015]
    assert off.empty, off.to_string()


def test_province_total_by_hand(compared: pd.DataFrame) -> None:
    # H44, on time: 144,625 of 184,513 dossiers -> 20 x 0.78382... = 15.676 (portal: 15.68).
    row = compared[(compared["unit"] == "2026-08|H44") & (compared["metric"] == "PROGRESS_ON_TIME")]
    assert row["ours"].item() == pytest.approx(20 * 144625 / 184513)
    assert row["score"].item() == 15.68
