"""What is in an input folder, and reading each file by what it is, not by its name.

Real one-stop systems write "Excel" files that are an HTML ``<table>`` saved as ``.xls`` (a web
page's "Xuất Excel"), legacy Excel 97-2003 workbooks (BIFF ``.xls``), ``.XLSX`` in capitals,
and Excel's "Unicode text" (``.txt``, UTF-16 with tabs). Every file of an input folder is
either read (its content sniffed: CSV/text, XLSX, BIFF XLS, HTML table) or named in the ingest
summary as skipped with the reason (lock files, hidden files, empty files, other documents);
none is ignored in silence. A password-protected workbook stops the run with that said plainly.

Workbooks (.xlsx and .xls alike) are read with calamine (``python-calamine``, Rust), several
times faster than openpyxl (see ``benchmarks/bench_ingest.py``); HTML tables with lxml.
"""

from __future__ import annotations

import codecs
import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from cchc_lib import schema
from cchc_lib.mapping import Mapping
from cchc_lib.reading import (
    HEADER_SEARCH_ROWS,
    HeaderWarning,
    IngestError,
    MissingColumnsError,
    RawTable,
    _missing_error,
    cell_text,
    csv_layout,
    detect_encoding,
    find_header,
    header_warnings,
    make_raw_table,
    read_csv_file,
    required_columns,
    with_extra_columns,
)

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # compound file: BIFF .xls, or an encrypted OOXML
ZIP_MAGIC = b"PK\x03\x04"
# Extensions of files that hold tables (compared in lower case); the content decides the reader.
DATA_EXTENSIONS = (".csv", ".tsv", ".txt", ".xls", ".xlsx", ".xlsm", ".htm", ".html")
SNIFF_BYTES = 1 << 16
PASSWORD_HINT = ("tệp được đặt mật khẩu (mã hóa) nên không đọc được: hãy mở tệp trong Excel, bỏ mật khẩu "
                 "(Tệp > Thông tin > Bảo vệ sổ làm việc > Mã hóa bằng mật khẩu, để trống) rồi lưu lại")


@dataclass(frozen=True)
class Skipped:
    """A file of an input folder that is not read, and why (in Vietnamese)."""

    file: str
    reason: str


# -- what a file is --------------------------------------------------------------------------------


