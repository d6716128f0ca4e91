"""`cchc ingest`: raw exports -> validated, personal-data-free processed tables.

Everything is read and validated in memory first; only then are the outputs written, as a new
generation folder that replaces the previous set in one rename (generations.py). A file that
cannot be read or lacks a required column therefore stops the run with nothing in the output
folder touched, and a failure or a kill while writing leaves the previous set whole.

The run is table-driven (schema.TABLES, schema.RAW_SOURCES, schema.KEYS, mapping.yaml): adding an
optional table is a schema and mapping change, not a code change here.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pandera.errors
import pyarrow as pa
import pyarrow.parquet as pq

from cchc_lib import schema
from cchc_lib.catalogue import reference_years, resolve_procedures
from cchc_lib.daily import DAILY_FILE, build_daily_in_batches
from cchc_lib.formatting import fmt_date, fmt_number
from cchc_lib.generations import write_generation
from cchc_lib.ingest_cache import FileCache
from cchc_lib.mapping import MappingError, load_mapping
from cchc_lib.readers import read_input, survey
from cchc_lib.reading import IngestError
from cchc_lib.safe_text import neutralise_frame
from cchc_lib.validation import validate

__all__ = ["IngestError", "IngestResult", "run_ingest", "format_summary"]

REJECTS_FILE = "rejects.csv"
REPORT_FILE = "ingest_report.json"
MAX_SKIPPED_SHOWN = 10  # the summary stays one screen; ingest_report.json lists every one
COUNTS = ("rows_read", "rows_accepted", "rows_rejected", "duplicates_merged")
TABLE_LABELS = {
    "dossiers": "Hồ sơ TTHC",
    "procedures": "Danh mục TTHC",
    "feedback": "Phản ánh, kiến nghị",
    "documents": "Văn bản đi/đến",
    "workfiles": "Hồ sơ công việc",
    "staff": "Cán bộ, công chức",
    "plan_tasks": "Nhiệm vụ kế hoạch",
    "manual_figures": "Số liệu nhập tay",
}


@dataclass
class IngestResult:
    """What a run produced: the processed tables, the rejects and the report written."""

    raw_dir: Path
    out_dir: Path
    tables: dict[str, pd.DataFrame]
    rejects: pd.DataFrame
    report: dict
    written: list[str] = field(default_factory=list)
    cache_hits: int = 0  # raw files not read again (unchanged since the last run, ingest_cache)
    cache_misses: int = 0  # raw files read and validated


# -- table steps (pure) --------------------------------------------------------------------


def merge_duplicates(frames: list[pd.DataFrame], table: str) -> tuple[pd.DataFrame, Counter]:
    """One row per key, the last occurrence winning (frames in file order, rows in file order);
    returns the merged frame and, per source file, how many of its rows were superseded."""
    combined = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    superseded = combined.duplicated(list(schema.KEYS[table]), keep="last").to_numpy()
    merged = Counter(combined["source_file"].to_numpy()[superseded].tolist())
    if superseded.any():
        combined = combined.loc[~superseded]
    return combined, merged


def fill_service_level(dossiers: pd.DataFrame, procedures: pd.DataFrame) -> pd.DataFrame:
    """Dossiers without a service level take the catalogue's: same procedure code and the year
    received, else the catalogue year closest to it (the later one on a tie)."""
    missing = dossiers["service_level"].isna().to_numpy()
    if not missing.any() or procedures.empty:
        return dossiers
    want = pd.DataFrame(
        {
            "row": missing.nonzero()[0],
            "procedure_code": dossiers["procedure_code"].to_numpy()[missing],
            # The receipt year; a never-received registration's submission year, else the latest.
            "year": reference_years(dossiers.iloc[missing.nonzero()[0]],
                                    sorted({int(y) for y in procedures["year"].dropna()})),
        }
    )
    catalogue = procedures[["procedure_code", "year", "service_level"]].astype(
        {"procedure_code": object, "year": "int64", "service_level": object}
    )
    want = want.astype({"procedure_code": object})
    cand = want.merge(catalogue, on="procedure_code", how="inner", suffixes=("", "_cat"))
    if cand.empty:
        return dossiers
    cand["distance"] = (cand["year_cat"] - cand["year"]).abs()
    best = cand.sort_values(["row", "distance", "year_cat"], ascending=[True, True, False]).drop_duplicates(
        "row"
    )
    filled = dossiers["service_level"].to_numpy(dtype=object, na_value=None).copy()
    filled[best["row"].to_numpy()] = best["service_level"].to_numpy()
    out = dossiers.copy()
    out["service_level"] = pd.array(filled, dtype="string")
    return out


def _empty_rejects() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="string") for c in schema.REJECT_COLUMNS})
    return frame.astype({"source_row": "Int64"})


# -- writing -------------------------------------------------------------------------------


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    # No timestamps or random ids go into the file: the same frame gives the same bytes.
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, compression="snappy")


def _write_rejects(frame: pd.DataFrame, path: Path) -> None:
    # UTF-8 with BOM so that Excel shows the Vietnamese reasons correctly; people open it in a
    # spreadsheet, so no text cell may start like a formula (CSV injection).
    neutralise_frame(frame).to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\n")


def _write_json(report: dict, path: Path) -> None:
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


# -- the run -------------------------------------------------------------------------------


def _counts(rows: list[dict]) -> dict[str, int]:
    return {c: int(sum(r[c] for r in rows)) for c in COUNTS}


def run_ingest(raw_dir: Path, out_dir: Path, mapping_path: Path | None = None) -> IngestResult:
    """Ingest every raw file under raw_dir into out_dir per the data contract."""
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    if not raw_dir.is_dir():
        raise IngestError(f"không tìm thấy thư mục dữ liệu thô {raw_dir}")
    try:
        mapping = load_mapping(mapping_path)
    except MappingError as exc:
        raise IngestError(str(exc)) from exc

    accepted: dict[str, list[pd.DataFrame]] = {}
    reject_frames: list[pd.DataFrame] = []
    file_rows: list[dict] = []
    cache = FileCache(out_dir, mapping_path)
    inputs, skipped = survey(raw_dir)
    for table, (patterns, required) in schema.RAW_SOURCES.items():
        paths = inputs.get(table, [])
        if not paths:
            if required:
                passed = "; ".join(f"{s.file}: {s.reason}" for s in skipped
                                   if s.file.split("/")[0] in (table, *(p.split(".")[0] for p in patterns)))
                raise IngestError(f"không tìm thấy tệp {' hoặc '.join(patterns)} trong thư mục {raw_dir}"
                                  + (f" (đã bỏ qua {passed})" if passed else ""))
            continue
        accepted[table] = []
        for path in paths:
            rel = path.relative_to(raw_dir).as_posix()
            # Read and validated once per content (ingest_cache): an unchanged file is not read.
            good, bad, columns, notes = cache.get(
                path, rel, table,
                lambda path=path, table=table: _read_and_validate(path, raw_dir, table, mapping))
            accepted[table].append(good)
            if len(bad):
                reject_frames.append(bad)
            file_rows.append(
                {
                    "file": rel,
                    "table": table,
                    "rows_read": len(good) + len(bad),
                    "rows_accepted": len(good),
                    "rows_rejected": len(bad),
                    "duplicates_merged": 0,
                    # Which canonical columns the file had: an optional column that is present
                    # but empty (nobody rated) is not the same as one the export lacks.
                    "columns": columns,
                    "warnings": notes,
                }
            )

    if "dossiers" in accepted:
        catalogue = (merge_duplicates(accepted["procedures"], "procedures")[0]
                     if accepted.get("procedures") else schema.empty_frame("procedures"))
        accepted["dossiers"] = [
            _resolve_file(frame, catalogue, file_rows, reject_frames) for frame in accepted["dossiers"]
        ]

    tables: dict[str, pd.DataFrame] = {}
    for table in list(accepted):
        merged_frame, merged = merge_duplicates(accepted.pop(table), table)
        for row in file_rows:
            if row["table"] == table:
                row["duplicates_merged"] = merged.get(row["file"], 0)
                row["rows_accepted"] -= row["duplicates_merged"]
        tables[table] = merged_frame
    if "dossiers" in tables and "procedures" in tables:
        tables["dossiers"] = fill_service_level(tables["dossiers"], tables["procedures"])
    for table in list(tables):
        # Row order is the files' (sorted by name) and their rows', a merged record standing
        # where its last occurrence stood: deterministic without a sort, which on a million
        # rows of Arrow strings would cost about as much as reading the file.
        try:
            tables[table] = schema.pandera_schema(table).validate(tables[table].reset_index(drop=True))
        except (pandera.errors.SchemaError, pandera.errors.SchemaErrors) as exc:
            # A bug, not bad input: rows breaking the schema should have been rejected.
            raise IngestError(f"bảng {table} không khớp lược đồ sau khi kiểm tra: {exc}") from exc

    rejects = pd.concat(reject_frames, ignore_index=True) if reject_frames else _empty_rejects()
    report = build_report(file_rows, tables, rejects)
    # Files of the input folders not read, each with its reason: never ignored in silence.
    report["skipped"] = [{"file": s.file, "reason": s.reason} for s in skipped]

    outputs: dict[str, Callable[[Path], None]] = {
        f"{t}.parquet": (lambda p, f=frame: _write_parquet(f, p)) for t, frame in tables.items()
    }
    if "dossiers" in tables:
        # The day-level aggregate everything downstream reads (daily.py), from the same tables.
        # Built per batch of dossiers and added, so its temporaries stay bounded at any size.
        daily = build_daily_in_batches(tables["dossiers"],
                                       tables.get("procedures", schema.empty_frame("procedures")),
                                       tables.get("feedback"))
        outputs[DAILY_FILE] = lambda p: _write_parquet(daily, p)
    outputs[REJECTS_FILE] = lambda p: _write_rejects(rejects, p)
    outputs[REPORT_FILE] = lambda p: _write_json(report, p)
    # The whole set switches at once (generations.py); an optional input removed since the last
    # run leaves no old table behind.
    all_names = {f"{t}.parquet" for t in schema.TABLES} | {REJECTS_FILE, REPORT_FILE, DAILY_FILE}
    try:
        write_generation(out_dir, outputs, all_names)
    except Exception as exc:
        raise IngestError(f"không ghi được kết quả vào {out_dir}: {exc}") from exc
    cache.prune()  # entries of files changed or removed since: gone
    return IngestResult(raw_dir, out_dir, tables, rejects, report, list(outputs),
                        cache_hits=cache.hits, cache_misses=cache.misses)


def _read_and_validate(path: Path, raw_dir: Path, table: str, mapping) -> tuple:
    """One raw file read and validated: (accepted rows, rejected rows, the canonical columns it
    had, its reading warnings); depends only on the file's bytes, path, table and mapping."""
    raw = read_input(path, raw_dir, table, mapping)
    columns, notes = sorted(raw.present), raw.warnings
    good, bad = validate(raw, mapping)
    return good, bad, columns, notes


