"""Sample data for the plan's optional inputs: documents, work files, staff, plan tasks.

``write_plan_sample(out, seed)`` writes, under a data/raw layout:
- ``documents/van-ban-YYYY.csv`` (2022, 2023): the register of documents sent and received, with
  two planted bad rows (an unknown "Loại", an impossible date) that the ingest must reject;
- ``workfiles.csv``: work files of 2022 and 2023;
- ``staff.csv``: the civil-servant register of 2022 and 2023, pseudonymous ids plus a planted
  name and birth-date column (personal data the ingest must drop);
- ``manual_figures.csv``: figures an analyst enters for the plan targets no system exports
  (issue 12), by year and one by quarter;
- ``plan_tasks.csv``: the plan's own task table (the shipped ``plan_tasks_2023.csv``) with states
  filled in as of the end of 2023: most done on time, some late, some not done.

Draws come from their own generator seeded from ``seed`` so the dossier sample stays the same
whether or not these files are written; the same seed gives byte-identical files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cchc_lib.plan import PLAN_TASKS_2023, parse_deadline
from cchc_lib.sample.department import DEPARTMENTS
from cchc_lib.sample.writing import write_csv

YEARS = (2022, 2023)
UNITS = ("Văn phòng Sở", "Thanh tra Sở", "Phòng Tổng hợp, quy hoạch", *DEPARTMENTS)
_UNIT_CODES = ("VP", "TTr", "THQH", "ĐKKD", "KTĐN", "ĐTTĐ", "DNTN", "KTN")
_SENDERS = ("UBND", "SNV", "STC", "SXD", "STNMT", "BKHĐT", "VPUBND", "SCT")

# Plausible but invented names: planted so that tests can prove they never leave data/raw.
_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ma", "Hà", "Triệu")
_MIDDLE = ("Văn", "Thị", "Đức", "Minh", "Thu", "Hồng", "Quang", "Thanh")
_GIVEN = ("An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hải", "Hương", "Khánh", "Lan", "Linh", "Long",
          "Mai", "Nam", "Ngọc", "Phong", "Quân", "Sơn", "Thảo", "Trang", "Tuấn", "Yến")


def _rng(seed: int) -> np.random.Generator:
    # A separate stream (seed, 5): issue 5's files do not shift the dossier sample's draws.
    return np.random.Generator(np.random.PCG64([seed, 5]))


def _yes(flags: np.ndarray, yes: str = "Có", no: str = "Không") -> np.ndarray:
    return np.where(flags, yes, no)


def make_documents(rng: np.random.Generator, year: int) -> pd.DataFrame:
    """One year of the document register (văn bản đi/đến)."""
    n = int(rng.integers(880, 960))
    days = pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="B")
    date = np.sort(rng.choice(days.to_numpy(), n))
    outgoing = rng.random(n) < 0.45
    unit = rng.integers(0, len(UNITS), n)
    classified = rng.random(n) < 0.02
    # Electronic signing improves from 2022 to 2023 and is near-complete by the end of 2023.
    p_signed = 0.86 if year == 2022 else 0.955
    esigned = ~classified & (rng.random(n) < p_signed)
    electronic = esigned | (~classified & (rng.random(n) < 0.3))
    out_no = np.cumsum(outgoing)
    codes = np.array(_UNIT_CODES)[unit]
    senders = np.array(_SENDERS)[rng.integers(0, len(_SENDERS), n)]
    in_no = rng.integers(1, 4000, n)
    number = np.where(outgoing,
                      pd.Series(out_no).astype(str).str.cat(pd.Series(codes), sep="/SKH-").to_numpy(),
                      pd.Series(in_no).astype(str).str.cat(pd.Series(senders), sep="/").to_numpy())
    frame = pd.DataFrame({
        "STT": np.arange(1, n + 1),
        "Số ký hiệu": number,
        "Ngày": pd.DatetimeIndex(date).strftime("%d/%m/%Y"),
        "Loại": np.where(outgoing, "Đi", "Đến"),
        "Hình thức": np.where(electronic, "Điện tử", "Giấy"),
        "Ký số": _yes(esigned),
        "Mật": np.where(classified, "x", ""),
        "Phòng": np.array(UNITS)[unit],
    })
    # An incoming number may repeat by chance: the register keys on (Loại, Số ký hiệu, Ngày).
    frame = frame.drop_duplicates(["Loại", "Số ký hiệu", "Ngày"]).reset_index(drop=True)
    frame["STT"] = np.arange(1, len(frame) + 1)
    if year == 2023:  # two rows the ingest must reject, with a reason a person understands
        frame.loc[10, "Loại"] = "Nội bộ"
        frame.loc[20, "Ngày"] = "31/02/2023"
    return frame


def make_workfiles(rng: np.random.Generator) -> pd.DataFrame:
    frames = []
    for year, p_online in ((2022, 0.78), (2023, 0.9)):
        n = int(rng.integers(380, 440))
        classified = rng.random(n) < 0.03
        online = ~classified & (rng.random(n) < p_online)
        frames.append(pd.DataFrame({
            "Mã hồ sơ công việc": [f"HSCV-{year}-{i:04d}" for i in range(1, n + 1)],
            "Năm": year,
            "Phòng": np.array(UNITS)[rng.integers(0, len(UNITS), n)],
            "Xử lý trên môi trường mạng": _yes(online),
            "Mật": _yes(classified),
        }))
    return pd.concat(frames, ignore_index=True)


def make_staff(rng: np.random.Generator) -> pd.DataFrame:
    """The register for 2022 and 2023: the same people, with training progressing."""
    n = 56
    names = [f"{f} {m} {g}" for f, m, g in zip(
        np.array(_FAMILY)[rng.integers(0, len(_FAMILY), n)],
        np.array(_MIDDLE)[rng.integers(0, len(_MIDDLE), n)],
        np.array(_GIVEN)[rng.integers(0, len(_GIVEN), n)], strict=True)]
    birth = pd.to_datetime("1965-01-01") + pd.to_timedelta(rng.integers(0, 12000, n), unit="D")
    unit = rng.integers(0, len(UNITS), n)
    leader = rng.random(n) < 0.22
    qual = rng.choice(["Tiến sĩ", "Thạc sĩ", "Đại học", "Cao đẳng", "Trung cấp"], n,
                      p=[0.02, 0.25, 0.69, 0.03, 0.01])
    rank = np.where(leader, "Chuyên viên chính", np.where(rng.random(n) < 0.8, "Chuyên viên", "Cán sự"))
    frames = []
    trained = rng.random(n) < 0.82
    digital = rng.random(n) < 0.7
    security = rng.random(n) < 0.6
    for year in YEARS:
        if year == 2023:  # a year of training: most gaps closed, not all
            trained = trained | (rng.random(n) < 0.5)
            digital = np.ones(n, dtype=bool)
            security = security | (rng.random(n) < 0.85)
        frames.append(pd.DataFrame({
            "Mã cán bộ": [f"CB{i:03d}" for i in range(1, n + 1)],
            "Họ và tên": names,
            "Ngày sinh": birth.strftime("%d/%m/%Y"),
            "Phòng": np.array(UNITS)[unit],
            "Chức danh / ngạch": rank,
            "Lãnh đạo": np.where(leader, "x", ""),
            "Trình độ chuyên môn": qual,
            "Bồi dưỡng QLNN theo ngạch": _yes(trained),
            "Định danh số": _yes(digital),
            "Tập huấn chuyển đổi số - an toàn thông tin": _yes(security),
            "Năm": year,
        }))
    return pd.concat(frames, ignore_index=True)


def make_plan_tasks(rng: np.random.Generator) -> pd.DataFrame:
    """The shipped task table with states as of 31/12/2023: most on time, some late, some open."""
    table = pd.read_csv(PLAN_TASKS_2023, dtype=str, keep_default_na=False)
    n = len(table)
    parsed = [parse_deadline(t) for t in table["Thời gian thực hiện"]]
    kinds = np.array([k for k, _ in parsed])
    dues = pd.DatetimeIndex([d for _, d in parsed]).normalize()
    outcome = rng.choice(["ontime", "late", "open"], n, p=[0.72, 0.18, 0.10])
    key = table["Mục"] + "." + table["STT"]
    # Fixed outcomes so that every state shows in the report whatever the seed.
    outcome[(key == "VII.3").to_numpy()] = "late"  # Chỉ số CCHC: published after June
    outcome[(key == "I.3").to_numpy()] = "open"  # the review plan is still being drafted
    outcome[(key == "II.4").to_numpy()] = "open"  # form simplification: not reported in 2023
    outcome[(key == "VII.1").to_numpy()] = "ontime"
    recurring = kinds == "recurring"
    year_start = pd.Timestamp("2023-01-01")
    # Dated: on time = up to 40 days before the deadline (not before the year's start, except
    # for the task due in December 2022); late = 3 to 60 days after it.
    early_days = rng.integers(0, 40, n)
    late_days = rng.integers(3, 60, n)
    dated_done = np.where(outcome == "late", dues + pd.to_timedelta(late_days, unit="D"),
                          dues - pd.to_timedelta(early_days, unit="D"))
    dated_done = np.where((dues >= year_start) & (dated_done < year_start), year_start, dated_done)
    # Recurring: reported in the year-end report (late November to mid December).
    report_day = pd.Timestamp("2023-11-25") + pd.to_timedelta(rng.integers(0, 20, n), unit="D")
    done_at = pd.DatetimeIndex(np.where(recurring, report_day, dated_done))
    # The states are as of 31/12/2023: a completion that would fall later is still open then.
    done = (outcome != "open") & (done_at <= pd.Timestamp("2023-12-31"))
    in_progress = ~done & (rng.random(n) < 0.7)
    table["Trạng thái"] = np.where(done, "Hoàn thành", np.where(in_progress, "Đang thực hiện",
                                                              "Chưa thực hiện"))
    table["Ngày hoàn thành"] = np.where(done, done_at.strftime("%d/%m/%Y"), "")
    doc_no = rng.integers(10, 400, n)
    kind_word = np.where(recurring, "Báo cáo", np.where(table["Sản phẩm"].str.contains("Kế hoạch"),
                                                          "Kế hoạch", "Quyết định"))
    code = np.where(kind_word == "Báo cáo", "BC", np.where(kind_word == "Kế hoạch", "KH", "QĐ"))
    # The plan itself is the product of VII.1: Kế hoạch số 122/KH-SKH ngày 28/01/2023.
    vii1 = (key == "VII.1").to_numpy()
    table.loc[vii1, "Ngày hoàn thành"] = "28/01/2023"
    table["Văn bản kết quả"] = np.where(
        done,
        pd.Series(kind_word).str.cat([f" số {d}/{c}-SKH ngày " for d, c in zip(doc_no, code, strict=True)])
        .str.cat(pd.Series(done_at.strftime("%d/%m/%Y"))).to_numpy(),
        "",
    )
    table.loc[vii1, "Văn bản kết quả"] = "Kế hoạch số 122/KH-SKH ngày 28/01/2023"
    return table


def add_appointment_columns(staff: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The register's optional columns for III.4 / Biểu IV.2 (public employees, appointments),
    drawn from their own stream so the other files keep their draws."""
    ids = staff["Mã cán bộ"].unique()
    n = len(ids)
    public = dict(zip(ids, rng.random(n) < 0.08, strict=True))
    titled = dict(zip(ids, rng.random(n) < 0.75, strict=True))
    appointed = dict(zip(ids, rng.random(n) < 0.15, strict=True))
    standard = dict(zip(ids, rng.random(n) < 0.9, strict=True))
    before = dict(zip(ids, rng.random(n) < 0.8, strict=True))
    out = staff.copy()
    pick = out["Mã cán bộ"].map
    out.insert(len(out.columns) - 1, "Viên chức", np.where(pick(public), "x", ""))
    out.insert(len(out.columns) - 1, "Bồi dưỡng theo chức danh nghề nghiệp",
               np.where(pick(public), _yes(pick(titled).to_numpy(dtype=bool)), ""))
    out.insert(len(out.columns) - 1, "Bổ nhiệm trong năm", _yes(pick(appointed).to_numpy(dtype=bool)))
    out.insert(len(out.columns) - 1, "Đạt tiêu chuẩn trước khi bổ nhiệm",
               np.where(pick(appointed), _yes(pick(standard).to_numpy(dtype=bool)), ""))
    out.insert(len(out.columns) - 1, "Bồi dưỡng trước khi bổ nhiệm",
               np.where(out["Lãnh đạo"] == "x", _yes(pick(before).to_numpy(dtype=bool)), ""))
    return out


