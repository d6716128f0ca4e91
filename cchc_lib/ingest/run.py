"""`cchc ingest`: raw exports -> validated, personal-data-free processed tables.

Every file is read and validated in row batches into Arrow IPC chunks in a work folder inside the
output folder (ingest/chunks.py; the incremental cache keeps them per file, ingest/cache.py);
duplicates are then found across the chunks and each table written batch by batch, so memory
stays bounded at any size (issue 16). Only then are the outputs switched, as a new generation
folder that replaces the previous set in one rename (generations.py). A file that cannot be read
or lacks a required column therefore stops the run with nothing in the output folder touched,
and a failure or a kill while writing leaves the previous set whole.

The run is table-driven (schema.TABLES, schema.RAW_SOURCES, schema.KEYS, mapping.yaml): adding an
optional table is a schema and mapping change, not a code change here.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cchc_lib import schema
from cchc_lib.catalogue import reference_years
from cchc_lib.daily import DAILY_FILE
from cchc_lib.formatting import fmt_date, fmt_number
from cchc_lib.generations import write_generation
from cchc_lib.ingest import chunks as ingest_chunks
from cchc_lib.ingest.cache import FileCache
from cchc_lib.ingest.chunks import (
    FileChunks,
    daily_from_file,
    daily_in_workers,
    daily_task,
    give_back_memory,
    keep_mask,
    load_file,
    resolve_chunks,
    validate_file,
    write_table,
)
from cchc_lib.ingest.pool import WorkerPool, workers_setting
from cchc_lib.ingest.read_batches import DEFAULT_BATCH_ROWS
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
    tables: Mapping[str, pd.DataFrame]  # read from out_dir on first access (WrittenTables)
    rejects: pd.DataFrame
    report: dict
    written: list[str] = field(default_factory=list)
    cache_hits: int = 0  # raw files not read again (unchanged since the last run, ingest.cache)
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
    level = pa.array(dossiers["service_level"])
    missing = level.is_null().to_numpy(zero_copy_only=False)
    if not missing.any() or procedures.empty:
        return dossiers
    rows = missing.nonzero()[0]
    dates = dossiers[[c for c in ("received_at", "submitted_at") if c in dossiers.columns]].iloc[rows]
    # The receipt year; a never-received registration's submission year, else the latest.
    years = reference_years(dates, sorted({int(y) for y in procedures["year"].dropna()}))
    codes = pc.dictionary_encode(pa.array(dossiers["procedure_code"]).take(pa.array(rows)))
    names = codes.dictionary.to_pylist() + [None]  # the last: a dossier without a code
    code_of = pc.fill_null(codes.indices, len(names) - 1).to_numpy(zero_copy_only=False).astype(np.int64)
    # The best catalogue row depends only on the code and the year: chosen once per pair (a few
    # hundred), not once per dossier.
    base, span = int(years.min()), int(years.max() - years.min()) + 1
    pairs, pair_of = np.unique(code_of * span + (years - base), return_inverse=True)
    catalogue: dict[str, list[tuple[int, object]]] = {}
    rows_of = procedures[["procedure_code", "year", "service_level"]].itertuples(index=False)
    for code, year, service_level in rows_of:
        level_text = None if pd.isna(service_level) else service_level
        catalogue.setdefault(str(code), []).append((int(year), level_text))
    chosen: list[object] = []
    for pair in pairs.tolist():
        code, year = names[pair // span], base + pair % span
        # The closest year, the later one on a tie.
        best = min(catalogue.get(code, []) if code is not None else [],
                   key=lambda row, year=year: (abs(row[0] - year), -row[0]), default=None)
        chosen.append(None if best is None else best[1])
    found = pa.array(chosen, type=level.type).take(pa.array(pair_of))
    filled = pc.replace_with_mask(level, pa.array(missing), found)
    # Only the one column is new: the frame is not copied (pandas copies on write).
    return dossiers.assign(service_level=pd.array(filled, dtype="string"))


def _empty_rejects() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="string") for c in schema.REJECT_COLUMNS})
    return frame.astype({"source_row": "Int64"})


# -- writing -------------------------------------------------------------------------------


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    # No timestamps or random ids go into the file: the same frame gives the same bytes.
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, compression="snappy")


def _place_file(source: Path, path: Path) -> None:
    # A table written batch by batch in the work folder (inside out_dir): moved, not copied.
    os.replace(source, path)


def _write_rejects(frame: pd.DataFrame, path: Path) -> None:
    # UTF-8 with BOM so that Excel shows the Vietnamese reasons correctly; people open it in a
    # spreadsheet, so no text cell may start like a formula (CSV injection).
    neutralise_frame(frame).to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\n")


def _write_json(report: dict, path: Path) -> None:
    path.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


# -- the run -------------------------------------------------------------------------------


def _counts(rows: list[dict]) -> dict[str, int]:
    return {c: int(sum(r[c] for r in rows)) for c in COUNTS}


def batch_rows_setting(batch_rows: int | None = None) -> int:
    """Rows read and validated at a time: the argument, else ``CCHC_INGEST_BATCH_ROWS``, else
    read_batches.DEFAULT_BATCH_ROWS. The outputs do not depend on it (tested)."""
    if batch_rows is None:
        text = os.environ.get("CCHC_INGEST_BATCH_ROWS", "").strip()
        if text and not text.isdigit():
            raise IngestError(f"{BATCH_ROWS_HINT}, không phải '{text}'")
        batch_rows = int(text) if text else DEFAULT_BATCH_ROWS
    if batch_rows < 1:
        raise IngestError(f"{BATCH_ROWS_HINT}, không phải {batch_rows}")
    return batch_rows


BATCH_ROWS_HINT = "CCHC_INGEST_BATCH_ROWS phải là số dòng mỗi lượt đọc (số nguyên dương)"


WORK_PREFIX = ".ingest-work."
MIN_ROW_BYTES = 100  # a raw row is rarely shorter (a dossier export's: 400-500 bytes)
# Up to this many dossiers a worker builds the aggregate while this process writes them (alone):
# the two held 1.78 GB together at 1M (benchmarks/bench_scale.py, all processes; with a second
# worker making chunks ready as well, 2.1 GB). Above, the aggregate's running total grows (1.65
# GB at 10M by itself): it is built after the writing, the workers stopped, as in one process.
DAILY_OVERLAP_ROWS = 1_000_000


def _clean_stale_work(out_dir: Path) -> None:
    """Work folders of runs that were killed (their process is gone)."""
    if not out_dir.is_dir():
        return
    for entry in out_dir.iterdir():
        if entry.is_dir() and entry.name.startswith(WORK_PREFIX):
            pid = entry.name[len(WORK_PREFIX):]
            if pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_ingest(raw_dir: Path, out_dir: Path, mapping_path: Path | None = None,
               batch_rows: int | None = None, workers: int | None = None) -> IngestResult:
    """Ingest every raw file under raw_dir into out_dir per the data contract.

    Rows are read, validated and written ``batch_rows`` at a time (issue 16): every table goes
    through Arrow IPC chunks in a work folder inside out_dir, so memory stays bounded at any
    size; the outputs are the same at any batch size. With several ``workers`` (default: the
    cores, ingest.pool.workers_setting), a file of more than one batch is validated by worker
    processes and the aggregate of more than a batch of dossiers built by one while the
    dossiers are written (above DAILY_OVERLAP_ROWS, by the workers after the writing): the
    outputs are the same, byte for byte."""
    raw_dir, out_dir = Path(raw_dir), Path(out_dir)
    if not raw_dir.is_dir():
        raise IngestError(f"không tìm thấy thư mục dữ liệu thô {raw_dir}")
    try:
        mapping = load_mapping(mapping_path)
    except MappingError as exc:
        raise IngestError(str(exc)) from exc
    batch_rows = batch_rows_setting(batch_rows)
    workers = workers_setting(workers)
    out_dir.mkdir(parents=True, exist_ok=True)
    _clean_stale_work(out_dir)
    work = out_dir / f"{WORK_PREFIX}{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        with WorkerPool(workers) as pool:
            return _run(raw_dir, out_dir, mapping, mapping_path, batch_rows, work, pool)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(raw_dir: Path, out_dir: Path, mapping, mapping_path: Path | None, batch_rows: int,
         work: Path, pool: WorkerPool) -> IngestResult:
    files: dict[str, list[FileChunks]] = {}
    file_rows: list[dict] = []
    row_of: dict[tuple[str, str], dict] = {}
    cache = FileCache(out_dir, mapping_path)
    inputs, skipped = survey(raw_dir)
    if any(path.stat().st_size > batch_rows * MIN_ROW_BYTES for paths in inputs.values() for path in paths):
        pool.warm_up()  # a file of more than one batch, likely: the workers will be wanted
    for table, (patterns, required) in schema.RAW_SOURCES.items():
        paths = inputs.get(table, [])
        if not paths:
            if required:
                passed = "; ".join(f"{s.file}: {s.reason}" for s in skipped
                                   if s.file.split("/")[0] in (table, *(p.split(".")[0] for p in patterns)))
                raise IngestError(f"không tìm thấy tệp {' hoặc '.join(patterns)} trong thư mục {raw_dir}"
                                  + (f" (đã bỏ qua {passed})" if passed else ""))
            continue
        files[table] = []
        for path in paths:
            rel = path.relative_to(raw_dir).as_posix()
            # Read and validated once per content (ingest.cache): an unchanged file is not read.
            got = cache.get(
                path, rel, table,
                lambda folder, path=path, table=table: validate_file(path, raw_dir, table, mapping, folder,
                                                                     batch_rows, pool),
                lambda folder, rel=rel, table=table: load_file(folder, rel, table),
                work / "files" / f"{len(file_rows):06d}")
            files[table].append(got)
            give_back_memory()
            row = {
                "file": rel,
                "table": table,
                "rows_read": got.accepted + len(got.rejects),
                "rows_accepted": got.accepted,
                "rows_rejected": len(got.rejects),
                "duplicates_merged": 0,
                # Which canonical columns the file had: an optional column that is present
                # but empty (nobody rated) is not the same as one the export lacks.
                "columns": got.columns,
                "warnings": got.notes,
            }
            file_rows.append(row)
            row_of[(table, rel)] = row
    reject_frames = [f.rejects for table_files in files.values() for f in table_files if len(f.rejects)]

    written: dict[str, Path] = {}
    rows_out: dict[str, int] = {}
    kept: dict[str, pd.DataFrame] = {}  # the small tables later steps need whole

    def finish(table: str, transform=None, sinks=(), mask=None, helped: bool = True) -> None:
        if mask is None:
            mask = keep_mask(files[table], table, work / "spill", batch_rows)
        written[table] = work / f"{table}.parquet"
        count = _RowCount()
        parts: list[pd.DataFrame] = []
        keep_whole = table in ("procedures", "feedback")
        merged = write_table(files[table], table, mask, written[table], batch_rows, transform,
                             [count, *sinks, *([parts.append] if keep_whole else [])],
                             pool=pool if helped and not keep_whole else None)
        rows_out[table] = count.rows
        give_back_memory()  # freed batches back to the system, not kept
        if keep_whole:
            kept[table] = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        for f in files[table]:
            row = row_of[(table, f.rel)]
            row["duplicates_merged"] = merged.get(f.rel, 0)
            row["rows_accepted"] -= row["duplicates_merged"]

    # The catalogue first (dossiers are resolved against it), the dossiers last (their
    # aggregate needs the feedback).
    order = [t for t in ("procedures", *files) if t in files and t != "dossiers"]
    for table in dict.fromkeys(order):
        finish(table)
    coverage = _Coverage()
    daily: pd.DataFrame | None = None
    daily_written: Path | None = None  # built by a worker (ingest.pool) instead
    if "dossiers" in files:
        catalogue = kept.get("procedures", schema.empty_frame("procedures"))

        def moved_to_rejects(file: FileChunks, bad: pd.DataFrame) -> None:
            reject_frames.append(bad)
            row = row_of[("dossiers", file.rel)]
            row["rows_accepted"] -= len(bad)
            row["rows_rejected"] += len(bad)

        files["dossiers"] = resolve_chunks(files["dossiers"], catalogue, work / "resolved", moved_to_rejects)
        procedures = kept.get("procedures")
        # A partial, not a lambda: the workers receive it (ingest.pool).
        fill = (functools.partial(fill_service_level, procedures=procedures) if procedures is not None
                else None)
        mask = keep_mask(files["dossiers"], "dossiers", work / "spill", batch_rows)
        # The day-level aggregate everything downstream reads (daily.py). More than a batch and
        # at most DAILY_OVERLAP_ROWS dossiers with several workers: built by a worker from the
        # chunks and the mask while this process writes the dossiers (by itself: a second
        # worker making chunks ready too would pass 2 GB together). Above, the workers make the
        # chunks ready for the writer, then fresh workers build the aggregate's batches from the
        # chunks and the mask, added here (daily_in_workers: the table's writer and the
        # aggregate's builders are never in memory together); in one process it is built from
        # the dossiers just written, read back batch by batch. The same bytes every way
        # (tests/test_ingest_workers.py).
        daily_job = None
        if pool.parallel and batch_rows < len(mask) <= DAILY_OVERLAP_ROWS:
            daily_written = work / DAILY_FILE
            daily_job = pool.submit(daily_task, files["dossiers"], mask, catalogue, kept.get("feedback"),
                                    daily_written, ingest_chunks.DAILY_INGEST_ROWS)
        finish("dossiers", transform=fill, sinks=[coverage], mask=mask, helped=daily_job is None)
        if daily_job is not None:
            pool.result(daily_job)
        elif pool.parallel and len(mask) > batch_rows:
            # Each batch's aggregate built by fresh workers (forked from the fork server at once:
            # the writer's helpers held some 0.3 GB each by now), added to the running total here.
            workers = pool.workers
            pool.close()
            with WorkerPool(workers) as builders:
                daily = daily_in_workers(files["dossiers"], mask, catalogue, kept.get("feedback"), builders)
        else:
            pool.close()  # the workers' memory back before the aggregate's
            daily = daily_from_file(written["dossiers"], catalogue, kept.get("feedback"))
        del mask

    tables = [t for t in files]  # schema.RAW_SOURCES order, as before
    rejects = pd.concat(reject_frames, ignore_index=True) if reject_frames else _empty_rejects()
    report = build_report(file_rows, {t: rows_out[t] for t in tables}, coverage.report(), rejects)
    # Files of the input folders not read, each with its reason: never ignored in silence.
    report["skipped"] = [{"file": s.file, "reason": s.reason} for s in skipped]

    outputs: dict[str, Callable[[Path], None]] = {
        f"{t}.parquet": (lambda p, src=written[t]: _place_file(src, p)) for t in tables
    }
    if daily_written is not None:
        outputs[DAILY_FILE] = lambda p, src=daily_written: _place_file(src, p)
    elif daily is not None:
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
    return IngestResult(raw_dir, out_dir, WrittenTables(out_dir, tables), rejects, report, list(outputs),
                        cache_hits=cache.hits, cache_misses=cache.misses)


class _RowCount:
    """A sink counting the rows written."""

    def __init__(self) -> None:
        self.rows = 0

    def __call__(self, frame: pd.DataFrame) -> None:
        self.rows += len(frame)

    def merge(self, other: _RowCount) -> None:
        self.rows += other.rows


class _Coverage:
    """A sink gathering the report's coverage of the dossiers written, batch by batch."""

    def __init__(self) -> None:
        self.rows = 0
        self.first: pd.Timestamp | None = None
        self.last: pd.Timestamp | None = None
        self.not_received = 0

    def __call__(self, frame: pd.DataFrame) -> None:
        if not len(frame):
            return
        self.rows += len(frame)
        low, high = frame["received_at"].min(), frame["received_at"].max()
        if not pd.isna(low):
            self.first = low if self.first is None else min(self.first, low)
            self.last = high if self.last is None else max(self.last, high)
        self.not_received += int((frame["status"] == "not_received").sum())

    def merge(self, other: _Coverage) -> None:
        """What another instance gathered (a worker's batches) added to this one's."""
        self.rows += other.rows
        self.not_received += other.not_received
        for value in (other.first, other.last):
            if value is not None:
                self.first = value if self.first is None else min(self.first, value)
                self.last = value if self.last is None else max(self.last, value)

    def report(self) -> dict[str, object]:
        if not self.rows:
            return {"dossiers": 0, "received_from": None, "received_to": None}
        return {
            "dossiers": self.rows,
            "received_from": self.first.date().isoformat() if self.first is not None else None,
            "received_to": self.last.date().isoformat() if self.last is not None else None,
            # Registrations never received are kept but counted nowhere (conventions.md §2).
            "not_received": self.not_received,
        }