def sniff(path: Path) -> str:
    """The kind of a file from its bytes: ``empty``, ``xlsx``, ``xls`` (BIFF), ``encrypted``,
    ``html``, ``spreadsheetml`` (Excel 2003 XML), ``zip`` (another zip), ``text`` or ``binary``."""
    size = path.stat().st_size
    if size == 0:
        return "empty"
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if head.startswith(OLE2_MAGIC):
        # An encrypted .xlsx is a compound file holding an "EncryptedPackage" stream.
        whole = path.read_bytes()
        if "EncryptedPackage".encode("utf-16-le") in whole or "EncryptionInfo".encode("utf-16-le") in whole:
            return "encrypted"
        return "xls"
    if head.startswith(ZIP_MAGIC):
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
        except zipfile.BadZipFile:
            return "binary"
        return "xlsx" if "xl/workbook.xml" in names else "zip"
    encoding = detect_encoding(head)
    text = head.decode(encoding.replace("-sig", ""), errors="replace").lstrip("\ufeff \t\r\n")
    lowered = text[:4096].lower()
    if lowered.startswith("<"):
        if "urn:schemas-microsoft-com:office:spreadsheet" in lowered and "<table" not in lowered:
            return "spreadsheetml"
        if "<table" in text.lower() or "<html" in lowered or "<!doctype html" in lowered:
            return "html"
    sample = text[:8192]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n\f")
    return "binary" if controls > max(2, len(sample) // 100) else "text"


def _skip_reason(path: Path) -> str | None:
    """Why a file is not read at all, from its name (None: read it)."""
    name = path.name
    if name.startswith("~$"):
        return "tệp khóa tạm của Excel (tệp đang mở), không phải dữ liệu"
    if name.startswith("."):
        return "tệp ẩn, không phải dữ liệu"
    if path.suffix.lower() not in DATA_EXTENSIONS:
        return f"không phải tệp dữ liệu (phần mở rộng {path.suffix or 'không có'}); đọc: CSV, TXT, XLS, XLSX"
    if path.stat().st_size == 0:
        return "tệp rỗng (0 byte)"
    return None


def _folder_and_stem(table: str) -> tuple[str | None, str | None]:
    """(folder of a table's files, or the stem of its one top-level file) per RAW_SOURCES."""
    patterns, _ = schema.RAW_SOURCES[table]
    first = patterns[0]
    if "/" in first:
        return first.split("/", 1)[0], None
    return None, first.rsplit(".", 1)[0]


BROKEN_LINK = "liên kết tới một tệp không còn (ổ mạng chưa gắn?): không đọc"


def survey(raw_dir: Path) -> tuple[dict[str, list[Path]], list[Skipped]]:
    """Every file of the input folders: the files to read per table (sorted by their path),
    and the files skipped with a reason. Input folders are raw_dir itself (single-file tables,
    by name whatever the extension's case) and each table's folder (every file in it)."""
    raw_dir = Path(raw_dir)
    found: dict[str, list[Path]] = {}
    skipped: list[Skipped] = []
    claimed: set[Path] = set()

    def consider(path: Path, table: str) -> None:
        claimed.add(path)
        reason = _skip_reason(path)
        if reason is not None:
            skipped.append(Skipped(path.relative_to(raw_dir).as_posix(), reason))
        else:
            found.setdefault(table, []).append(path)

    for table in schema.RAW_SOURCES:
        folder, stem = _folder_and_stem(table)
        if folder is not None:
            where = raw_dir / folder
            if where.is_dir():
                for path in where.iterdir():
                    if path.is_file():
                        consider(path, table)
                    elif path.is_dir():
                        claimed.add(path)
                        skipped.append(Skipped(path.relative_to(raw_dir).as_posix(),
                                               "thư mục con: không đọc (đặt tệp ngay trong thư mục)"))
                    elif path.is_symlink():  # its target is gone (an unmounted share): said, not passed over
                        claimed.add(path)
                        skipped.append(Skipped(path.relative_to(raw_dir).as_posix(), BROKEN_LINK))
        else:
            for path in raw_dir.iterdir():
                if path.is_file() and path.name.split(".", 1)[0].lower() == stem and not path.name.startswith(
                        ("~$", ".")):
                    consider(path, table)
    folders = {f for f in (_folder_and_stem(t)[0] for t in schema.RAW_SOURCES) if f}
    for path in raw_dir.iterdir():
        if path in claimed or (path.is_dir() and path.name in folders):
            continue
        if path.is_file() or path.is_dir():
            what = ("thư mục không dùng" if path.is_dir()
                    else "không thuộc bảng dữ liệu nào (tên tệp không khớp procedures, staff, ...)")
            reason = _skip_reason(path) if path.is_file() else None
            skipped.append(Skipped(path.relative_to(raw_dir).as_posix(), reason or what))
        elif path.is_symlink():
            skipped.append(Skipped(path.relative_to(raw_dir).as_posix(), BROKEN_LINK))
    for paths in found.values():
        paths.sort(key=lambda p: p.relative_to(raw_dir).as_posix())
    skipped.sort(key=lambda s: s.file)
    return found, skipped


# -- readers ---------------------------------------------------------------------------------------


def _table_from_rows(rows: list[list[object]], numbers: list[int], rel: str, table: str,
                     mapping: Mapping) -> tuple[pa.Table, np.ndarray] | list[str]:
    """Header search over ``rows`` (cells as read), then the mapped columns as text; or the
    required columns missing from the closest row."""
    idx, found = find_header(rows[:HEADER_SEARCH_ROWS], table, mapping)
    if idx is None:
        return found
    cols = with_extra_columns(rows[idx], found, mapping)
    out: dict[str, list[str]] = {c: [] for c in cols}
    for cells in rows[idx + 1:]:
        n = len(cells)
        for c, i in cols.items():
            out[c].append(cell_text(cells[i]) if i < n else "")
    data = pa.table({c: pa.array(v, type=pa.string()) for c, v in out.items()})
    return data, np.asarray(numbers[idx + 1:], dtype=np.int64)


def read_workbook(path: Path, rel: str, table: str, mapping: Mapping) -> tuple[pa.Table, np.ndarray]:
    """An .xlsx or BIFF .xls with calamine: the first sheet holding the header; rows numbered
    as the sheet numbers them (calamine yields every row from row 1, leading empty rows too)."""
    import python_calamine

    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    except python_calamine.PasswordError:
        raise IngestError(f"tệp {rel}: {PASSWORD_HINT}") from None
    best: list[str] | None = None
    for index in range(len(workbook.sheet_names)):
        sheet = workbook.get_sheet_by_index(index)
        rows = [list(r) for r in sheet.iter_rows()]
        got = _table_from_rows(rows, list(range(1, len(rows) + 1)), rel, table, mapping)
        if isinstance(got, list):
            if best is None or len(got) < len(best):
                best = got
            continue
        _warn_other_data_sheets(workbook, index, table, mapping)
        return got
    raise _missing_error(rel, table, best or required_columns(table))


def _warn_other_data_sheets(workbook, read: int, table: str, mapping: Mapping) -> None:
    """A HeaderWarning naming the sheets after the one read that hold the table's header and
    rows below it (a month per sheet): one sheet is read, the others would be passed over
    without a word. Only the head of each is looked at."""
    import itertools

    others = []
    for index in range(read + 1, len(workbook.sheet_names)):
        head = [list(r) for r in itertools.islice(workbook.get_sheet_by_index(index).iter_rows(),
                                                  HEADER_SEARCH_ROWS + 1)]
        at, _found = find_header(head, table, mapping)
        if at is not None and any(cell not in (None, "") for row in head[at + 1:] for cell in row):
            others.append(f"'{workbook.sheet_names[index]}'")
    if others:
        warnings.warn(HeaderWarning(
            f"chỉ đọc trang tính '{workbook.sheet_names[read]}'; trang {', '.join(others)} cũng có dữ liệu "
            "của bảng mà không được đọc: hãy lưu mỗi trang thành một tệp riêng"), stacklevel=2)


_CHARSET = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9_\-]+)""", re.IGNORECASE)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)


def _html_text(raw: bytes) -> str:
    """The page as text: BOM, else the declared charset, else UTF-8, else Windows-1258."""
    for bom, enc in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                     (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            return raw.decode(enc)
    match = _CHARSET.search(raw[:4096])
    candidates = [match.group(1).decode("ascii").lower()] if match else []
    for enc in (*candidates, "utf-8", "cp1258"):
        try:
            return raw.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
    return raw.decode("utf-8", errors="replace")


def _span(value: str | None) -> int:
    text = str(value or "1").strip()
    return max(1, min(int(text), 1000)) if text.isdigit() else 1


def _fill_carried(cells: list[str], carried: dict[int, int]) -> None:
    """Empty cells where a rowspan from a row above covers the next columns."""
    while carried.get(len(cells), 0) > 0:
        carried[len(cells)] -= 1
        cells.append("")


def html_rows(raw: bytes) -> list[list[str]]:
    """Every ``<tr>`` of the page in document order as cell texts. A cell spanning several
    columns or rows keeps its text in its first cell and leaves the others empty, as Excel
    shows a merged cell, so that columns line up under the header."""
    import lxml.html

    text = _XML_DECL.sub("", _html_text(raw), count=1)
    doc = lxml.html.document_fromstring(text)
    rows: list[list[str]] = []
    carried: dict[int, int] = {}  # column -> rows still covered by a rowspan from above
    for tr in doc.iter("tr"):
        cells: list[str] = []
        for td in tr:
            if not isinstance(td.tag, str) or td.tag.lower() not in ("td", "th"):
                continue
            _fill_carried(cells, carried)
            for br in td.iter("br"):
                br.tail = " " + (br.tail or "")
            value = " ".join(td.text_content().split())
            span, down = _span(td.get("colspan")), _span(td.get("rowspan"))
            for k in range(span):
                if down > 1:
                    carried[len(cells)] = down - 1
                cells.append(value if k == 0 else "")
        _fill_carried(cells, carried)
        rows.append(cells)
    return rows


def read_html_table(path: Path, rel: str, table: str, mapping: Mapping) -> tuple[pa.Table, np.ndarray]:
    """An HTML table saved as .xls: the header row found below any title rows; rows numbered
    by their position among the page's table rows (as Excel shows the page, title rows first)."""
    rows = html_rows(path.read_bytes())
    if not rows:
        raise IngestError(f"tệp {rel} là trang HTML nhưng không có bảng (<table>) nào")
    got = _table_from_rows(rows, list(range(1, len(rows) + 1)), rel, table, mapping)
    if isinstance(got, list):
        raise _missing_error(rel, table, got)
    return got


