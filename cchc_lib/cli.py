"""The ``cchc`` command line: the only module that reads argv, prints for a terminal and decides
exit codes. Parsers here are the contract scripts rely on; the work is in the library modules,
imported lazily so that ``cchc --help`` starts fast.

Exit codes (every command; ``cchc monthly`` maps its :class:`~cchc_lib.publish.monthly.Outcome`):

====  ========================================================
0     done (for monthly including "nothing new to send")
1     ingest failed (previous processed data left as it was), or a report failed / bad data
2     usage or configuration error (bad month, no SMTP host, no recipients, unknown department)
3     a report failed to render in the monthly job, or the period has no data at all
4     mail failed (server down, refused, recipient rejected, too large); nothing marked sent
5     another monthly run holds the lock
6     an output folder or file cannot be written (permissions, a file in the way, disk full)
====  ========================================================
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cchc_lib.config import DEFAULT_PROCESSED, DEFAULT_RAW, DEFAULT_REPORTS
from cchc_lib.periods import PERIOD_HINT, Period, PeriodError

EXIT_OK = 0
EXIT_FAILED = 1  # ingest failed, a report failed, the data says no
EXIT_USAGE = 2
EXIT_NO_DATA = 3  # also a failed render in the monthly job
EXIT_MAIL = 4
EXIT_LOCKED = 5
EXIT_OUTPUT = 6
BY_CHOICES = ("overall", "department", "field", "procedure", "channel")


def _period(text: str) -> Period:
    try:
        return Period.parse(text)
    except PeriodError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


_YTD: set[str] = set()  # periods given as "2023-YTD" on this command line


def _period_or_ytd(text: str) -> Period:
    """A period, or ``2023-YTD``: the year to the --as-of date (default today)."""
    from cchc_lib.projection import parse_year_to_date

    year = parse_year_to_date(text)
    if year is None:
        return _period(text)
    _YTD.add(year.code)
    return year


def _as_of(args: argparse.Namespace) -> object:
    """--as-of, or for a "2023-YTD" period without it, today (the year's end once it is over)."""
    if getattr(args, "as_of", None) or getattr(args, "period", None) is None:
        return getattr(args, "as_of", None)
    if args.period.code in _YTD and args.period.kind == "year":
        from cchc_lib.projection import default_as_of

        return f"{default_as_of(args.period):%Y-%m-%d}"
    return None


class _Parser(argparse.ArgumentParser):
    """argparse, except that a malformed period is one line with an example, not a usage dump."""

    def error(self, message: str):  # type: ignore[override]
        if PERIOD_HINT in message:
            self.exit(2, f"{self.prog}: {message.split(': ', 1)[-1]}\n")
        super().error(message)


def _year(text: str) -> int:
    """A report year: a four-digit year the periods understand (2023), not 99999."""
    period = _period(text)
    if period.kind != "year":
        raise argparse.ArgumentTypeError(f"Cần một năm như 2023, không phải '{text}'.")
    return period.year


def _bad_date(text: object, example: str) -> str:
    """The message for an --as-of that is not a date (pandas' own words are English)."""
    return (f"Ngày không hợp lệ: '{text}'. Viết năm-tháng-ngày hoặc ngày/tháng/năm, "
            f"ví dụ: --as-of {example}")


def _fail(message: str, code: int = 2) -> int:
    print(message, file=sys.stderr)
    return code


def _add_conventions(p: argparse.ArgumentParser) -> None:
    """--conventions FILE and --window, on every command that computes numbers."""
    p.add_argument("--conventions", type=Path, default=None, metavar="FILE",
                   help="reporting conventions YAML (default: the packaged cchc_lib/conventions.yaml)")
    p.add_argument("--window", choices=("calendar", "nd09"), default=None,
                   help="data window of the periods for this run (overrides the conventions file)")


def _add_profile(p: argparse.ArgumentParser) -> None:
    """--profile FILE: the agency whose reports these are (name, plan, targets, units)."""
    p.add_argument("--profile", type=Path, default=None, metavar="FILE",
                   help="agency profile TOML (default: $CCHC_PROFILE or the packaged "
                        "cchc_lib/profiles/default.toml)")


def _conventions(args: argparse.Namespace):
    """The run's conventions (None: neither flag given, the packaged defaults); ConventionsError
    (one line) when the file cannot be used."""
    from cchc_lib.conventions import load_conventions

    path, window = getattr(args, "conventions", None), getattr(args, "window", None)
    if path is None and window is None:
        return None
    return load_conventions(path, window)


# -- handlers ------------------------------------------------------------------------------


def cmd_ingest(args: argparse.Namespace) -> int:
    from cchc_lib.ingest.run import IngestError, format_summary, run_ingest

    try:
        result = run_ingest(args.raw, args.out, mapping_path=args.mapping)
    except IngestError as exc:
        return _fail(f"Lỗi nhập dữ liệu: {exc}", 1)
    print(format_summary(result))
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from cchc_lib.guards import OutputError, check_writable_dir
    from cchc_lib.sample import write_sample

    try:
        check_writable_dir(args.out)
        written = write_sample(args.out, seed=args.seed)
    except OutputError as exc:
        return _fail(str(exc), EXIT_OUTPUT)
    except OSError as exc:
        return _fail(str(OutputError(args.out, exc)), EXIT_OUTPUT)
    print(f"Đã ghi {len(written)} tệp dữ liệu mẫu vào {args.out}")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from cchc_lib.schema import column_docs

    print(column_docs(args.table))
    return 0


def cmd_indicators(args: argparse.Namespace) -> int:
    from cchc_lib.conventions import ConventionsError
    from cchc_lib.indicators import CLI_COLUMNS, compute_indicators
    from cchc_lib.processed import MissingDataError, load_processed
    from cchc_lib.projection import indicators_as_of
    from cchc_lib.tables import format_indicator_table

    try:
        conventions = _conventions(args)
    except ConventionsError as exc:
        return _fail(f"Lỗi: {exc}", 2)
    from cchc_lib.plan import check_target_names

    check_target_names(args.period.year)  # a broken targets file: one line (main)
    as_of = _as_of(args)  # the period to that date (a year before its end is 2023-YTD)
    if as_of is not None:
        from cchc_lib.plan import as_of_instant

        try:
            as_of_instant(as_of)
        except ValueError:
            return _fail(_bad_date(as_of, "2023-06-15"), 2)
    try:
        data = load_processed(args.processed, conventions)
        frame = (indicators_as_of(data, args.period, as_of, by=args.by) if as_of is not None
                 else compute_indicators(data, args.period, by=args.by))
    except MissingDataError as exc:
        return _fail(str(exc), 1)
    window = data.conventions.window
    frame = frame.assign(window=window)  # which data window produced the numbers
    if args.format == "table":
        print(format_indicator_table(frame, args.period.with_window(window), args.by))
    else:
        print(_tidy(frame[CLI_COLUMNS], args.format, ["numerator", "denominator", "value", "target"]))
    return 0


def _tidy(frame, fmt: str, numeric: list[str]) -> str:
    """A tidy frame as CSV or JSON for machines. 12 significant digits: counts print as 1194 (not
    1194.0), and float noise such as 0.47500000000000003 (0.275 + 0.20) as 0.475; whole numbers
    as JSON integers."""
    import json

    if fmt == "csv":
        return frame.to_csv(index=False, lineterminator="\n", float_format="%.12g").rstrip("\n")
    frame = frame.astype({c: "float64" for c in numeric}).round(12)
    records = json.loads(frame.to_json(orient="records", force_ascii=False))
    for record in records:
        for c in numeric:
            if isinstance(record[c], float) and record[c].is_integer():
                record[c] = int(record[c])
    return json.dumps(records, ensure_ascii=False, indent=1)


def cmd_form06(args: argparse.Namespace) -> int:
    from cchc_lib.conventions import ConventionsError
    from cchc_lib.form06 import form06_table, format_form06, write_form06_xlsx
    from cchc_lib.guards import OutputError, check_writable_file
    from cchc_lib.processed import MissingDataError, load_processed

    try:
        conventions = _conventions(args)
    except ConventionsError as exc:
        return _fail(f"Lỗi: {exc}", 2)
    try:
        if args.out is not None:
            check_writable_file(args.out)  # before the work, not after it
        table = form06_table(load_processed(args.processed, conventions), args.period)
        text = format_form06(table, args.period)
        if args.out is not None:
            write_form06_xlsx(table, args.period, args.out)
            text += f"\n\nĐã ghi Biểu 06 vào {args.out}"
        print(text)
    except MissingDataError as exc:
        return _fail(str(exc), 1)
    except OutputError as exc:
        return _fail(str(exc), EXIT_OUTPUT)
    except OSError as exc:
        return _fail(str(OutputError(args.out, exc)), EXIT_OUTPUT)
    return 0


def cmd_index766(args: argparse.Namespace) -> int:
    from cchc_lib.conventions import ConventionsError
    from cchc_lib.index766 import counts as index766_counts
    from cchc_lib.index766 import scores as ix
    from cchc_lib.processed import MissingDataError, load_processed
    from cchc_lib.tables import index766_output

    try:
        conventions = _conventions(args)
    except ConventionsError as exc:
        return _fail(f"Lỗi: {exc}", 2)
    title = ""
    try:
        if args.from_counts is not None:
            scores = ix.score_from_counts(ix.read_counts_csv(args.from_counts))
        else:
            data = load_processed(args.processed, conventions)
            scores = ix.score_from_counts(index766_counts.counts_from_data(data, args.period, by=args.by))
            window = data.conventions.window
            if args.format != "table":  # CSV and JSON end with the period and the data window
                scores = scores.assign(period=args.period.code, window=window)
            title = f", {args.period.with_window(window).label_window_vi}"
    except (MissingDataError, ix.IndexInputError) as exc:
        return _fail(str(exc), 1)
    print(index766_output(scores, args.format, title=title))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """``cchc report``: optional ingest, then the plan report (``--plan``), one period (to a date
    with ``--as-of``) or a whole year with its index page."""
    from cchc_lib.conventions import ConventionsError
    from cchc_lib.guards import OutputError, check_writable_dir

    try:
        args.conventions_obj = _conventions(args)
    except ConventionsError as exc:
        return _fail(f"Lỗi: {exc}", EXIT_USAGE)
    from cchc_lib.plan import check_target_names

    # A broken targets file of the year is said here (main), before any report's kernel starts.
    plan_year = getattr(args, "plan", None)
    check_target_names(plan_year if plan_year is not None else
                       args.year if args.year is not None else args.period.year)
    if plan_year is not None:
        if (code := _ingest_first(args, say_done=False)) is not None:
            return code
        return _report_plan(args)
    try:
        check_writable_dir(args.out)
    except OutputError as exc:
        return _fail(str(exc), EXIT_OUTPUT)
    args.as_of = _as_of(args)
    as_of = bool(args.as_of and getattr(args, "period", None) is not None)
    if (code := _ingest_first(args, say_done=not as_of)) is not None:
        return code
    if args.department:
        from cchc_lib.publish.batch import UnknownDepartmentError, known_departments, resolve_department

        try:
            args.department = resolve_department(args.department, known_departments(args.processed))
        except UnknownDepartmentError as exc:
            return _fail(f"Lỗi: {exc}", EXIT_USAGE)
    from cchc_lib.processed import MissingDataError, require_processed

    try:
        # Said here, before a kernel starts, rather than as a failed cell of each report.
        require_processed(Path(args.processed))
    except MissingDataError as exc:
        return _fail(str(exc), EXIT_FAILED)
    return _report_as_of(args) if as_of else _report_periods(args)


def _ingest_first(args: argparse.Namespace, say_done: bool = True) -> int | None:
    """``--raw``: ingest it into ``--processed`` first; an exit code when that failed."""
    if not getattr(args, "raw", None):
        return None
    from cchc_lib.ingest.run import IngestError, run_ingest

    try:
        run_ingest(Path(args.raw), Path(args.processed))
    except IngestError as exc:
        return _fail(f"Lỗi nhập dữ liệu: {exc}", EXIT_FAILED)
    if say_done:
        print(f"Đã nhập dữ liệu từ {args.raw} vào {args.processed}")
    return None


def _megabytes(size: int) -> str:
    from cchc_lib.formatting import fmt_number

    return f"{fmt_number(size / 1_048_576, 1)} MB"


def _report_periods(args: argparse.Namespace) -> int:
    """One period, or a year's 12 months, 4 quarters and the year (+ its plan report), then the
    index page; a period without any dossier is said and left out (exit 3 when none is left)."""
    from tqdm import tqdm

    from cchc_lib.config import REPORT_NOTEBOOK
    from cchc_lib.guards import no_data_message, period_has_data
    from cchc_lib.periods import periods_in_year
    from cchc_lib.publish.batch import has_plan, run_batch
    from cchc_lib.publish.site import write_index

    processed, out = Path(args.processed), Path(args.out)
    periods = periods_in_year(int(args.year)) if args.year is not None else [args.period]
    empty = [p for p in periods if not period_has_data(processed, p, args.department)]
    for period in empty:
        print(no_data_message(period, args.department), file=sys.stderr)
    periods = [p for p in periods if p not in empty]
    if not periods:
        return EXIT_NO_DATA
    # A year batch for the whole Sở also renders that year's plan report (it has no department
    # view), judged as of the end of the year or today, whichever is earlier.
    plan_year = (int(args.year) if args.year is not None and not args.department
                 and has_plan(int(args.year)) else None)
    with tqdm(total=len(periods) + (plan_year is not None), desc="Lập báo cáo", unit=" báo cáo",
              file=sys.stderr) as bar:
        batch = run_batch(periods, processed, out, args.department, jobs=max(1, int(args.jobs or 1)),
                          plan_year=plan_year, notebook=getattr(args, "notebook", None) or REPORT_NOTEBOOK,
                          conventions=args.conventions_obj, on_done=bar.update)
    for result in batch.failed:
        print(result.error, file=sys.stderr)
    if args.year is not None:
        index = write_index(batch.reports, out, int(args.year), processed, args.department, plan=batch.plan,
                            conventions=args.conventions_obj)
        # The plan report is one of the batch's reports: a failed one shows in the count.
        made = [*batch.reports, *([batch.plan] if batch.plan is not None else [])]
        print(f"Đã lập {sum(r.ok for r in made)}/{len(made)} báo cáo năm {args.year}; "
              f"mục lục: {index.resolve()}")
        if batch.plan is not None and batch.plan.ok and batch.plan.html is not None:
            print(f"Báo cáo Kế hoạch CCHC năm {args.year}: {batch.plan.html.resolve()} "
                  f"({_megabytes(batch.plan.size)})")
    else:
        for result in batch.reports:
            if result.ok and result.html is not None:
                print(f"Đã lập báo cáo {result.period}: {result.html.resolve()} ({_megabytes(result.size)})")
    return EXIT_FAILED if batch.failed else (EXIT_NO_DATA if empty else EXIT_OK)


def _report_as_of(args: argparse.Namespace) -> int:
    """``cchc report --period P --as-of DATE``: the period report as of that date."""
    from cchc_lib.conventions import as_parameter
    from cchc_lib.formatting import fmt_date
    from cchc_lib.plan import as_of_instant
    from cchc_lib.projection import to_date_code
    from cchc_lib.publish.jobs import render_report, report_title
    from cchc_lib.publish.report import as_of_paths
    from cchc_lib.publish.runner import ReportError

    period = args.period
    try:
        at = as_of_instant(args.as_of)
    except ValueError:
        return _fail(_bad_date(args.as_of, "2023-06-15"), EXIT_USAGE)
    out = Path(args.out)
    try:
        result = render_report(
            period, Path(args.processed), out, args.department,
            extra_parameters={"as_of": f"{at:%Y-%m-%d}", "conventions": as_parameter(args.conventions_obj)},
            paths=as_of_paths(period, out, args.department, at),
            title=f"{report_title(period)} (đến hết ngày {fmt_date(at)})")
    except ReportError as exc:
        return _fail(str(exc), EXIT_FAILED)
    print(f"Đã lập báo cáo {to_date_code(period)} đến hết ngày {fmt_date(at)}: "
          f"{result.html.resolve() if result.html else ''} ({_megabytes(result.size)})")
    return EXIT_OK


def _report_plan(args: argparse.Namespace) -> int:
    """``cchc report --plan YEAR [--as-of DATE]``."""
    from cchc_lib.publish.plan_report import render_plan_report
    from cchc_lib.publish.runner import ReportError

    try:
        result = render_plan_report(int(args.plan), getattr(args, "as_of", None), args.processed, args.out,
                                    conventions=args.conventions_obj)
    except ReportError as exc:
        return _fail(str(exc), EXIT_FAILED)
    except ValueError:
        return _fail(_bad_date(getattr(args, "as_of", None), "2023-06-30"), EXIT_USAGE)
    print(f"Đã lập báo cáo kế hoạch năm {args.plan}: {result.html.resolve() if result.html else ''} "
          f"({_megabytes(result.size)})")
    return EXIT_OK


def _month(text: str) -> Period:
    period = _period(text)
    if period.kind != "month":
        raise argparse.ArgumentTypeError(f"Cần một tháng như 2023-03, không phải '{text}'.")
    return period


def cmd_send(args: argparse.Namespace) -> int:
    from cchc_lib.config import ConfigError, load_settings
    from cchc_lib.guards import OutputError, check_writable_file, header_problem
    from cchc_lib.publish.mail import MailError, send_reports

    missing = [str(r) for r in args.reports if not r.is_file()]
    if missing:
        return _fail(f"Không tìm thấy tệp báo cáo: {', '.join(missing)}", EXIT_USAGE)
    for name, values in (("--subject", args.subject), ("--to", args.to), ("--cc", args.cc)):
        problem = header_problem(name, values)  # a line break would inject mail headers
        if problem:
            return _fail(problem, EXIT_USAGE)
    try:
        if args.dry_run is not None:
            check_writable_file(args.dry_run)
    except OutputError as exc:
        return _fail(str(exc), EXIT_OUTPUT)
    try:
        settings = load_settings(args.config)
        for warning in settings.warnings:
            print(warning, file=sys.stderr)
        if args.max_size is not None:
            from dataclasses import replace

            settings = replace(settings, max_message_mb=args.max_size)
        if args.dry_run is None:
            settings.require_sender()
        msg = send_reports(
            args.reports,
            to=args.to,
            cc=args.cc or [],
            settings=settings,
            processed_dir=args.processed,
            subject=args.subject,
            dry_run=args.dry_run,
        )
    except (ConfigError, PeriodError) as exc:
        return _fail(str(exc), EXIT_USAGE)
    except MailError as exc:
        return _fail(f"Gửi thư thất bại: {exc}", EXIT_MAIL)
    except OSError as exc:
        if args.dry_run is None:
            raise
        return _fail(str(OutputError(args.dry_run, exc)), EXIT_OUTPUT)
    if args.dry_run is not None:
        print(f"Đã ghi thư (không gửi) vào {args.dry_run}")
    else:
        print(f"Đã gửi thư {msg['Message-ID']} tới {len(args.to) + len(args.cc or [])} người nhận.")
    return 0


def cmd_monthly(args: argparse.Namespace) -> int:
    from cchc_lib.config import ConfigError, load_settings
    from cchc_lib.conventions import ConventionsError
    from cchc_lib.publish.monthly import MonthlyOptions, Outcome, run_monthly

    try:
        settings = load_settings(args.config)
        conventions = _conventions(args)
    except ConfigError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except ConventionsError as exc:
        return _fail(f"Lỗi: {exc}", EXIT_USAGE)
    options = MonthlyOptions(
        raw=args.raw,
        processed=args.processed,
        out=args.out,
        month=args.month,
        send=args.send,
        force=args.force,
        wait=args.wait,
        conventions=conventions,
        say=_say,
    )
    outcome = run_monthly(options, settings).outcome
    return {Outcome.DONE: EXIT_OK, Outcome.INGEST_FAILED: EXIT_FAILED, Outcome.USAGE: EXIT_USAGE,
            Outcome.RENDER_FAILED: EXIT_NO_DATA, Outcome.MAIL_FAILED: EXIT_MAIL,
            Outcome.LOCKED: EXIT_LOCKED, Outcome.OUTPUT_FAILED: EXIT_OUTPUT}[outcome]


def _say(message: str, error: bool = False) -> None:
    """What cron mails to the operator: one line per step."""
    print(message, file=sys.stderr if error else sys.stdout, flush=True)


# -- parser --------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="cchc",
        description="Chỉ số cải cách hành chính (CCHC): nhập dữ liệu, tính chỉ số, lập báo cáo.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="validate and normalise data/raw into data/processed")
    p.add_argument("--raw", type=Path, default=DEFAULT_RAW)
    p.add_argument("--out", type=Path, default=DEFAULT_PROCESSED)
    p.add_argument("--mapping", type=Path, default=None, help="header/value mapping YAML")
    _add_profile(p)  # the agency is the department of dossiers from exports without one
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("sample", help="write the deterministic sample data set")
    p.add_argument("--out", type=Path, default=DEFAULT_RAW)
    p.add_argument("--seed", type=int, default=2023)
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("schema", help="print the processed-data schema as Markdown")
    p.add_argument(
        "table", nargs="?", default="dossiers",
        choices=("dossiers", "procedures", "feedback", "documents", "workfiles", "staff", "plan_tasks",
                 "manual_figures"),
    )
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("indicators", help="indicators for a period against the plan's targets")
    p.add_argument("--period", type=_period_or_ytd, required=True,
                   help="2023-03, 2023-Q1, 2023 or 2023-YTD (the year to --as-of, default today)")
    p.add_argument("--by", choices=BY_CHOICES, default="overall")
    p.add_argument("--processed", type=Path, default=DEFAULT_PROCESSED)
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument("--as-of", dest="as_of", default=None,
                   help="the period to this date, e.g. --period 2023 --as-of 2023-06-15 (2023-YTD)")
    _add_conventions(p)
    _add_profile(p)
    p.set_defaults(func=cmd_indicators)

    p = sub.add_parser("form06", help="the official form Biểu 06/VPCP/KSTT for a period")
    p.add_argument("--period", type=_period, required=True, help="2023-03, 2023-Q1 or 2023")
    p.add_argument("--processed", type=Path, default=DEFAULT_PROCESSED)
    p.add_argument("--out", type=Path, default=None, help="write an .xlsx in the official layout")
    _add_conventions(p)
    _add_profile(p)
    p.set_defaults(func=cmd_form06)

    p = sub.add_parser("index766", help="the national service index (QĐ 766/QĐ-TTg), 100 points")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--period", type=_period, help="2023-03, 2023-Q1 or 2023")
    group.add_argument("--from-counts", type=Path, default=None,
                       help="CSV: unit, metric, numerator, denominator")
    p.add_argument("--by", choices=("overall", "department"), default="overall")
    p.add_argument("--processed", type=Path, default=DEFAULT_PROCESSED)
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    _add_conventions(p)
    _add_profile(p)
    p.set_defaults(func=cmd_index766)

    p = sub.add_parser("report", help="render HTML reports with papermill and nbconvert")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--period", type=_period_or_ytd, help="2023-03, 2023-Q1, 2023 or 2023-YTD")
    group.add_argument("--year", type=_year, help="all 12 months, 4 quarters and the year")
    group.add_argument("--plan", type=_year, help="the plan report of that year (Kế hoạch CCHC)")
    p.add_argument("--as-of", dest="as_of", default=None,
                   help="with --plan: judge tasks and targets at this date; with --period: the "
                        "period to this date (--period 2023 --as-of 2023-06-15 is 2023-YTD)")
    p.add_argument("--department", default=None, help="one department (default: all)")
    p.add_argument("--raw", type=Path, default=None, help="ingest this raw folder first")
    p.add_argument("--processed", type=Path, default=DEFAULT_PROCESSED)
    p.add_argument("--out", type=Path, default=DEFAULT_REPORTS)
    p.add_argument("--jobs", type=int, default=2, help="parallel report processes")
    _add_conventions(p)
    _add_profile(p)
    p.add_argument("--notebook", type=Path, default=None,
                   help="run this notebook instead of cchc_lib/publish/notebooks/report.ipynb "
                        "(e.g. a customised copy)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("send", help="e-mail HTML reports with a summary of the period")
    p.add_argument("reports", nargs="+", type=Path, metavar="REPORT", help="HTML report(s)")
    p.add_argument("--to", nargs="+", required=True, metavar="ADDR")
    p.add_argument("--cc", nargs="+", default=None, metavar="ADDR")
    p.add_argument("--subject", default=None)
    p.add_argument("--dry-run", type=Path, default=None, metavar="FILE.eml", help="write, do not send")
    p.add_argument("--max-size", type=float, default=None, metavar="MB", help="message size limit (10)")
    p.add_argument("--processed", type=Path, default=DEFAULT_PROCESSED)
    p.add_argument("--config", type=Path, default=None, help="TOML settings (default ./cchc.toml)")
    _add_profile(p)
    p.set_defaults(func=cmd_send)

    p = sub.add_parser("monthly", help="unattended monthly job: ingest, render, index, e-mail")
    p.add_argument("--month", type=_month, default=None, help="2023-03 (default: last complete month)")
    p.add_argument("--send", action="store_true", help="e-mail the reports to the configured recipients")
    p.add_argument("--force", action="store_true", help="send again even if already sent")
    p.add_argument("--wait", action="store_true", help="wait for a running job instead of exiting")
    p.add_argument("--raw", type=Path, default=DEFAULT_RAW)
    p.add_argument("--processed", type=Path, default=DEFAULT_PROCESSED)
    p.add_argument("--out", type=Path, default=DEFAULT_REPORTS)
    p.add_argument("--config", type=Path, default=None, help="TOML settings (default ./cchc.toml)")
    _add_conventions(p)
    _add_profile(p)
    p.set_defaults(func=cmd_monthly)

    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    _YTD.clear()  # "2023-YTD" is remembered for this command line only
    args = parser.parse_args(argv)
    if getattr(args, "profile", None) is not None:
        from cchc_lib.config import ConfigError, use_profile

        try:
            use_profile(args.profile)  # before any work: the report kernels inherit it
        except ConfigError as exc:
            return _fail(f"Lỗi: {exc}", 2)
    from cchc_lib.targets import TargetsError

    try:
        return int(args.func(args) or 0)
    except TargetsError as exc:  # a hand-edited plan year's targets file
        return _fail(f"Lỗi: {exc}", EXIT_USAGE)
    except BrokenPipeError:
        # `cchc indicators --format csv | head`: the reader left; not an error worth a traceback.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def run() -> None:
    """The ``cchc`` command: :func:`main`, then a quick exit. Tearing down the interpreter (the
    module graph of pandas, pyarrow, plotly, papermill and nbconvert, object by object) took
    0.4 s after a report was already written; everything the command wrote is flushed and
    closed first, kernels and worker processes are stopped by then (runner), so nothing is lost
    by leaving at once."""
    code = main()
    _leave(code)


def _leave(code: int) -> None:
    import logging
    import os

    logging.shutdown()  # the monthly run's log file
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        pass
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
