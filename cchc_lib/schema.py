"""The processed-data schema, written once.

Every processed table is described here column by column; the check of the ingest's output
(`schema_problems`, tested against the pandera schemas), the pandera schemas and the column
documentation (`cchc schema`) are all derived from these specs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    import pandera.pandas as pandera_pd

DATETIME = "datetime64[ns]"
STRING = "string"
BOOLEAN = "boolean"  # nullable: <NA> means "the export had no such column"
FLOAT = "Float64"
INT = "Int64"

CHANNELS = ("online", "in_person", "postal")
SERVICE_LEVELS = ("full", "partial", "none")
# The dossier's life (conventions.md §2): the status at export time.
STATUSES = (
    "not_received",  # registered online but never accepted, or refused at the counter
    "received",
    "processing",
    "awaiting_supplement",
    "awaiting_payment",
    "suspended",
    "resolved",
    "returned",
    "refused",
    "withdrawn",
)
RATINGS = ("very_satisfied", "satisfied", "unsatisfied")


@dataclass(frozen=True)
class ColumnSpec:
    """One canonical column of a processed table."""

    name: str
    dtype: str
    label_vi: str
    description: str
    required: bool = False  # must be present in every raw export (an empty value is a reject)
    nullable: bool = True
    allowed: tuple[str, ...] | None = None
    min_value: float | None = None
    value_required: bool = False  # optional column, but when present an empty value is a reject


DOSSIER_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("dossier_id", STRING, "Mã hồ sơ", "Dossier id, unique", True, False),
    # A real export may lack the code and the field: both then come from the catalogue, by the
    # procedure's normalised name (ingest.resolve_procedures). Code or name is required.
    ColumnSpec("procedure_code", STRING, "Mã TTHC", "Procedure code, e.g. 1.001612; from the catalogue "
               "by name when the export has none", nullable=False),
    ColumnSpec("procedure_name", STRING, "Tên TTHC", "Procedure name", nullable=False),
    ColumnSpec("field", STRING, "Lĩnh vực", "Field (lĩnh vực); from the catalogue when absent",
               nullable=False),
    ColumnSpec("department", STRING, "Phòng xử lý", "Handling department (phòng); the agency itself "
               "when the export has no department column", nullable=False, value_required=True),
    ColumnSpec("channel", STRING, "Kênh nộp", "Submission channel; <NA> (unknown) when the export has "
               "no channel column", allowed=CHANNELS, value_required=True),
    ColumnSpec(
        "service_level", STRING, "Mức độ DVC",
        "Online service level; falls back to the catalogue", allowed=SERVICE_LEVELS,
    ),
    ColumnSpec("received_at", DATETIME, "Ngày tiếp nhận", "Received (local time); empty only for a "
               "not_received registration", True),
    ColumnSpec(
        "due_at", DATETIME, "Ngày hẹn trả",
        "Due instant; a date-only due is 23:59:59.999999 of that day; empty only for not_received", True,
    ),
    ColumnSpec("completed_at", DATETIME, "Ngày có kết quả", "Result ready; empty while pending"),
    ColumnSpec("returned_at", DATETIME, "Ngày trả kết quả", "Result handed back"),
    ColumnSpec("status", STRING, "Trạng thái", "Dossier status at export time", True, False, STATUSES),
    ColumnSpec("fee_required", BOOLEAN, "Có phí, lệ phí", "The dossier owes a fee"),
    ColumnSpec("paid_online", BOOLEAN, "Thanh toán trực tuyến", "Fee paid online"),
    ColumnSpec("digitized", BOOLEAN, "Số hóa hồ sơ", "Dossier digitised (NĐ 107/2021)"),
    ColumnSpec("electronic_result", BOOLEAN, "Kết quả điện tử", "Electronic result issued"),
    ColumnSpec("synced_national", BOOLEAN, "Đồng bộ DVCQG", "Status synced to national portal"),
    ColumnSpec("apology_issued", BOOLEAN, "Phiếu xin lỗi", "Apology slip for a late dossier"),
    ColumnSpec("rating", STRING, "Đánh giá", "Citizen rating", allowed=RATINGS),
    ColumnSpec("rated_at", DATETIME, "Ngày đánh giá", "When the rating was given"),
    ColumnSpec(
        "wait_minutes", FLOAT, "Thời gian chờ (phút)", "Minutes waited at the counter",
        min_value=0,
    ),
    ColumnSpec("reused_digitized_data", BOOLEAN, "Tái sử dụng dữ liệu số hóa", "Reused data"),
    ColumnSpec("citizen_data_connected", BOOLEAN, "Kết nối dữ liệu dân cư", "Citizen data link"),
    ColumnSpec("from_national_storage", BOOLEAN, "Lấy từ kho DVCQG", "Files from portal storage"),
    ColumnSpec("submitted_at", DATETIME, "Ngày nộp hồ sơ", "Submitted by the citizen (not the receipt)"),
    ColumnSpec("source_file", STRING, "Tệp nguồn", "Raw file the row came from", nullable=False),
    ColumnSpec("source_row", INT, "Dòng nguồn", "Spreadsheet row in that file", nullable=False),
)

PROCEDURE_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("procedure_code", STRING, "Mã TTHC", "Procedure code", True, False),
    ColumnSpec("procedure_name", STRING, "Tên TTHC", "Procedure name", True, False),
    ColumnSpec("field", STRING, "Lĩnh vực", "Field (lĩnh vực)", True, False),
    ColumnSpec(
        "service_level", STRING, "Mức độ DVC", "Online service level", True, False,
        SERVICE_LEVELS,
    ),
    ColumnSpec("full_online_eligible", BOOLEAN, "Đủ điều kiện toàn trình", "Eligible for full"),
    ColumnSpec("national_integrated", BOOLEAN, "Tích hợp DVCQG", "Integrated in national portal"),
    ColumnSpec("published_posted", BOOLEAN, "Công khai niêm yết", "Posted at the counter"),
    ColumnSpec("published_electronic", BOOLEAN, "Công khai điện tử", "Published electronically"),
    ColumnSpec("online_payment", BOOLEAN, "Thanh toán trực tuyến", "Accepts online payment"),
    ColumnSpec("fee_required", BOOLEAN, "Có phí", "The procedure has a fee"),
    ColumnSpec(
        "statutory_days", FLOAT, "Thời hạn giải quyết (ngày làm việc)",
        "Statutory time in working days", min_value=0,
    ),
    ColumnSpec("form_fields_before", INT, "Số trường tờ khai trước", "Form fields before", min_value=0),
    ColumnSpec("form_fields_after", INT, "Số trường tờ khai sau", "Form fields after", min_value=0),
    ColumnSpec("year", INT, "Năm", "Catalogue year", True, False),
    ColumnSpec("legal_effective_date", DATETIME, "Ngày hiệu lực văn bản", "Legal text in force"),
    ColumnSpec("published_decision_date", DATETIME, "Ngày quyết định công bố", "Announced"),
    ColumnSpec("made_public_date", DATETIME, "Ngày công khai", "Made public"),
    ColumnSpec("content_complete", BOOLEAN, "Đủ bộ phận tạo thành", "All parts published"),
    ColumnSpec("citizen_data_connected", BOOLEAN, "Kết nối dữ liệu dân cư", "Citizen data link"),
    ColumnSpec("source_file", STRING, "Tệp nguồn", "Raw file the row came from", nullable=False),
    ColumnSpec("source_row", INT, "Dòng nguồn", "Spreadsheet row in that file", nullable=False),
)

FEEDBACK_SUBJECTS = ("procedure", "staff")

FEEDBACK_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("feedback_id", STRING, "Mã PAKN", "Petition / feedback id, unique", True, False),
    ColumnSpec("received_at", DATETIME, "Ngày tiếp nhận", "Received (local time)", True, False),
    ColumnSpec(
        "due_at", DATETIME, "Hạn xử lý",
        "Handling deadline; a date-only deadline is the end of that day", True, False,
    ),
    ColumnSpec("handled_at", DATETIME, "Ngày xử lý xong", "Handled; empty while open"),
    ColumnSpec(
        "subject", STRING, "Đối tượng", "What it concerns: a procedure or a civil servant",
        allowed=FEEDBACK_SUBJECTS,
    ),
    ColumnSpec("rating", STRING, "Đánh giá", "Petitioner's rating", allowed=RATINGS),
    ColumnSpec("dossier_id", STRING, "Mã hồ sơ", "The dossier it concerns, if any"),
    ColumnSpec("source_file", STRING, "Tệp nguồn", "Raw file the row came from", nullable=False),
    ColumnSpec("source_row", INT, "Dòng nguồn", "Spreadsheet row in that file", nullable=False),
)

DOCUMENT_DIRECTIONS = ("outgoing", "incoming")
DOCUMENT_FORMS = ("electronic", "paper")

DOCUMENT_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("document_number", STRING, "Số ký hiệu", "Document number and symbol", True, False),
    ColumnSpec("document_date", DATETIME, "Ngày", "Date of the document", True, False),
    ColumnSpec(
        "direction", STRING, "Loại", "Sent (Đi) or received (Đến)", True, False, DOCUMENT_DIRECTIONS,
    ),
    ColumnSpec(
        "doc_form", STRING, "Hình thức", "Electronic (Điện tử) or paper (Giấy)",
        allowed=DOCUMENT_FORMS,
    ),
    ColumnSpec("esigned", BOOLEAN, "Ký số", "Carries a digital signature"),
    ColumnSpec("classified", BOOLEAN, "Mật", "State secret: excluded from the e-document target"),
    ColumnSpec("department", STRING, "Phòng", "Department (phòng) that sent or handles it"),
    ColumnSpec("source_file", STRING, "Tệp nguồn", "Raw file the row came from", nullable=False),
    ColumnSpec("source_row", INT, "Dòng nguồn", "Spreadsheet row in that file", nullable=False),
)

WORKFILE_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("workfile_id", STRING, "Mã hồ sơ công việc", "Work-file id, unique", True, False),
    ColumnSpec("year", INT, "Năm", "Year of the work file", True, False),
    ColumnSpec("department", STRING, "Phòng", "Department (phòng)"),
    ColumnSpec("online", BOOLEAN, "Xử lý trên môi trường mạng", "Handled online"),
    ColumnSpec("classified", BOOLEAN, "Mật", "State secret: excluded from the online target"),
    ColumnSpec("source_file", STRING, "Tệp nguồn", "Raw file the row came from", nullable=False),
    ColumnSpec("source_row", INT, "Dòng nguồn", "Spreadsheet row in that file", nullable=False),
)

QUALIFICATIONS = ("doctorate", "master", "bachelor", "college", "intermediate")

STAFF_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("staff_id", STRING, "Mã cán bộ", "Pseudonymous civil-servant id", True, False),
    ColumnSpec("year", INT, "Năm", "Year of the register snapshot", True, False),
    ColumnSpec("department", STRING, "Phòng", "Department (phòng)"),
    ColumnSpec("position", STRING, "Chức danh / ngạch", "Title or civil-service rank"),
    ColumnSpec("is_leader", BOOLEAN, "Lãnh đạo", "Holds a leading post"),
    ColumnSpec(
        "qualification", STRING, "Trình độ chuyên môn", "Highest degree",
        allowed=QUALIFICATIONS,
    ),
    ColumnSpec(
        "state_mgmt_trained", BOOLEAN, "Bồi dưỡng QLNN theo ngạch",
        "Trained in state management for the rank held",
    ),
    ColumnSpec("digital_id", BOOLEAN, "Định danh số", "Has a digital identity at work"),
    ColumnSpec(
        "security_trained", BOOLEAN, "Tập huấn chuyển đổi số - an toàn thông tin",
        "Trained in digital transformation and information security",
    ),
    # Optional, for the plan's III.4 / Biểu IV.2 targets on public employees and appointments.
    ColumnSpec("public_employee", BOOLEAN, "Viên chức", "A public employee (viên chức), not a civil servant"),
    ColumnSpec(
        "title_trained", BOOLEAN, "Bồi dưỡng theo chức danh nghề nghiệp",
        "Public employee trained to the standard of their professional title",
    ),
    ColumnSpec("appointed", BOOLEAN, "Bổ nhiệm trong năm", "Appointed to a rank or a post in the year"),
    ColumnSpec(
        "met_standard", BOOLEAN, "Đạt tiêu chuẩn trước khi bổ nhiệm",
        "Met the required standard before the appointment",
    ),
    ColumnSpec(
        "trained_before_appointment", BOOLEAN, "Bồi dưỡng trước khi bổ nhiệm",
        "Leader trained in management before being appointed",
    ),
    ColumnSpec("source_file", STRING, "Tệp nguồn", "Raw file the row came from", nullable=False),
    ColumnSpec("source_row", INT, "Dòng nguồn", "Spreadsheet row in that file", nullable=False),
)

TASK_STATES = ("not_started", "in_progress", "done")

PLAN_TASK_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("section", STRING, "Mục", "Area of the plan: I ... VII", True, False),
    ColumnSpec("task_no", INT, "STT", "Number of the task within its area", True, False, min_value=1),
    ColumnSpec("content", STRING, "Nội dung", "What the task is", True, False),
    ColumnSpec("product", STRING, "Sản phẩm", "Expected product"),
    ColumnSpec("lead_unit", STRING, "Đơn vị chủ trì", "Lead unit"),
    ColumnSpec("partner_unit", STRING, "Đơn vị phối hợp", "Coordinating unit"),
    ColumnSpec(
        "deadline_text", STRING, "Thời gian thực hiện",
        "Deadline as the plan writes it (Tháng 6/2023, Năm 2023, Thường xuyên ...)", True, False,
    ),
    ColumnSpec(
        "task_state", STRING, "Trạng thái", "Reported state; empty = not reported",
        allowed=TASK_STATES,
    ),
    ColumnSpec("completed_at", DATETIME, "Ngày hoàn thành", "When it was reported done"),
    ColumnSpec("result_document", STRING, "Văn bản kết quả", "Document that evidences the result"),
    ColumnSpec("source_file", STRING, "Tệp nguồn", "Raw file the row came from", nullable=False),
    ColumnSpec("source_row", INT, "Dòng nguồn", "Spreadsheet row in that file", nullable=False),
)

# Figures an analyst enters for plan targets that no system exports (cchc_lib.manual_figures).
MANUAL_FIGURE_INDICATORS = (
    "legal_docs_due_process_share", "procedures_published_timely_share", "one_stop_share",
    "vc_title_trained_share", "appointed_meeting_standard_share",
    "vc_leaders_trained_before_appointment_share", "popular_services_integrated_share",
    "heads_dx_informed_share", "unified_governance_share", "electronic_records_share",
)

MANUAL_FIGURE_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("indicator", STRING, "Chỉ tiêu", "Indicator id (see README)", True, False,
               allowed=MANUAL_FIGURE_INDICATORS),
    ColumnSpec("period", STRING, "Kỳ", "Period: 2023, 2023-Q1 or 2023-03", True, False),
    ColumnSpec("numerator", FLOAT, "Tử số", "Numerator", True, False, min_value=0),
    ColumnSpec("denominator", FLOAT, "Mẫu số", "Denominator", True, False, min_value=0),
    ColumnSpec("note", STRING, "Nguồn số liệu", "Where the figure comes from"),
    ColumnSpec("source_file", STRING, "Tệp nguồn", "Raw file the row came from", nullable=False),
    ColumnSpec("source_row", INT, "Dòng nguồn", "Spreadsheet row in that file", nullable=False),
)

TABLES: dict[str, tuple[ColumnSpec, ...]] = {
    "dossiers": DOSSIER_COLUMNS,
    "procedures": PROCEDURE_COLUMNS,
    "feedback": FEEDBACK_COLUMNS,
    "documents": DOCUMENT_COLUMNS,
    "workfiles": WORKFILE_COLUMNS,
    "staff": STAFF_COLUMNS,
    "plan_tasks": PLAN_TASK_COLUMNS,
    "manual_figures": MANUAL_FIGURE_COLUMNS,
}

# Where each table's raw files live under data/raw, and whether the run needs it.
# Per table, groups of columns of which an export must have at least one (a procedure: code or name).
REQUIRED_ANY: dict[str, tuple[tuple[str, ...], ...]] = {
    "dossiers": (("procedure_code", "procedure_name"),),
}
# Dossier columns that may be empty when the status is not_received (never accepted).
NOT_RECEIVED_OPTIONAL = ("received_at", "due_at")

RAW_SOURCES: dict[str, tuple[tuple[str, ...], bool]] = {
    "dossiers": (("dossiers/*.csv", "dossiers/*.xlsx"), True),
    "procedures": (("procedures.csv", "procedures.xlsx"), True),
    "feedback": (("feedback/*.csv", "feedback/*.xlsx"), False),
    "documents": (("documents/*.csv", "documents/*.xlsx"), False),
    "workfiles": (("workfiles.csv", "workfiles.xlsx"), False),
    "staff": (("staff.csv", "staff.xlsx"), False),
    "plan_tasks": (("plan_tasks.csv", "plan_tasks.xlsx"), False),
    "manual_figures": (("manual_figures.csv", "manual_figures.xlsx"), False),
}

# The unique key of each processed table (duplicates: the last occurrence wins).
KEYS: dict[str, tuple[str, ...]] = {
    "dossiers": ("dossier_id",),
    "procedures": ("procedure_code", "year"),
    "feedback": ("feedback_id",),
    # The same number can come from two agencies or serve a sent and a received document.
    "documents": ("document_number", "direction", "document_date"),
    "workfiles": ("workfile_id",),
    "staff": ("staff_id", "year"),
    "plan_tasks": ("section", "task_no"),
    "manual_figures": ("indicator", "period"),
}

REJECT_COLUMNS = ("source_file", "source_row", "table", "dossier_id", "column", "reason")


_DONE = {"dossiers": "completed_at", "feedback": "handled_at"}


def _checks(spec: ColumnSpec) -> list[pandera_pd.Check]:
    import pandera.pandas as pandera_pd

    checks: list[pandera_pd.Check] = []
    if spec.allowed is not None:
        checks.append(pandera_pd.Check.isin(list(spec.allowed)))
    if spec.min_value is not None:
        checks.append(pandera_pd.Check.ge(spec.min_value))
    return checks


def pandera_schema(table: str) -> pandera_pd.DataFrameSchema:
    """The pandera schema of a processed table, built from its column specs: the reference
    that :func:`schema_problems` (the ingest's check) is tested against. Imported here, not at
    the top: pandera takes 0.1-0.25 s to import and 0.1 s more to validate its first frame."""
    import pandera.pandas as pandera_pd

    specs = TABLES[table]
    columns = {
        s.name: pandera_pd.Column(s.dtype, checks=_checks(s), nullable=s.nullable, coerce=False)
        for s in specs
    }
    unique = list(KEYS[table])
    checks = []
    if table in ("dossiers", "feedback"):
        checks.append(
            pandera_pd.Check(
                # Both empty only for a never-received registration (dossiers).
                lambda df: df["due_at"].isna() | df["received_at"].isna()
                | (df["due_at"] >= df["received_at"]),
                name="due_not_before_received",
            )
        )
        checks.append(
            pandera_pd.Check(
                lambda df: df[_DONE[table]].isna() | df["received_at"].isna()
                | (df[_DONE[table]] >= df["received_at"]),
                name="done_not_before_received",
            )
        )
    return pandera_pd.DataFrameSchema(columns, checks=checks, unique=unique, strict=True, ordered=True)


# The dtypes pandera's check lets pass for each dtype of the specs (its engine takes numpy's
# float64 for Float64, int64 for Int64, any datetime64 unit for datetime64[ns], pandas' str for
# string, and Python strings in an object column): the ingest's check lets the same pass.
_PASSING_DTYPES = {
    STRING: {"string", "str"},
    BOOLEAN: {"boolean"},
    FLOAT: {"Float64", "float64"},
    INT: {"Int64", "int64"},
    DATETIME: {f"datetime64[{unit}]" for unit in ("s", "ms", "us", "ns")},
}


def schema_problems(frame: pd.DataFrame, table: str) -> list[str]:
    """What in ``frame`` breaks the processed schema of ``table``; empty when nothing does.

    The rules of :func:`pandera_schema`, checked in numpy and pyarrow: the columns and their
    order, each column's dtype, no empty value where none may be, only allowed values, no
    value under its minimum, unique keys, nothing due or done before it was received
    (tests/test_schema_check.py breaks each rule and checks that both see it). The ingest
    checks every batch it writes with it, as a guard against its own bugs: pandera took 0.4
    CPU-s per million dossiers for the same rules, and its import 0.25 s per process."""
    specs = TABLES[table]
    expected = [s.name for s in specs]
    if list(frame.columns) != expected:
        return [f"columns {list(frame.columns)}, expected {expected}"]
    problems: list[str] = []
    for spec in specs:
        column = frame[spec.name]
        if str(column.dtype) not in _PASSING_DTYPES[spec.dtype] and not (
                spec.dtype == STRING and column.dtype == object
                and all(isinstance(v, str) for v in column.dropna())):
            problems.append(f"column '{spec.name}': dtype {column.dtype}, expected {spec.dtype}")
            continue
        if not spec.nullable and (empty := int(column.isna().sum())):
            problems.append(f"column '{spec.name}': {empty} empty values")
        if spec.allowed is not None:
            seen = {v for v in pc.unique(pa.array(column)).to_pylist() if v is not None}
            if unknown := sorted(seen - set(spec.allowed)):
                problems.append(f"column '{spec.name}': values not allowed {unknown}")
        if spec.min_value is not None:
            values = column.to_numpy(dtype=float, na_value=np.nan)
            if (below := int((values < spec.min_value).sum())):
                problems.append(f"column '{spec.name}': {below} values under {spec.min_value:g}")
    keys = list(KEYS[table])
    if len(keys) == 1:  # one key column: its distinct values (an empty key counts as one) in
        # pyarrow's hash table (count_distinct took 2.5 times as long, pandas 1.4 times)
        repeated = len(frame) - len(pc.unique(pa.array(frame[keys[0]])))
    else:
        repeated = int(frame.duplicated(keys).sum())
    if repeated:
        problems.append(f"key {keys}: {repeated} rows repeat a key")
    if table in _DONE:
        received = frame["received_at"].to_numpy()
        for name in ("due_at", _DONE[table]):
            later = frame[name].to_numpy()
            if (early := int((~np.isnat(later) & ~np.isnat(received) & (later < received)).sum())):
                problems.append(f"column '{name}': {early} rows before received_at")
    return problems


def empty_frame(table: str) -> pd.DataFrame:
    """An empty frame with the table's canonical columns and dtypes."""
    return pd.DataFrame({s.name: pd.Series(dtype=s.dtype) for s in TABLES[table]})


def conform(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Canonical columns of ``table`` in schema order and dtypes; absent columns are all <NA>.

    Parquet may hand back ``str`` for ``string`` columns, and older processed files may lack an
    optional column: both are brought to the schema here, once, for every reader.
    """
    return conform_columns(frame, TABLES[table])


def conform_columns(frame: pd.DataFrame, specs: Iterable[ColumnSpec]) -> pd.DataFrame:
    """The columns ``specs`` of ``frame`` in that order and in their dtypes; absent ones all <NA>."""
    cols = {}
    for spec in specs:
        if spec.name in frame.columns:
            col = frame[spec.name]
            cols[spec.name] = col if str(col.dtype) == spec.dtype else col.astype(spec.dtype)
        else:
            cols[spec.name] = pd.Series(pd.NA, index=frame.index, dtype=spec.dtype)
    return pd.DataFrame(cols, index=frame.index)


def column_docs(table: str) -> str:
    """A Markdown table documenting a processed table (used by `cchc schema`)."""
    lines = [
        "| column | Vietnamese header | type | required in export | allowed / rule | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for s in TABLES[table]:
        rule = ", ".join(s.allowed) if s.allowed else ""
        if s.min_value is not None:
            rule = f">= {s.min_value:g}"
        lines.append(
            f"| {s.name} | {s.label_vi} | {s.dtype} | {'yes' if s.required else 'no'} "
            f"| {rule} | {s.description} |"
        )
    return "\n".join(lines)


def flag(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A nullable yes/no column as plain bools: <NA> (an empty cell) is no, and so is a column
    the export did not have. The one reading of the contract's boolean columns."""
    if column not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return frame[column].to_numpy(dtype=bool, na_value=False)