def make_manual_figures() -> pd.DataFrame:
    """What an analyst types in for the targets no system exports (plausible, invented)."""
    rows = [
        ("legal_docs_due_process_share", "2023", 2, 2,
         "Sổ theo dõi văn bản QPPL do Sở tham mưu (Thanh tra Sở)"),
        ("one_stop_share", "2023", 51, 51, "Danh mục TTHC tiếp nhận tại Trung tâm PVHCC tỉnh"),
        ("popular_services_integrated_share", "2023-Q3", 11, 20, "Báo cáo quý III của Văn phòng Sở"),
        ("popular_services_integrated_share", "2023", 13, 20, "Báo cáo năm của Văn phòng Sở"),
        ("unified_governance_share", "2023", 44, 48, "Thống kê trên phần mềm QLVB và điều hành"),
        ("electronic_records_share", "2023", 1186, 1250, "Thống kê hồ sơ lưu trữ điện tử"),
    ]
    return pd.DataFrame(rows, columns=["Chỉ tiêu", "Kỳ", "Tử số", "Mẫu số", "Nguồn số liệu"])


def write_plan_sample(out: Path, seed: int) -> list[Path]:
    """Write the optional plan inputs under ``out``; return the files written."""
    out = Path(out)
    rng = _rng(seed)
    written: list[Path] = []
    (out / "documents").mkdir(parents=True, exist_ok=True)
    for year in YEARS:
        path = out / "documents" / f"van-ban-{year}.csv"
        write_csv(make_documents(rng, year), path, "utf-8-sig" if year == 2022 else "utf-8")
        written.append(path)
    # Drawn in this order from ``rng`` (the committed files depend on it).
    workfiles, staff, tasks = make_workfiles(rng), make_staff(rng), make_plan_tasks(rng)
    staff = add_appointment_columns(staff, np.random.Generator(np.random.PCG64([seed, 12])))
    for name, frame in (("workfiles.csv", workfiles), ("staff.csv", staff), ("plan_tasks.csv", tasks),
                        ("manual_figures.csv", make_manual_figures())):
        path = out / name
        write_csv(frame, path, "utf-8")
        written.append(path)
    return written
