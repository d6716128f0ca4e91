"""The unattended monthly job: ingest, render the month (and quarter / year when it closes
one), update the index, and optionally e-mail the reports to the configured recipients.

Safe under cron: one run at a time (a lock file), nothing e-mailed twice to the same person
(a sent log), a distinct :class:`Outcome` for each way a run ends (``cchc monthly`` turns it into
the documented exit code, see :mod:`cchc_lib.cli`), a log file next to the reports. What cron
mails to the operator (one line per step) goes to ``MonthlyOptions.say``.
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from cchc_lib.config import ConfigError, Settings
from cchc_lib.guards import OutputError, check_writable_dir, no_data_message, period_has_data
from cchc_lib.ingest.run import IngestError, run_ingest
from cchc_lib.locks import LockBusy, monthly_lock
from cchc_lib.periods import Period
from cchc_lib.plan import check_target_names
from cchc_lib.publish.batch import render_batch
from cchc_lib.publish.mail import MailError, build_message, deliver, load_summaries, report_period
from cchc_lib.publish.runner import ReportResult
from cchc_lib.publish.site import write_index
from cchc_lib.targets import TargetsError

log = logging.getLogger("cchc.monthly")



class Outcome(enum.Enum):
    """How a monthly run ended."""

    DONE = "done"  # including "nothing new to send"
    INGEST_FAILED = "ingest"  # previous processed data left as it was
    USAGE = "usage"  # bad month, no SMTP host, no recipients
    RENDER_FAILED = "render"  # a report failed, or the month has no data at all: nothing sent
    MAIL_FAILED = "mail"  # server down, refused, recipient rejected, too large: nothing marked sent
    LOCKED = "locked"  # another run holds the lock
    OUTPUT_FAILED = "output"  # an output folder or file cannot be written

LOCK_NAME = ".cchc-monthly.lock"
SENT_LOG_NAME = "sent-log.jsonl"
LOG_NAME = "cchc-monthly.log"


# -- periods -----------------------------------------------------------------------------------


def last_complete_month(today: date) -> Period:
    """The month before ``today``'s month: on 1 April 2023 that is 2023-03."""
    return Period("month", today.year, today.month).previous()


