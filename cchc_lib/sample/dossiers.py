"""The bundled sample data: a deterministic, realistic data set for the Department of Planning
and Investment of Tuyên Quang, 2022-2023, shaped like the exports of the provincial one-stop
system (see the data contract).

``write_dossier_sample(out, seed)`` writes ``procedures.csv``, ``dossiers/ho-so-YYYY-MM.{csv,xlsx}`` and
``feedback/pakn-YYYY.csv``. The same seed gives byte-identical files: everything is drawn from
one ``numpy.random.Generator(PCG64(seed))`` in a fixed order, and the XLSX files are re-zipped
with fixed timestamps. All names, ID numbers, phones and addresses are fake.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd

import cchc_lib.sample.real as sample_real
from cchc_lib.sample.department import (
    _DEFAULT_FORMAT,
    _LAW,
    CHANNEL_TEXT,
    DEPARTMENTS,
    EXPORT_FORMATS,
    F_DN,
    F_HTX,
    FEEDBACK_HEADERS,
    LEVEL_TEXT,
    PROCEDURE_HEADERS,
    PROCEDURES,
    STATUS_TEXT,
)
from cchc_lib.sample.writing import _fmt_dt, to_export_text, write_csv, write_xlsx
from cchc_lib.workdays import add_working_days, vietnam_holidays

YEARS = (2022, 2023)
DEFAULT_SEED = 2023
TET = {2022: pd.Timestamp("2022-02-01"), 2023: pd.Timestamp("2023-01-22")}

# -- the department --------------------------------------------------------------------------


# fmt: on


# -- export layout ---------------------------------------------------------------------------


# -- fake people -----------------------------------------------------------------------------

_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đỗ", "Bùi", "Đặng", "Ngô", "Hà",
           "Ma", "Nông", "Triệu", "Lý", "Hoàng", "Nguyễn", "Trần", "Lương", "Quan")
_MIDDLE_M = ("Văn", "Đức", "Minh", "Quốc", "Hữu", "Thanh", "Xuân", "Công")
_MIDDLE_F = ("Thị", "Thu", "Thanh", "Ngọc", "Thị Thu", "Minh", "Hồng", "Thị Hồng")
_GIVEN_M = ("Hùng", "Dũng", "Tuấn", "Nam", "Hải", "Long", "Sơn", "Quang", "Thắng", "Cường",
            "Hiếu", "Trung", "Khánh", "Việt", "Bình", "Phong", "Toàn", "Huy")
_GIVEN_F = ("Lan", "Hương", "Hoa", "Mai", "Hằng", "Thủy", "Ngân", "Trang", "Linh", "Yến",
            "Nhung", "Phương", "Huyền", "Thảo", "Oanh", "Hạnh", "Vân", "Dung")
_PLACES = (
    ("phường Phan Thiết", "thành phố Tuyên Quang"), ("phường Minh Xuân", "thành phố Tuyên Quang"),
    ("phường Tân Quang", "thành phố Tuyên Quang"), ("phường Ỷ La", "thành phố Tuyên Quang"),
    ("phường Hưng Thành", "thành phố Tuyên Quang"), ("xã An Tường", "thành phố Tuyên Quang"),
    ("thị trấn Sơn Dương", "huyện Sơn Dương"), ("xã Tân Trào", "huyện Sơn Dương"),
    ("thị trấn Tân Yên", "huyện Hàm Yên"), ("xã Thái Sơn", "huyện Hàm Yên"),
    ("thị trấn Vĩnh Lộc", "huyện Chiêm Hóa"), ("xã Kim Bình", "huyện Chiêm Hóa"),
    ("thị trấn Na Hang", "huyện Na Hang"), ("xã Thượng Lâm", "huyện Lâm Bình"),
    ("thị trấn Yên Sơn", "huyện Yên Sơn"), ("xã Mỹ Bằng", "huyện Yên Sơn"),
)
_STREETS = ("Quang Trung", "Tân Trào", "Chiến Thắng Sông Lô", "Lê Duẩn", "Nguyễn Văn Cừ",
            "Bình Thuận", "17/8", "Trường Chinh", "Phạm Văn Đồng", "Kim Bình")


def _strip_accents(text: str) -> str:
    nfd = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in nfd if not unicodedata.combining(c))


def _people(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Fake applicants: names, 12-digit citizen IDs (Tuyên Quang code 008), phones, e-mails."""
    female = rng.random(n) < 0.45
    fam = np.array(_FAMILY)[rng.integers(0, len(_FAMILY), n)]
    mid = np.where(female, np.array(_MIDDLE_F)[rng.integers(0, len(_MIDDLE_F), n)],
                   np.array(_MIDDLE_M)[rng.integers(0, len(_MIDDLE_M), n)])
    given = np.where(female, np.array(_GIVEN_F)[rng.integers(0, len(_GIVEN_F), n)],
                     np.array(_GIVEN_M)[rng.integers(0, len(_GIVEN_M), n)])
    names = pd.Series(fam).str.cat([pd.Series(mid), pd.Series(given)], sep=" ")
    birth = rng.integers(1960, 2001, n)
    sex_digit = np.where(female, 1, 0)  # century 1900s: 0 male, 1 female
    serial = rng.integers(0, 1_000_000, n)
    ids = pd.Series([f"008{s}{b % 100:02d}{r:06d}" for s, b, r in zip(sex_digit, birth, serial, strict=True)])
    prefixes = np.array(("091", "094", "098", "097", "096", "086", "035", "033", "039", "083", "088"))
    phones = pd.Series(prefixes[rng.integers(0, len(prefixes), n)]).str.cat(
        pd.Series(rng.integers(0, 10_000_000, n)).map("{:07d}".format)
    )
    ascii_given = pd.Series(given).map(_strip_accents).str.lower()
    ascii_fam = pd.Series(fam).map(_strip_accents).str.lower()
    domains = np.array(("gmail.com", "gmail.com", "gmail.com", "yahoo.com", "tuyenquang.gov.vn"))
    mails = (ascii_given + "." + ascii_fam + pd.Series(birth % 100).map("{:02d}".format) + "@"
             + pd.Series(domains[rng.integers(0, len(domains), n)]))
    mails = mails.where(rng.random(n) < 0.6, "")
    place = rng.integers(0, len(_PLACES), n)
    house = rng.integers(1, 300, n)
    street = np.array(_STREETS)[rng.integers(0, len(_STREETS), n)]
    ward = pd.Series([_PLACES[i][0] for i in place])
    district = pd.Series([_PLACES[i][1] for i in place])
    urban = ward.str.startswith(("phường", "thị trấn"))
    hamlet = pd.Series(rng.integers(1, 25, n)).map("Thôn {}".format)
    addr = pd.Series([f"Số {h} đường {s}" for h, s in zip(house, street, strict=True)]).where(urban, hamlet)
    addresses = addr + ", " + ward + ", " + district + ", tỉnh Tuyên Quang"
    return pd.DataFrame({"Chủ hồ sơ": names, "Số CCCD/CMND": ids, "Số điện thoại": phones,
                         "Email": mails, "Địa chỉ": addresses})


