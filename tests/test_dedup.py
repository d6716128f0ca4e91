"""De-duplication across chunks on disk (cchc_lib.ingest.dedup) gives what ingest's in-memory merge
gives: the same rows in the same order and the same superseded counts per file, by hand and on
the sample's dossier files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cchc_lib.ingest import chunk_files
from cchc_lib.ingest.dedup import last_occurrence_mask
from cchc_lib.ingest.run import _read_and_validate, merge_duplicates
from cchc_lib.mapping import load_mapping
from cchc_lib.schema import KEYS, conform

RAW = Path(__file__).resolve().parents[1] / "data" / "raw"


def _dedup(frames: list[pd.DataFrame], keys, tmp_path: Path, ipc: bool = False) -> tuple[pd.DataFrame, dict]:
    """The frames written as chunks (parquet, or Arrow IPC as ingest writes them), the mask asked
    of DuckDB, the winners kept in row order and the superseded rows counted per file: what
    ingest does with the mask."""
    chunks = []
    for i, frame in enumerate(frames):
        if ipc:
            chunks.append(tmp_path / f"chunk-{i:05d}{chunk_files.SUFFIX}")
            chunk_files.write_chunk(frame, chunks[-1])
        else:
            chunks.append(tmp_path / f"chunk-{i:05d}.parquet")
            pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), chunks[-1])
    mask = last_occurrence_mask(chunks, keys, temp_dir=tmp_path / "spill", memory_limit="200MB")
    read = (lambda c: chunk_files.read_chunk(c)) if ipc else pq.read_table
    rows = pd.concat([read(c).to_pandas() for c in chunks], ignore_index=True)
    assert len(mask) == len(rows)
    superseded = rows.loc[~mask, "source_file"].value_counts()
    return rows[mask].reset_index(drop=True), {str(k): int(v) for k, v in superseded.items()}


@pytest.mark.parametrize("ipc", [False, True])
def test_last_occurrence_wins_by_hand(tmp_path, ipc):
    """a.csv: K1, K2, K1; b.csv: K3, K2, K9 missing twice. K1's second row (a.csv row 4) and K2's
    b.csv row stand where they stood; the missing keys merge into the later one. (An empty chunk
    between them, whose text column has no type in Arrow, changes nothing.)"""
    a = pd.DataFrame({"dossier_id": ["K1", "K2", "K1"], "v": [1, 2, 3],
                      "source_file": "a.csv", "source_row": [2, 3, 4]})
    b = pd.DataFrame({"dossier_id": ["K3", "K2", None, None], "v": [4, 5, 6, 7],
                      "source_file": "b.csv", "source_row": [2, 3, 4, 5]})
    empty = a.iloc[:0].astype({"dossier_id": object})
    merged, superseded = _dedup([a, empty, b] if ipc else [a, b], ["dossier_id"], tmp_path, ipc)
    assert merged["v"].tolist() == [3, 4, 5, 7]
    assert merged["dossier_id"].tolist()[:3] == ["K1", "K3", "K2"]
    assert superseded == {"a.csv": 2, "b.csv": 1}
    expected, counts = merge_duplicates([a, b], "dossiers")
    assert expected["v"].tolist() == merged["v"].tolist()
    assert dict(counts) == superseded


@pytest.mark.parametrize("ipc", [False, True])
def test_sample_dossier_files_as_ingest_merges_them(tmp_path, ipc):
    paths = sorted(p for p in (RAW / "dossiers").glob("*") if p.is_file())
    if not paths:
        pytest.skip("data/raw has no sample dossiers")
    mapping = load_mapping(None)
    frames = [_read_and_validate(p, RAW, "dossiers", mapping)[0] for p in paths]
    expected, counts = merge_duplicates(frames, "dossiers")
    assert sum(counts.values()) > 0  # the sample has re-exported dossiers to merge
    merged, superseded = _dedup(frames, list(KEYS["dossiers"]), tmp_path, ipc)
    assert superseded == dict(counts)
    pd.testing.assert_frame_equal(conform(merged, "dossiers"),
                                  conform(expected.reset_index(drop=True), "dossiers"))
