"""schema.schema_problems, the ingest's check of every batch it writes, against the pandera
schema it replaced there: both accept what the ingest writes and both refuse each broken rule.
Also the catalogue's service level (ingest.fill_service_level) on a hand-made case."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pandera.errors
import pyarrow.parquet as pq
import pytest

from cchc_lib import schema
from cchc_lib.ingest.chunks import _prepare
from cchc_lib.ingest.run import fill_service_level
from cchc_lib.reading import IngestError


def _dossiers() -> pd.DataFrame:
    """Three valid dossiers, every column in the schema's order and dtype."""
    frame = schema.empty_frame("dossiers").reindex(range(3))
    values = {
        "dossier_id": ["HS-1", "HS-2", "HS-3"],
        "procedure_code": ["1.001", "1.001", "1.002"],
        "procedure_name": ["Đăng ký", "Đăng ký", "Cấp phép"],
        "field": ["Doanh nghiệp"] * 3,
        "department": ["Phòng A"] * 3,
        "channel": ["online", None, "postal"],
        "service_level": ["full", None, "none"],
        "received_at": pd.to_datetime(["2023-01-15 08:00", "2023-01-16 09:00", None]),
        "due_at": pd.to_datetime(["2023-01-18 17:00", "2023-01-20 17:00", None]),
        "completed_at": pd.to_datetime(["2023-01-17 10:00", None, None]),
        "status": ["resolved", "processing", "not_received"],
        "wait_minutes": [5.0, None, 0.0],
        "source_file": ["dossiers/a.csv"] * 3,
        "source_row": [2, 3, 4],
    }
    for name, column in values.items():
        frame[name] = pd.Series(column).astype(frame[name].dtype)
    return frame


def _procedures() -> pd.DataFrame:
    frame = schema.empty_frame("procedures").reindex(range(2))
    values = {
        "procedure_code": ["1.001", "1.001"], "procedure_name": ["Đăng ký"] * 2,
        "field": ["Doanh nghiệp"] * 2, "service_level": ["full", "partial"], "year": [2022, 2023],
        "source_file": ["procedures.csv"] * 2, "source_row": [2, 3],
    }
    for name, column in values.items():
        frame[name] = pd.Series(column).astype(frame[name].dtype)
    return frame


