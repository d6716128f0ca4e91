"""The unattended monthly job: ingest, render the month (and quarter / year when it closes
one), update the index, and optionally e-mail the reports to the configured recipients.

Safe under cron: one run at a time (a lock file), nothing e-mailed twice to the same person
(a sent log), distinct exit codes, a log file next to the reports. The exit codes:

====  ========================================================
0     done (including "nothing new to send")
1     ingest failed (previous processed data left as it was)
2     usage or configuration error (bad month, no SMTP host, no recipients)
3     a report failed to render, or the month has no data at all (nothing is sent)
4     mail failed (server down, refused, recipient rejected, too large); nothing marked sent
5     another run holds the lock
6     an output folder or file cannot be written (permissions, a file in the way, disk full)
====  ========================================================
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from cchc_lib.config import ConfigError, Settings
from cchc_lib.periods import Period

log = logging.getLogger("cchc.monthly")

EXIT_OK = 0
EXIT_INGEST = 1
EXIT_USAGE = 2
EXIT_RENDER = 3
EXIT_MAIL = 4
EXIT_LOCKED = 5
EXIT_OUTPUT = 6

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


# -- the lock ----------------------------------------------------------------------------------


class LockBusy(RuntimeError):
    """Another monthly run holds the lock."""


def _try_lock(handle: IO[str], wait: bool) -> None:
    try:
        import fcntl
    except ImportError:  # Windows: msvcrt locks a byte range instead of the whole file
        import msvcrt

        while True:
            try:
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
                return
            except OSError:
                if not wait:
                    raise LockBusy from None
                time.sleep(1)
    flags = fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB)
    try:
        fcntl.flock(handle.fileno(), flags)
    except BlockingIOError:
        raise LockBusy from None


def _unlock(handle: IO[str]) -> None:
    try:
        import fcntl
    except ImportError:
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        return
    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextmanager
def monthly_lock(path: Path, wait: bool = False) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (flock; released by the OS if the process dies, so a
    crashed run never leaves a stale lock). Raises LockBusy when taken and ``wait`` is false."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # The file is kept (never deleted): deleting a lock file races with a run opening it.
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - closed in finally
    try:
        _try_lock(handle, wait)
        try:
            if os.name == "posix":
                handle.seek(0)
                handle.truncate()
                handle.write(f"{os.getpid()}\n")
                handle.flush()
            yield
        finally:
            _unlock(handle)
    finally:
        handle.close()


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
    from cchc_lib.ingest import run_ingest

    return run_ingest(raw, processed)


def render(periods: list[Period], processed: Path, out: Path, conventions: Any = None) -> Any:
    from cchc_lib.reports import render_batch

    return render_batch(periods, processed, out, jobs=2, progress=False, conventions=conventions)


def update_index(out: Path, year: int, processed: Path, results: Any, conventions: Any = None) -> Any:
    """Rewrite ``<out>/index.html``: this run's results plus every report already on disk, of
    every year (``write_index`` finds them), so the index never loses an earlier report."""
    from cchc_lib.reports import write_index

    return write_index(list(results or []), out, year, processed, conventions=conventions)


def _ingest_errors() -> tuple[type[BaseException], ...]:
    try:
        from cchc_lib.ingest import IngestError
    except ImportError:  # pragma: no cover - the ingest module is part of the package
        return ()
    return (IngestError,)


def _get(result: Any, *names: str) -> Any:
    for name in names:
        if isinstance(result, dict) and name in result:
            return result[name]
        if hasattr(result, name):
            return getattr(result, name)
    return None


def interpret_results(results: Any) -> tuple[list[Path], list[str]]:
    """Normalise the renderer's results into (HTML paths, error messages). Accepts paths, or
    objects/dicts with an ``html``/``html_path``/``path`` and an ``error`` or ``ok`` field."""
    if results is None:
        return [], []
    if isinstance(results, dict) and not {"html", "html_path", "path", "error", "ok"} & set(results):
        results = list(results.values())
    if not isinstance(results, list | tuple):
        results = [results]
    paths: list[Path] = []
    errors: list[str] = []
    for result in results:
        if isinstance(result, str | os.PathLike):
            paths.append(Path(result))
            continue
        error = _get(result, "error", "message")
        ok = _get(result, "ok", "success")
        html = _get(result, "html", "html_path", "path", "output")
        label = _get(result, "period") or html or "?"
        if error or ok is False or html is None:
            errors.append(f"{label}: {error or 'không tạo được báo cáo'}")
        else:
            paths.append(Path(html))
    return paths, errors


# -- the job -----------------------------------------------------------------------------------


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


@dataclass
class MonthlyResult:
    code: int
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


def _say(message: str, error: bool = False) -> None:
    """What cron mails to the operator: one line per step."""
    print(message, file=sys.stderr if error else sys.stdout, flush=True)


def run_monthly(options: MonthlyOptions, settings: Settings, today: date | None = None) -> MonthlyResult:
    from cchc_lib.guards import OutputError, check_writable_dir

    out = Path(options.out)
    try:
        # Before the lock and the log, which live there: one line and exit 6, not a traceback.
        check_writable_dir(out)
        out.mkdir(parents=True, exist_ok=True)
        (out / LOG_NAME).open("a", encoding="utf-8").close()
    except OSError as exc:
        message = str(exc) if isinstance(exc, OutputError) else str(OutputError(out / LOG_NAME, exc))
        _say(message, error=True)
        return MonthlyResult(EXIT_OUTPUT, options.month, message=message)
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
            result = MonthlyResult(EXIT_LOCKED, options.month, message=message)
        log.info("Kết thúc với mã %d", result.code)
    if result.message:
        _say(result.message, error=result.code != EXIT_OK)
    return result


def _run_locked(options: MonthlyOptions, settings: Settings, today: date) -> MonthlyResult:
    month = options.month or last_complete_month(today)
    try:
        periods = periods_for_month(month)
    except ValueError as exc:
        return MonthlyResult(EXIT_USAGE, month, message=str(exc))
    log.info("Bắt đầu lượt hằng tháng cho %s (gửi thư: %s)", month.code, "có" if options.send else "không")
    for warning in settings.warnings:
        log.warning(warning)
    if options.send:
        # Check the mail settings before an hour of work, not after.
        try:
            settings.require_sender()
        except ConfigError as exc:
            return MonthlyResult(EXIT_USAGE, month, message=str(exc))
        if not settings.to:
            return MonthlyResult(
                EXIT_USAGE,
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
        if isinstance(exc, _ingest_errors()):
            log.error("Nhập dữ liệu thất bại: %s", exc)
        else:
            log.exception("Nhập dữ liệu thất bại")
        return MonthlyResult(EXIT_INGEST, month, message=f"Lỗi nhập dữ liệu: {exc}")
    log.info("Đã nhập dữ liệu từ %s", options.raw)
    _say(f"Đã nhập dữ liệu từ {options.raw} vào {options.processed}.")
    from cchc_lib.guards import no_data_message, period_has_data

    if not period_has_data(options.processed, month):
        # The month's exports are not in data/raw yet: an empty report is not sent to anyone.
        log.error(no_data_message(month))
        return MonthlyResult(EXIT_RENDER, month, message=no_data_message(month))

    # 2. render and index
    results: Any = []
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
            EXIT_RENDER,
            month,
            paths,
            message="Lập báo cáo thất bại, không gửi thư:\n" + "\n".join(f"  - {e}" for e in errors),
        )
    labels = ", ".join(p.label_vi for p in periods)
    _say(f"Đã lập {len(paths)} báo cáo ({labels}) trong {options.out}.")
    if not options.send:
        return MonthlyResult(EXIT_OK, month, paths)

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
    from cchc_lib.mail import MailError, build_message, deliver, load_summaries, report_period

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
        return MonthlyResult(EXIT_OK, month, paths, message=message)

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
                EXIT_MAIL,
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
    return MonthlyResult(EXIT_OK, month, paths, sent, message=message)