def periods_for_month(month: Period) -> list[Period]:
    """The month, its quarter when the month closes one, and the year in December."""
    if month.kind != "month":
        raise ValueError(f"Cần một tháng (2023-03), không phải {month.code}.")
    periods = [month]
    if month.number % 3 == 0:
        periods.append(Period("quarter", month.year, month.number // 3))
    if month.number == 12:
        periods.append(Period("year", month.year))
    return periods


# -- the sent log ------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_sent_log(path: Path) -> list[dict[str, Any]]:
    """Entries of the JSON-lines sent log; a torn last line (a run killed mid-write) is skipped."""
    if not path.is_file():
        return []
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            log.warning("Bỏ qua dòng %d hỏng trong %s", number, path.name)
    return entries


def already_sent(entries: Sequence[dict[str, Any]]) -> set[tuple[str, str]]:
    """(report, recipient) pairs already mailed. Keyed by the report's name, not its bytes:
    a re-render changes the generation date inside the file but it is still the same report."""
    return {
        (str(e.get("report")), str(r).lower())
        for e in entries
        for r in e.get("recipients", [])
        if e.get("report")
    }


def append_sent_log(path: Path, entries: Sequence[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        for entry in entries:
            fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


# -- steps (module-level so tests can swap them) -----------------------------------------------


def ingest(raw: Path, processed: Path) -> Any:
    return run_ingest(raw, processed)


def render(periods: list[Period], processed: Path, out: Path, conventions: Any = None) -> list[ReportResult]:
    return render_batch(periods, processed, out, jobs=2, conventions=conventions)


def update_index(out: Path, year: int, processed: Path | None, results: Sequence[ReportResult],
                 conventions: Any = None) -> Path:
    """Rewrite ``<out>/index.html``: this run's results plus every report already on disk, of
    every year (``write_index`` finds them), so the index never loses an earlier report."""
    return write_index(list(results or []), out, year, processed, conventions=conventions)


def interpret_results(results: Sequence[ReportResult]) -> tuple[list[Path], list[str]]:
    """The renderer's results as (HTML paths of the reports made, error messages)."""
    paths = [r.html for r in results if r.ok and r.html is not None]
    errors = [r.error or f"{r.period}: không tạo được báo cáo" for r in results
              if not (r.ok and r.html is not None)]
    return paths, errors


# -- the job -----------------------------------------------------------------------------------


def _quiet(message: str, error: bool = False) -> None:
    """The default ``say``: nothing on a terminal (the log file has every step)."""


@dataclass
class MonthlyOptions:
    raw: Path
    processed: Path
    out: Path
    month: Period | None = None
    send: bool = False
    force: bool = False
    wait: bool = False
    conventions: Any = None  # conventions.Conventions of the run; None: the packaged defaults
    say: Callable[..., None] = _quiet  # say(message, error=False): one line per step, for cron


@dataclass
class MonthlyResult:
    outcome: Outcome
    month: Period | None = None
    reports: list[Path] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""


@contextmanager
def _log_to_file(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"))
    root = logging.getLogger("cchc")
    old_level = root.level
    root.addHandler(handler)
    if root.getEffectiveLevel() > logging.INFO:
        root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()




def run_monthly(options: MonthlyOptions, settings: Settings, today: date | None = None) -> MonthlyResult:
    out = Path(options.out)
    try:
        # Before the lock and the log, which live there: one line and exit 6, not a traceback.
        check_writable_dir(out)
        out.mkdir(parents=True, exist_ok=True)
        (out / LOG_NAME).open("a", encoding="utf-8").close()
    except OSError as exc:
        message = str(exc) if isinstance(exc, OutputError) else str(OutputError(out / LOG_NAME, exc))
        options.say(message, error=True)
        return MonthlyResult(Outcome.OUTPUT_FAILED, options.month, message=message)
    with _log_to_file(out / LOG_NAME):
        try:
            with monthly_lock(out / LOCK_NAME, wait=options.wait):
                result = _run_locked(options, settings, today or date.today())
        except LockBusy:
            message = (
                f"Một lượt chạy hằng tháng khác đang chạy (khóa {out / LOCK_NAME}). "
                "Lượt này dừng lại; dùng --wait để chờ."
            )
            log.warning(message)
            result = MonthlyResult(Outcome.LOCKED, options.month, message=message)
        log.info("Kết thúc: %s", result.outcome.value)
    if result.message:
        options.say(result.message, error=result.outcome is not Outcome.DONE)
    return result


def _run_locked(options: MonthlyOptions, settings: Settings, today: date) -> MonthlyResult:
    month = options.month or last_complete_month(today)
    try:
        periods = periods_for_month(month)
    except ValueError as exc:
        return MonthlyResult(Outcome.USAGE, month, message=str(exc))
    log.info("Bắt đầu lượt hằng tháng cho %s (gửi thư: %s)", month.code, "có" if options.send else "không")
    for warning in settings.warnings:
        log.warning(warning)
    try:
        check_target_names(month.year)  # a broken targets file: said before an hour of work
    except TargetsError as exc:
        return MonthlyResult(Outcome.USAGE, month, message=f"Lỗi: {exc}")
    if options.send:
        # Check the mail settings before an hour of work, not after.
        try:
            settings.require_sender()
        except ConfigError as exc:
            return MonthlyResult(Outcome.USAGE, month, message=str(exc))
        if not settings.to:
            return MonthlyResult(
                Outcome.USAGE,
                month,
                message=(
                    "Chưa cấu hình người nhận: thêm [recipients] to = [...] vào cchc.toml "
                    "hoặc đặt CCHC_MAIL_TO."
                ),
            )

    # 1. ingest
    try:
        ingest(options.raw, options.processed)
    except Exception as exc:  # noqa: BLE001 - IngestError or a crash: both are "ingest failed" to cron
        if isinstance(exc, IngestError):
            log.error("Nhập dữ liệu thất bại: %s", exc)
        else:
            log.exception("Nhập dữ liệu thất bại")
        return MonthlyResult(Outcome.INGEST_FAILED, month, message=f"Lỗi nhập dữ liệu: {exc}")
    log.info("Đã nhập dữ liệu từ %s", options.raw)
    options.say(f"Đã nhập dữ liệu từ {options.raw} vào {options.processed}.")
    if not period_has_data(options.processed, month):
        # The month's exports are not in data/raw yet: an empty report is not sent to anyone.
        log.error(no_data_message(month))
        return MonthlyResult(Outcome.RENDER_FAILED, month, message=no_data_message(month))

    # 2. render and index
    results: list[ReportResult] = []
    # Conventions only when chosen (steps swapped in by tests take the plain arguments).
    extra = {"conventions": options.conventions} if options.conventions is not None else {}
    try:
        results = render(periods, options.processed, options.out, **extra)
        paths, errors = interpret_results(results)
    except Exception as exc:  # noqa: BLE001 - any renderer crash is a render failure for cron
        log.exception("Lập báo cáo thất bại")
        paths, errors = [], [str(exc)]
    try:
        update_index(options.out, month.year, options.processed, results, **extra)
    except Exception as exc:  # noqa: BLE001
        log.exception("Không cập nhật được trang mục lục")
        errors.append(f"mục lục: {exc}")
    for path in paths:
        log.info("Báo cáo: %s", path)
    if errors:
        for error in errors:
            log.error("Lỗi lập báo cáo: %s", error)
        return MonthlyResult(
            Outcome.RENDER_FAILED,
            month,
            paths,
            message="Lập báo cáo thất bại, không gửi thư:\n" + "\n".join(f"  - {e}" for e in errors),
        )
    labels = ", ".join(p.label_vi for p in periods)
    options.say(f"Đã lập {len(paths)} báo cáo ({labels}) trong {options.out}.")
    if not options.send:
        return MonthlyResult(Outcome.DONE, month, paths)

    # 3. mail what has not gone to these people yet
    return _send_new(options, settings, month, periods, paths)


def _safe_period(path: Path, finder: Any) -> Period | None:
    try:
        return finder(path)
    except ValueError:  # PeriodError: a name without a period still gets mailed
        return None


def _report_key(path: Path, out: Path) -> str:
    try:
        return Path(path).resolve().relative_to(Path(out).resolve()).as_posix()
    except ValueError:
        return Path(path).name


def _send_new(
    options: MonthlyOptions, settings: Settings, month: Period, periods: list[Period], paths: list[Path]
) -> MonthlyResult:
    sent_log = Path(options.out) / SENT_LOG_NAME
    done = set() if options.force else already_sent(read_sent_log(sent_log))
    keys = {path: _report_key(path, options.out) for path in paths}
    # Group recipients by the reports still due to them, so each person gets one message.
    groups: dict[tuple[Path, ...], list[tuple[str, str]]] = {}
    for role, addresses in (("to", settings.to), ("cc", settings.cc)):
        for address in addresses:
            due = tuple(p for p in paths if (keys[p], address.lower()) not in done)
            if due:
                groups.setdefault(due, []).append((role, address))
    if not groups:
        message = f"Các báo cáo {month.code} đã được gửi cho tất cả người nhận trước đây; không gửi lại."
        log.info(message)
        return MonthlyResult(Outcome.DONE, month, paths, message=message)

    summaries = (load_summaries(periods, options.processed, options.conventions)
                 if options.conventions is not None else load_summaries(periods, options.processed))
    by_period = {s.period: s for s in summaries}
    sent: list[dict[str, Any]] = []
    for due, people in groups.items():
        to = [a for role, a in people if role == "to"]
        cc = [a for role, a in people if role == "cc"]
        if not to:  # a message needs a To: the cc-only group is addressed directly
            to, cc = cc, []
        due_periods = {_safe_period(p, report_period) for p in due}
        group_summaries = [by_period[p] for p in periods if p in due_periods and p in by_period]
        try:
            msg = build_message(
                list(due),
                group_summaries or summaries,
                to=to,
                cc=cc,
                mail_from=settings.mail_from,
                max_bytes=settings.max_message_bytes,
            )
            deliver(msg, settings)
        except MailError as exc:
            log.error("Gửi thư thất bại (%s): %s", exc.kind, exc)
            return MonthlyResult(
                Outcome.MAIL_FAILED,
                month,
                paths,
                sent,
                message=(
                    f"Gửi thư thất bại: {exc}\n"
                    f"Các báo cáo vẫn nằm trong {options.out}; chưa ghi nhận đã gửi."
                ),
            )
        now = datetime.now().astimezone().isoformat(timespec="seconds")
        entries = [
            {
                "report": keys[path],
                "sha256": sha256_file(path),
                "recipients": [a for _, a in people],
                "sent_at": now,
                "message_id": str(msg["Message-ID"]),
                "forced": options.force,
            }
            for path in due
        ]
        append_sent_log(sent_log, entries)
        sent.extend(entries)
        log.info("Đã gửi %d báo cáo tới %d người nhận (%s)", len(due), len(people), msg["Message-ID"])
    message = f"Đã gửi {len({e['report'] for e in sent})} báo cáo qua thư điện tử."
    return MonthlyResult(Outcome.DONE, month, paths, sent, message=message)