def _set(column: str, row: int, value) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def broken(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        frame.loc[row, column] = value
        return frame
    return broken


# Each rule broken once: (what is done to the valid frame, words the problem must contain).
BREAKS: dict[str, tuple[Callable[[pd.DataFrame], pd.DataFrame], str]] = {
    "a column missing": (lambda f: f.drop(columns="rating"), "columns"),
    "a column too many": (lambda f: f.assign(owner="x"), "columns"),
    "columns out of order": (lambda f: f[[*f.columns[1:], f.columns[0]]], "columns"),
    "a wrong dtype": (lambda f: f.assign(wait_minutes=f["wait_minutes"].astype("Float32")), "'wait_minutes'"),
    "a narrower integer": (lambda f: f.assign(source_row=f["source_row"].astype("Int32")), "'source_row'"),
    "yes/no as numpy bools": (lambda f: f.assign(digitized=False), "'digitized'"),
    "numbers as text": (lambda f: f.assign(field=pd.Series([1, 2, 3], dtype=object)), "'field'"),
    "text as categories": (lambda f: f.assign(field=f["field"].astype("category")), "'field'"),
    "an empty required value": (_set("procedure_name", 1, None), "'procedure_name'"),
    "an empty source row": (_set("source_row", 0, None), "'source_row'"),
    "a value not allowed": (_set("status", 0, "done"), "'status'"),
    "a channel not allowed": (_set("channel", 2, "fax"), "'channel'"),
    "under the minimum": (_set("wait_minutes", 0, -1.0), "'wait_minutes'"),
    "a repeated key": (_set("dossier_id", 2, "HS-1"), "key"),
    "due before received": (_set("due_at", 0, pd.Timestamp("2023-01-14")), "'due_at'"),
    "completed before received": (_set("completed_at", 0, pd.Timestamp("2023-01-15 07:59")),
                                  "'completed_at'"),
}


def test_a_valid_frame_passes_both():
    frame = _dossiers()
    assert schema.schema_problems(frame, "dossiers") == []
    schema.pandera_schema("dossiers").validate(frame)
    assert schema.schema_problems(_procedures(), "procedures") == []
    schema.pandera_schema("procedures").validate(_procedures())


@pytest.mark.parametrize("case", list(BREAKS))
def test_each_broken_rule_is_seen_by_both(case):
    breaking, words = BREAKS[case]
    frame = breaking(_dossiers())
    problems = schema.schema_problems(frame, "dossiers")
    assert len(problems) == 1 and words in problems[0], problems
    with pytest.raises((pandera.errors.SchemaError, pandera.errors.SchemaErrors)):
        schema.pandera_schema("dossiers").validate(frame)


def test_the_dtypes_pandera_lets_pass_pass_both():
    frame = _dossiers().assign(
        wait_minutes=lambda f: f["wait_minutes"].astype("Float64").fillna(0).astype("float64"),
        source_row=lambda f: f["source_row"].astype("int64"),
        received_at=lambda f: f["received_at"].astype("datetime64[us]"),
        field=lambda f: f["field"].astype("str"),
        procedure_name=lambda f: f["procedure_name"].astype(object),
    )
    assert schema.schema_problems(frame, "dossiers") == []
    schema.pandera_schema("dossiers").validate(frame)


def test_a_key_of_two_columns():
    frame = _set("year", 1, 2022)(_procedures())  # (1.001, 2022) twice
    problems = schema.schema_problems(frame, "procedures")
    assert problems == ["key ['procedure_code', 'year']: 1 rows repeat a key"]
    with pytest.raises((pandera.errors.SchemaError, pandera.errors.SchemaErrors)):
        schema.pandera_schema("procedures").validate(frame)


def test_every_processed_sample_table_passes_both(sample_processed_dir):
    for table in schema.TABLES:
        path = sample_processed_dir / f"{table}.parquet"
        if not path.exists():
            continue
        frame = pq.read_table(path).to_pandas()
        assert schema.schema_problems(frame, table) == [], table
        schema.pandera_schema(table).validate(frame)


def test_the_ingest_stops_on_a_batch_breaking_the_schema():
    with pytest.raises(IngestError, match="bảng dossiers không khớp lược đồ.*'status'"):
        _prepare(_set("status", 0, "done")(_dossiers()), "dossiers", None, [])
    assert len(_prepare(_dossiers(), "dossiers", None, [])) == 3


def test_service_level_from_the_catalogue():
    catalogue = schema.empty_frame("procedures").reindex(range(4))
    rows = {"procedure_code": ["1.001", "1.001", "1.002", "1.002"], "year": [2022, 2024, 2021, 2023],
            "service_level": ["none", "full", "partial", "none"]}
    for name, column in rows.items():
        catalogue[name] = pd.Series(column).astype(catalogue[name].dtype)
    dossiers = pd.DataFrame({
        "procedure_code": pd.array(["1.001", "1.001", "1.002", "1.002", "1.003", "1.001"], dtype="string"),
        "service_level": pd.array([None, None, None, "full", None, None], dtype="string"),
        "received_at": pd.to_datetime(["2023-05-01", "2022-02-01", "2020-01-01", "2023-01-01", "2023-01-01",
                                       None]).astype("datetime64[ns]"),
        "submitted_at": pd.to_datetime([None, None, None, None, None, None]).astype("datetime64[ns]"),
    })
    got = fill_service_level(dossiers, catalogue)["service_level"].tolist()
    # 2023 between 2022 and 2024: the later; 2022 exact; 2020: the closest, 2021; a level kept;
    # a code not in the catalogue stays empty; no date: the catalogue's latest year, 2024.
    assert got == ["full", "none", "partial", "full", pd.NA, "full"]
    assert str(fill_service_level(dossiers, catalogue)["service_level"].dtype) == "string"
    assert np.array_equal(dossiers["service_level"].isna(), [True, True, True, False, True, True])