# -- catalogue -------------------------------------------------------------------------------


def make_catalogue(rng: np.random.Generator) -> pd.DataFrame:
    """The procedure catalogue for 2022 and 2023 (raw export shape, Vietnamese headers)."""
    n = len(PROCEDURES)
    key = rng.random(n)  # orders procedures for the staged roll-outs below
    pay_key = rng.random(n)
    fields_before = rng.integers(12, 58, n)
    cut = rng.integers(2, 9, n)
    simplified_2022 = rng.random(n) < 0.10
    simplified_2023 = simplified_2022 | (rng.random(n) < 0.25)
    decision_lag = rng.integers(-3, 25, n)  # days between the decision and the effective date
    public_lag = rng.integers(1, 9, n)
    late_public = rng.random(n) < 0.06
    not_electronic_2022 = np.zeros(n, dtype=bool)
    not_electronic_2022[rng.choice(n, 2, replace=False)] = True
    incomplete_2022 = np.zeros(n, dtype=bool)
    incomplete_2022[rng.choice(n, 3, replace=False)] = True
    citizen_key = rng.random(n)
    rows = []
    for year_idx, year in enumerate(YEARS):
        for i, p in enumerate(PROCEDURES):
            level = p.level[year_idx]
            online = level in ("F", "P")
            # Integration with the national portal: ~45% of online services in 2022, ~85% in 2023.
            integrated = online and (key[i] < (0.42 if year == 2022 else 0.86))
            payment = p.fee and online and pay_key[i] < (0.5 if year == 2022 else 0.92)
            before = int(fields_before[i])
            simplified = simplified_2022[i] if year == 2022 else simplified_2023[i]
            after = before - int(cut[i]) if simplified else before
            effective = pd.Timestamp(pd.to_datetime(_LAW[p.law][0], format="%d/%m/%Y"))
            decision = effective - pd.Timedelta(days=int(decision_lag[i]))
            public = decision + pd.Timedelta(days=int(public_lag[i]) + (40 if late_public[i] else 0))
            yes = "Có"
            no = "Không"
            rows.append({
                "Mã TTHC": p.code, "Tên TTHC": p.name, "Lĩnh vực": p.field,
                "Cơ quan thực hiện": "Sở Kế hoạch và Đầu tư",
                "Mức độ DVC": LEVEL_TEXT[level],
                "Đủ điều kiện toàn trình": yes if p.eligible else no,
                "Tích hợp DVCQG": yes if integrated else no,
                "Công khai niêm yết": yes,
                "Công khai điện tử": no if (year == 2022 and not_electronic_2022[i]) else yes,
                "Thanh toán trực tuyến": yes if payment else no,
                "Có phí": yes if p.fee else no,
                "Thời hạn giải quyết (ngày làm việc)": str(p.days),
                "Số trường tờ khai trước": str(before),
                "Số trường tờ khai sau": str(after),
                "Năm": str(year),
                "Ngày hiệu lực văn bản": effective.strftime("%d/%m/%Y"),
                "Ngày quyết định công bố": decision.strftime("%d/%m/%Y"),
                "Ngày công khai": public.strftime("%d/%m/%Y"),
                "Đủ bộ phận tạo thành": no if (year == 2022 and incomplete_2022[i]) else yes,
                "Kết nối dữ liệu dân cư": yes if citizen_key[i] < (0.08 if year == 2022 else 0.35) else no,
            })
    frame = pd.DataFrame(rows)
    frame.insert(0, "STT", [str(i) for i in range(1, len(frame) + 1)])
    return frame[list(PROCEDURE_HEADERS)]