def _resolve_file(frame: pd.DataFrame, catalogue: pd.DataFrame, file_rows: list[dict],
                  reject_frames: list[pd.DataFrame]) -> pd.DataFrame:
    """One file's dossiers with code, name and field from the catalogue where the export lacks
    them (catalogue.resolve_procedures); the rows it rejects are moved to the rejects."""
    good, bad = resolve_procedures(frame, catalogue)
    if len(bad):
        reject_frames.append(bad)
        for row in file_rows:
            if row["table"] == "dossiers" and row["file"] == bad["source_file"].iloc[0]:
                row["rows_accepted"] -= len(bad)
                row["rows_rejected"] += len(bad)
    return good


def build_report(file_rows: list[dict], tables: dict[str, pd.DataFrame], rejects: pd.DataFrame) -> dict:
    """ingest_report.json: counts per file, per table and in total; reasons; coverage."""
    per_table = {}
    for table in tables:
        rows = [r for r in file_rows if r["table"] == table]
        present = sorted({c for r in rows for c in r.get("columns", ())})
        per_table[table] = {
            "files": len(rows), **_counts(rows), "rows_out": len(tables[table]), "columns_present": present
        }
    reasons: Counter = Counter()
    for text in rejects["reason"].dropna().tolist():
        reasons.update(text.split("; "))
    coverage: dict[str, object] = {"dossiers": 0, "received_from": None, "received_to": None}
    dossiers = tables.get("dossiers")
    if dossiers is not None and len(dossiers):
        coverage = {
            "dossiers": len(dossiers),
            "received_from": dossiers["received_at"].min().date().isoformat(),
            "received_to": dossiers["received_at"].max().date().isoformat(),
            # Registrations never received are kept but counted nowhere (conventions.md §2).
            "not_received": int((dossiers["status"] == "not_received").sum()),
        }
    return {
        "files": file_rows,
        "warnings": [w for r in file_rows for w in r.get("warnings", ())],
        "tables": per_table,
        "total": {"files": len(file_rows), **_counts(file_rows)},
        "reject_reasons": dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        "coverage": coverage,
    }