class WrittenTables(Mapping[str, pd.DataFrame]):
    """The processed tables of a run, each read from out_dir when first asked for (a run no
    longer holds them: issue 16)."""

    def __init__(self, out_dir: Path, names: list[str]) -> None:
        self.out_dir = out_dir
        self.names = names
        self._read: dict[str, pd.DataFrame] = {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self.names:
            raise KeyError(name)
        if name not in self._read:
            self._read[name] = pd.read_parquet(self.out_dir / f"{name}.parquet")
        return self._read[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


def _read_and_validate(path: Path, raw_dir: Path, table: str, mapping) -> tuple:
    """One raw file read and validated whole: (accepted rows, rejected rows, the canonical
    columns it had, its reading warnings). The ingest reads in batches (ingest/chunks.py);
    this is the whole-file reference its tests compare with."""
    raw = read_input(path, raw_dir, table, mapping)
    columns, notes = sorted(raw.present), raw.warnings
    good, bad = validate(raw, mapping)
    return good, bad, columns, notes


def build_report(file_rows: list[dict], rows_out: dict[str, int], coverage: dict[str, object],
                 rejects: pd.DataFrame) -> dict:
    """ingest_report.json: counts per file, per table and in total; reasons; coverage."""
    per_table = {}
    for table in rows_out:
        rows = [r for r in file_rows if r["table"] == table]
        present = sorted({c for r in rows for c in r.get("columns", ())})
        per_table[table] = {
            "files": len(rows), **_counts(rows), "rows_out": rows_out[table], "columns_present": present
        }
    reasons: Counter = Counter()
    for text in rejects["reason"].dropna().tolist():
        reasons.update(text.split("; "))
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