# -- dossiers --------------------------------------------------------------------------------

_MONTHS = pd.period_range("2022-01", "2023-12", freq="M")
# Monthly volume factors: the year-end rush, a slow summer, the Tết dip handled by day below.
_MONTH_FACTOR = np.array([1.05, 0.95, 1.10, 1.0, 1.0, 1.05, 0.9, 0.95, 1.0, 1.05, 1.05, 1.15])


def _office_minutes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Minutes after midnight inside office hours (7:30-11:30, 13:30-17:00)."""
    morning = rng.random(n) < 0.58
    return np.where(morning, rng.integers(450, 690, n), rng.integers(810, 1020, n))


def _busday(days: np.ndarray, offsets: np.ndarray | int, cal: np.busdaycalendar) -> np.ndarray:
    return np.busday_offset(days, offsets, roll="forward", busdaycal=cal)


def make_dossiers(rng: np.random.Generator) -> pd.DataFrame:
    """Every dossier of 2022-2023 in its final state, canonical column names plus helpers."""
    cal = np.busdaycalendar(weekmask="1111100", holidays=vietnam_holidays(range(2022, 2025)))
    days = np.arange(np.datetime64("2022-01-01"), np.datetime64("2024-01-01"))
    working = np.is_busday(days, busdaycal=cal)
    day_ts = pd.DatetimeIndex(days.astype("datetime64[ns]"))
    lam = np.where(working, 20.5, 0.7) * _MONTH_FACTOR[day_ts.month - 1]
    for tet in TET.values():
        offs = (day_ts - tet).days
        lam = np.where((offs >= -12) & (offs < -3) & working, lam * 1.3, lam)  # rush before Tết
        lam = np.where((offs >= -3) & (offs <= 6) & ~working, lam * 0.2, lam)  # the holiday
        lam = np.where((offs > 4) & (offs <= 16) & working, lam * 0.5, lam)  # slow restart
    counts = rng.poisson(lam)
    d_idx = np.repeat(np.arange(len(days)), counts)
    n = len(d_idx)
    day = days[d_idx]
    on_working_day = working[d_idx]
    ts_day = pd.DatetimeIndex(day.astype("datetime64[ns]"))
    year_idx = (ts_day.year - 2022).to_numpy()
    month_idx = (year_idx * 12 + ts_day.month.to_numpy() - 1)
    t = d_idx / len(days)  # 0 .. 1 over the two years

    # Procedure: by volume weight; weekend submissions are online, so only online services.
    weights = np.array([p.weight for p in PROCEDURES], dtype=float)
    levels = np.array([[p.level[0] for p in PROCEDURES], [p.level[1] for p in PROCEDURES]])
    capable = np.isin(levels, ("F", "P"))  # [year, proc]
    proc = rng.choice(len(PROCEDURES), size=n, p=weights / weights.sum())
    for y in (0, 1):
        w = np.where(capable[y], weights, 0.0)
        redo = ~on_working_day & (year_idx == y)
        proc[redo] = rng.choice(len(PROCEDURES), size=int(redo.sum()), p=w / w.sum())
    proc_capable = capable[year_idx, proc]
    capable_share = np.array([(weights * capable[y]).sum() / weights.sum() for y in (0, 1)])

    # Channel: the online share climbs from ~40% to ~75% over the two years.
    month_noise = rng.normal(0, 0.025, len(_MONTHS))
    p_online = np.clip(0.38 + 0.38 * t + month_noise[month_idx], 0.2, 0.95)
    p_online_capable = np.clip(p_online / capable_share[year_idx], 0, 0.98)
    online = proc_capable & ((rng.random(n) < p_online_capable) | ~on_working_day)
    postal = ~online & (rng.random(n) < 0.06)
    channel = np.where(online, "online", np.where(postal, "postal", "in_person"))

    # Receipt time: office hours; online submissions also in the evening and at weekends.
    minute = _office_minutes(rng, n)
    evening = online & (rng.random(n) < 0.18)
    minute = np.where(evening, rng.integers(1025, 1380, n), minute)
    minute = np.where(~on_working_day, rng.integers(420, 1380, n), minute)
    received = day.astype("datetime64[ns]") + (minute.astype("int64") * 60_000_000_000).astype(
        "timedelta64[ns]")

    stat_days = np.array([p.days for p in PROCEDURES])[proc]
    due_day = _busday(day, stat_days, cal)
    due_style = rng.choice(3, size=n, p=[0.62, 0.28, 0.10])  # 17:00, receipt time, date only
    due_minute = np.where(due_style == 0, 1020, np.where(due_style == 1, minute, 1439))
    due_at = due_day.astype("datetime64[ns]") + (due_minute.astype("int64") * 60_000_000_000).astype(
        "timedelta64[ns]")
    # A date-only due is the end of its day; +59.999999 s so that it reads 23:59:59.999999.
    due_at = np.where(due_style == 2, due_at + np.timedelta64(59_999_999, "us"), due_at)

    # Outcome: early / on the day / late, by month and department, so that the 80% early and
    # 100% on-time targets are met in some months and missed in others.
    dept_idx = np.array([DEPARTMENTS.index(p.department) for p in PROCEDURES])[proc]
    early_month = rng.uniform(0.70, 0.88, len(_MONTHS))
    dept_shift = np.array([0.02, -0.04, -0.06, -0.02, -0.08])
    late_month = np.where(rng.random(len(_MONTHS)) < 0.3, 0.0, rng.uniform(0.008, 0.05, len(_MONTHS)))
    u = rng.random(n)
    p_late = late_month[month_idx]
    p_early = np.clip(early_month[month_idx] + dept_shift[dept_idx], 0.4, 0.97)
    outcome = np.where(u < p_late, 2, np.where(u < p_late + p_early * (1 - p_late), 0, 1))

    start = _busday(day, 0, cal)  # the first working day of handling
    k = np.floor(stat_days * rng.beta(1.3, 2.2, n)).astype(int)
    k = np.minimum(k, stat_days - 1)
    # Never complete before receipt: a same-day completion needs the dossier in by mid-afternoon.
    same_day_ok = (start == day) & (minute < 900)
    k = np.where((k == 0) & ~same_day_ok, 1, k)
    late_by = rng.choice([1, 2, 3, 4, 6], size=n, p=[0.5, 0.25, 0.12, 0.08, 0.05])
    c_day = np.where(outcome == 0, _busday(start, k, cal),
                     np.where(outcome == 1, due_day, _busday(due_day, late_by, cal)))
    # Months in which nothing completes late, so the 100% on-time target is met now and then.
    c_month = np.clip(c_day.astype("datetime64[M]").astype(int) - (2022 - 1970) * 12, 0, len(_MONTHS) - 1)
    clean = rng.random(len(_MONTHS)) < 0.35
    to_onday = (outcome == 2) & clean[c_month]
    outcome = np.where(to_onday, 1, outcome)
    c_day = np.where(to_onday, due_day, c_day)
    c_minute = _office_minutes(rng, n)
    same = c_day == day
    c_minute = np.where(same, np.minimum(minute + rng.integers(20, 120, n), 1050), c_minute)
    # On the due day, before the due time.
    ontime_cap = np.where(due_style == 0, 1019, np.where(due_style == 1, minute - 1, 1100))
    c_minute = np.where((outcome == 1) & (c_minute > ontime_cap),
                        np.maximum(420, ontime_cap - rng.integers(5, 60, n)), c_minute)
    completed = c_day.astype("datetime64[ns]") + (c_minute.astype("int64") * 60_000_000_000).astype(
        "timedelta64[ns]")
    completed = np.maximum(completed, received + np.timedelta64(10, "m"))

    # Final status.
    v = rng.random(n)
    status = np.where(v < 0.014, "refused", np.where(v < 0.024, "withdrawn", "returned"))
    collected_late = rng.random(n) < 0.08  # results never collected stay "Đã có kết quả"
    status = np.where((status == "returned") & collected_late, "resolved", status)
    ret_delay = np.where(online, rng.integers(1, 60, n), rng.integers(10, 60 * 50, n))
    returned = completed + (ret_delay.astype("int64") * 60_000_000_000).astype("timedelta64[ns]")
    returned = np.where(status == "returned", returned, np.datetime64("NaT", "ns"))
    # A handful of dossiers stuck at year end: still open at the last export, some overdue.
    stuck = np.zeros(n, dtype=bool)
    late_2023 = np.flatnonzero((month_idx >= 21) & (status == "returned"))
    stuck[rng.choice(late_2023, 9, replace=False)] = True
    completed = np.where(stuck, np.datetime64("NaT", "ns"), completed)
    returned = np.where(stuck, np.datetime64("NaT", "ns"), returned)
    status = np.where(stuck, "processing", status)
    done = ~np.isnat(completed)
    late = done & (completed > due_at)

    apology_month = np.where(rng.random(len(_MONTHS)) < 0.4, 1.0, rng.uniform(0.6, 0.95, len(_MONTHS)))
    apology = late & (rng.random(n) < apology_month[month_idx])

    # Ratings: many unrated; 88-97% positive depending on the month.
    rated = done & np.isin(status, ("returned", "resolved")) & (rng.random(n) < 0.30 + 0.25 * t)
    pos_month = rng.uniform(0.88, 0.975, len(_MONTHS))
    positive = rng.random(n) < pos_month[month_idx]
    very = rng.random(n) < 0.55
    rating = np.where(~rated, "", np.where(~positive, "unsatisfied",
                                           np.where(very, "very_satisfied", "satisfied")))
    rate_delay = rng.integers(5, 60 * 24 * 4, n)
    rated_at = completed + (rate_delay.astype("int64") * 60_000_000_000).astype("timedelta64[ns]")
    rated_at = np.where(rated & (rng.random(n) < 0.75), rated_at, np.datetime64("NaT", "ns"))

    # Counter waits: in person only, skewed, some department-months over 25 minutes on average.
    crowded = rng.random((len(_MONTHS), len(DEPARTMENTS))) < 0.10
    mult = np.where(crowded, rng.uniform(1.7, 2.2, crowded.shape), 1.0)[month_idx, dept_idx]
    wait = np.round(rng.lognormal(np.log(13.0), 0.55, n) * mult)
    has_wait = (channel == "in_person") & (rng.random(n) < 0.96)
    wait = np.where(has_wait, wait, np.nan)

    # Fees, payment, digitisation, electronic results, sync and the national-index extras.
    cat_fee = np.array([p.fee for p in PROCEDURES])[proc]
    registration = np.isin(np.array([p.field for p in PROCEDURES])[proc], (F_DN, F_HTX))
    fee = cat_fee & ~(online & registration & (rng.random(n) < 0.7))  # online fee exemptions
    paid_online = fee & (rng.random(n) < np.where(online, 0.10 + 0.45 * t, 0.02 + 0.08 * t))
    digitized = rng.random(n) < 0.35 + 0.55 * t
    electronic = done & (rng.random(n) < 0.30 + 0.55 * t)
    synced = rng.random(n) < 0.55 + 0.42 * t
    reused = digitized & (rng.random(n) < 0.05 + 0.30 * t)
    citizen = online & (rng.random(n) < 0.60 * t)
    storage = online & (rng.random(n) < 0.02 + 0.15 * t)
    pending_u = rng.random(n)  # which pending dossiers wait for supplements
    people = _people(rng, n)

    frame = pd.DataFrame({
        "received_at": received, "due_at": due_at, "due_date_only": due_style == 2,
        "completed_at": completed, "returned_at": returned, "proc": proc,
        "channel": channel, "status": status, "fee_required": fee, "paid_online": paid_online,
        "digitized": digitized, "electronic_result": electronic, "synced_national": synced,
        "apology_issued": apology, "rating": rating, "rated_at": rated_at, "wait_minutes": wait,
        "reused_digitized_data": reused, "citizen_data_connected": citizen,
        "from_national_storage": storage, "year_idx": year_idx, "pending_u": pending_u,
    })
    frame = pd.concat([frame, people], axis=1)
    frame = frame.sort_values(["received_at", "proc"], kind="stable").reset_index(drop=True)
    stamp = frame["received_at"].dt.strftime("%y%m%d")
    seq = frame.groupby(stamp, sort=False).cumcount() + 1
    frame.insert(0, "dossier_id", "000.00.16.H60-" + stamp + "-" + seq.map("{:04d}".format))
    return frame


def export_state(dossiers: pd.DataFrame, month: pd.Period) -> pd.DataFrame:
    """The rows of one monthly export: received in the month or open at its start, in their
    state at the export instant (the first instant of the next month)."""
    start = month.start_time
    end = (month + 1).start_time
    rec = dossiers["received_at"]
    done = dossiers["completed_at"]
    keep = ((rec >= start) & (rec < end)) | ((rec < start) & (done.isna() | (done >= start)))
    frame = dossiers.loc[keep].copy()
    open_now = frame["completed_at"].isna() | (frame["completed_at"] >= end)
    fresh = (end - frame["received_at"]) < pd.Timedelta(days=1)
    # Open dossiers: most in processing; some wait for the citizen (documents, or the fee when
    # there is one) or are suspended: the clock-stopped statuses of conventions.md §2.
    u = frame["pending_u"].to_numpy()
    waiting = np.where((u >= 0.08) & frame["fee_required"].to_numpy(dtype=bool), "awaiting_payment",
                       "awaiting_supplement")
    pending_status = np.where(fresh, "received", np.where(u < 0.12, waiting,
                                                          np.where(u < 0.135, "suspended", "processing")))
    frame["status"] = frame["status"].where(~open_now, pending_status)
    not_returned = frame["returned_at"].isna() | (frame["returned_at"] >= end)
    frame["status"] = frame["status"].where(~(~open_now & not_returned & (frame["status"] == "returned")),
                                            "resolved")
    # A rating shows once given: at its date, or (no date recorded) two days after the result.
    unrated_yet = open_now | (frame["rated_at"] >= end) | (
        frame["rated_at"].isna() & (frame["completed_at"] + pd.Timedelta(days=2) >= end))
    frame["rating"] = frame["rating"].where(~unrated_yet, "")
    for col in ("completed_at", "returned_at", "rated_at"):
        frame[col] = frame[col].where(~open_now)
    frame["returned_at"] = frame["returned_at"].where(frame["returned_at"] < end)
    frame["rated_at"] = frame["rated_at"].where(frame["rated_at"] < end)
    for col in ("apology_issued", "electronic_result"):
        frame[col] = frame[col] & ~open_now
    return frame.reset_index(drop=True)


# -- the planted bad rows --------------------------------------------------------------------

# (month, rule); each hits one reject rule of the data contract.
BAD_ROWS: tuple[tuple[str, str], ...] = (
    ("2022-02", "empty_id"), ("2022-04", "bad_received"), ("2022-05", "due_before"),
    ("2022-07", "channel_fax"), ("2022-08", "done_before"), ("2022-10", "unknown_status"),
    ("2022-11", "negative_wait"), ("2023-01", "bad_yes_no"), ("2023-02", "empty_id"),
    ("2023-03", "bad_received"), ("2023-04", "negative_wait"), ("2023-06", "bad_due"),
    ("2023-07", "done_before"), ("2023-08", "channel_fax"), ("2023-11", "unknown_status"),
    ("2023-12", "bad_yes_no"),
)


def _plant_bad_rows(rng: np.random.Generator, text: pd.DataFrame, frame: pd.DataFrame,
                    month: pd.Period, rules: list[str], single: set[str]) -> None:
    """Corrupt rows of dossiers that appear in this export only (so nothing else supersedes
    them and each bad row is exactly one reject)."""
    in_month = (frame["received_at"].dt.to_period("M") == month) & frame["dossier_id"].isin(single)
    for rule in rules:
        cand = np.flatnonzero(in_month.to_numpy() & (frame["channel"] == "in_person").to_numpy()
                              & frame["wait_minutes"].notna().to_numpy()
                              & frame["completed_at"].notna().to_numpy())
        i = int(cand[rng.integers(0, len(cand))])
        in_month.iloc[i] = False
        rec = frame["received_at"].iloc[i]
        if rule == "empty_id":
            text.iloc[i, text.columns.get_loc("Mã hồ sơ")] = ""
        elif rule == "bad_received":
            text.iloc[i, text.columns.get_loc("Ngày tiếp nhận")] = f"31/02/{rec.year} 08:15"
        elif rule == "bad_due":
            text.iloc[i, text.columns.get_loc("Ngày hẹn trả")] = "chưa xác định"
        elif rule == "due_before":
            text.iloc[i, text.columns.get_loc("Ngày hẹn trả")] = (rec - pd.Timedelta(days=3)).strftime(
                "%d/%m/%Y 17:00")
        elif rule == "done_before":
            text.iloc[i, text.columns.get_loc("Ngày có kết quả")] = (rec - pd.Timedelta(days=2)).strftime(
                "%d/%m/%Y 10:30")
        elif rule == "channel_fax":
            text.iloc[i, text.columns.get_loc("Kênh nộp")] = "Fax"
        elif rule == "unknown_status":
            text.iloc[i, text.columns.get_loc("Trạng thái")] = "Đang chờ ký"
        elif rule == "negative_wait":
            text.iloc[i, text.columns.get_loc("Thời gian chờ (phút)")] = "-7"
        elif rule == "bad_yes_no":
            text.iloc[i, text.columns.get_loc("Số hóa hồ sơ")] = "có lẽ"


# -- feedback (PAKN) -------------------------------------------------------------------------


def make_feedback(rng: np.random.Generator, dossiers: pd.DataFrame, year: int) -> pd.DataFrame:
    """Citizen feedback and petitions of one year, mostly handled within 10 working days."""
    cal = np.busdaycalendar(weekmask="1111100", holidays=vietnam_holidays(range(2022, 2025)))
    n = int(rng.integers(30, 46))
    days = np.arange(np.datetime64(f"{year}-01-01"), np.datetime64(f"{year + 1}-01-01"))
    days = days[np.is_busday(days, busdaycal=cal)]
    day = np.sort(rng.choice(days, n, replace=False))
    minute = _office_minutes(rng, n)
    received = pd.Series(day.astype("datetime64[ns]")) + pd.to_timedelta(minute, unit="min")
    due = add_working_days(received.dt.normalize(), 10)
    date_only = rng.random(n) < 0.5
    due = due.where(date_only, due + pd.Timedelta(hours=17))
    delay = rng.integers(1, 10, n)
    late = rng.random(n) < 0.08
    handled_day = _busday(day, np.where(late, 10 + rng.integers(1, 4, n), delay), cal)
    handled = pd.Series(handled_day.astype("datetime64[ns]")) + pd.to_timedelta(_office_minutes(rng, n),
                                                                                    unit="min")
    open_end = handled >= pd.Timestamp(f"{year + 1}-01-01")
    handled = handled.where(~open_end)
    subject = np.where(rng.random(n) < 0.7, "TTHC", "Cán bộ")
    r = rng.random(n)
    rating = np.where(r < 0.68, "Hài lòng", np.where(r < 0.78, "Không hài lòng", ""))
    rating = np.where(open_end, "", rating)
    year_ids = dossiers.loc[dossiers["received_at"].dt.year == year, ["dossier_id", "received_at"]]
    link = (subject == "TTHC") & (rng.random(n) < 0.6)
    pick = rng.integers(0, len(year_ids), n)
    # A petition concerns a dossier received before it.
    linked = year_ids.iloc[pick]
    ok = link & (linked["received_at"].to_numpy() < received.to_numpy())
    people = _people(rng, n)
    return pd.DataFrame({
        "STT": [str(i) for i in range(1, n + 1)],
        "Mã PAKN": [f"PAKN-{year}-{i:03d}" for i in range(1, n + 1)],
        "Ngày tiếp nhận": _fmt_dt(received),
        "Hạn xử lý": _fmt_dt(due, pd.Series(date_only)),
        "Ngày xử lý xong": _fmt_dt(handled),
        "Đối tượng": subject,
        "Đánh giá": rating,
        "Mã hồ sơ": np.where(ok, linked["dossier_id"].to_numpy(dtype=object), ""),
        "Người gửi": people["Chủ hồ sơ"],
        "Số điện thoại": people["Số điện thoại"],
    })[list(FEEDBACK_HEADERS)]


# -- entry point -----------------------------------------------------------------------------


def export_format(month: pd.Period) -> dict:
    return {**_DEFAULT_FORMAT, **EXPORT_FORMATS.get(str(month), {})}


def _nfd_rows(rng: np.random.Generator, text: pd.DataFrame, share: float) -> None:
    """Decompose the Unicode of a share of rows (and the header), as some tools export it."""
    rows = rng.random(len(text)) < share
    for col in ("Tên TTHC", "Lĩnh vực", "Phòng xử lý", "Kênh nộp", "Trạng thái", "Đánh giá", "Chủ hồ sơ"):
        text.loc[rows, col] = text.loc[rows, col].map(lambda s: unicodedata.normalize("NFD", s))
    text.columns = [unicodedata.normalize("NFD", c) for c in text.columns]


def write_dossier_sample(out: Path, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write the catalogue, the monthly dossier exports and the feedback under ``out`` (data/raw
    layout); return the files written."""
    out = Path(out)
    rng = np.random.Generator(np.random.PCG64(seed))
    catalogue = make_catalogue(rng)
    dossiers = make_dossiers(rng)
    written: list[Path] = []
    (out / "dossiers").mkdir(parents=True, exist_ok=True)
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    path = out / "procedures.csv"
    write_csv(catalogue, path, "utf-8")
    written.append(path)

    exports = {month: export_state(dossiers, month) for month in _MONTHS}
    appearances = pd.concat([e["dossier_id"] for e in exports.values()]).value_counts()
    single = set(appearances.index[appearances == 1])
    # Registrations never received, in the export of their submission month (own random stream).
    regs = sample_real.registrations(dossiers, _MONTHS, seed)
    for month, frame in exports.items():
        fmt = export_format(month)
        text = to_export_text(frame, fmt)
        rules = [rule for m, rule in BAD_ROWS if m == str(month)]
        _plant_bad_rows(rng, text, frame, month, rules, single)
        if fmt["nfd"]:
            _nfd_rows(rng, text, fmt["nfd"])
        # Appended after the random draws above, so that those stay what they were.
        new = regs[regs["month"] == month].reset_index(drop=True)
        new_text = to_export_text(new, fmt)
        if fmt["nfd"]:
            new_text.columns = text.columns
        new_text["STT"] = [str(len(text) + i + 1) for i in range(len(new_text))]
        frame = pd.concat([frame, new], ignore_index=True)
        text = pd.concat([text, new_text], ignore_index=True)
        stem = f"ho-so-{month.year}-{month.month:02d}"
        if fmt["kind"] == "html":
            path = out / "dossiers" / f"{stem}.xls"
            real = sample_real.to_real_text(text, frame, STATUS_TEXT, CHANNEL_TEXT)
            sample_real.write_html_xls(real, path, month)
        elif fmt["kind"] == "xlsx":
            path = out / "dossiers" / f"{stem}.xlsx"
            write_xlsx(text, frame, path, month)
        else:
            path = out / "dossiers" / f"{stem}.csv"
            write_csv(text, path, fmt["encoding"])
        written.append(path)

    for year in YEARS:
        path = out / "feedback" / f"pakn-{year}.csv"
        write_csv(make_feedback(rng, dossiers, year), path, "utf-8")
        written.append(path)
    return written