def read_input(path: Path, raw_dir: Path, table: str, mapping: Mapping) -> RawTable:
    """Read one input file by its content; IngestError names the file when it cannot be used."""
    rel = path.relative_to(raw_dir).as_posix()
    with header_warnings(rel) as notes:
        data, rows = _read_kind(path, rel, table, mapping)
    return make_raw_table(rel, table, data, rows, notes)


def _has_table_header(path: Path, rel: str, table: str, mapping: Mapping) -> bool:
    """Whether a file that looks binary (control characters, see :func:`sniff`) is a text
    export after all: one with the table's header in its head. A few control characters in
    the cells of a small export make it look binary; its rows are then read and checked like
    any others, while a file that is not a table (a PDF renamed .csv) is still refused. A
    header short of required columns is a table too: its error says which are missing."""
    try:
        with warnings.catch_warnings():  # the real read says what there is to say
            warnings.simplefilter("ignore")
            csv_layout(path, rel, table, mapping, stream=True)
    except MissingColumnsError as exc:
        if exc.partial:
            raise
        return False
    except Exception:  # noqa: BLE001 - not text at all: not a table
        return False
    return True


def _read_kind(path: Path, rel: str, table: str, mapping: Mapping) -> tuple[pa.Table, np.ndarray]:
    kind = sniff(path)
    try:
        if kind in ("xlsx", "xls"):
            data, rows = read_workbook(path, rel, table, mapping)
        elif kind == "html":
            data, rows = read_html_table(path, rel, table, mapping)
        elif kind == "text" or (kind == "binary" and _has_table_header(path, rel, table, mapping)):
            data, first = read_csv_file(path, rel, table, mapping)
            rows = np.arange(first, first + data.num_rows, dtype=np.int64)
        elif kind == "encrypted":
            raise IngestError(f"tệp {rel}: {PASSWORD_HINT}")
        elif kind == "empty":
            raise IngestError(f"tệp {rel} rỗng (0 byte)")
        elif kind == "spreadsheetml":
            raise IngestError(f"tệp {rel} là bảng tính XML của Excel 2003, chưa đọc được: hãy mở trong Excel "
                              "và lưu lại dạng .xlsx")
        else:
            raise IngestError(f"tệp {rel} không phải CSV, văn bản, Excel (.xls, .xlsx) hay bảng HTML")
    except IngestError:
        raise
    except Exception as exc:  # any parser failure: the user needs the file name, not a traceback
        raise IngestError(f"không đọc được tệp {rel}: {exc}") from exc
    return data, rows