def format_summary(result: IngestResult, top_reasons: int = 5) -> str:
    """One screen, in Vietnamese: files, rows read / accepted / rejected / merged, the commonest
    reject reasons and where the outputs went."""
    report = result.report
    head = ("Bảng", "Số tệp", "Dòng đọc", "Nhận", "Loại", "Gộp trùng")
    lines_data = []
    for table, counts in report["tables"].items():
        lines_data.append(
            (TABLE_LABELS.get(table, table), *(fmt_number(counts[k]) for k in ("files", *COUNTS)))
        )
    total = report["total"]
    lines_data.append(("Tổng cộng", *(fmt_number(total[k]) for k in ("files", *COUNTS))))
    widths = [max(len(row[i]) for row in [head, *lines_data]) for i in range(len(head))]

    def fmt_row(row: tuple[str, ...]) -> str:
        return "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )

    out = [f"Nhập dữ liệu từ {result.raw_dir}: {fmt_number(total['files'])} tệp", "", fmt_row(head)]
    out += [fmt_row(r) for r in lines_data]
    if report.get("warnings"):
        out += ["", "Cảnh báo:", *(f"  - {w}" for w in report["warnings"])]
    skipped = report.get("skipped") or []
    if skipped:
        out += ["", f"Tệp bỏ qua, không đọc ({fmt_number(len(skipped))}):"]
        out += [f"  - {s['file']}: {s['reason']}" for s in skipped[:MAX_SKIPPED_SHOWN]]
        if len(skipped) > MAX_SKIPPED_SHOWN:
            more = fmt_number(len(skipped) - MAX_SKIPPED_SHOWN)
            out.append(f"  ... và {more} tệp khác (xem {REPORT_FILE})")
    reasons = list(report["reject_reasons"].items())
    if reasons:
        out += ["", "Lý do loại dòng thường gặp nhất:"]
        out += [f"  - {text} ({fmt_number(n)} dòng)" for text, n in reasons[:top_reasons]]
        if len(reasons) > top_reasons:
            out.append(f"  ... và {fmt_number(len(reasons) - top_reasons)} lý do khác (xem {REJECTS_FILE})")
    else:
        out += ["", "Không có dòng nào bị loại."]
    cov = report["coverage"]
    if cov["dossiers"]:
        out += [
            "",
            f"Dữ liệu hồ sơ: {fmt_number(cov['dossiers'])} hồ sơ, tiếp nhận từ "
            f"{fmt_date(pd.Timestamp(cov['received_from']))} "
            f"đến {fmt_date(pd.Timestamp(cov['received_to']))}",
        ]
        if cov.get("not_received"):
            out.append(
                f"Trong đó {fmt_number(cov['not_received'])} hồ sơ chưa được tiếp nhận (mới đăng ký, "
                "từ chối tiếp nhận): lưu lại nhưng không tính vào chỉ số, Biểu 06 hay Chỉ số 766."
            )
    out += ["", f"Đã ghi vào {result.out_dir}: {', '.join(result.written)}"]
    return "\n".join(out)
