"""The ``cchc`` command line. Parsers here are the contract scripts rely on; the work is in
the library modules, imported lazily so that ``cchc --help`` starts fast."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cchc_lib.periods import PERIOD_HINT, Period, PeriodError

DEFAULT_RAW = Path("data/raw")
DEFAULT_PROCESSED = Path("data/processed")
DEFAULT_REPORTS = Path("reports")
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


def _fail(message: str, code: int = 2) -> int:
    print(message, file=sys.stderr)
    return code


def _add_conventions(p: argparse.ArgumentParser) -> None:
    """--conventions FILE and --window, on every command that computes numbers."""
    p.add_argument("--conventions", type=Path, default=None, metavar="FILE",
                   help="reporting conventions YAML (default: the packaged cchc_lib/conventions.yaml)")
    p.add_argument("--window", choices=("calendar", "nd09"), default=None,
                   help="data window of the periods for this run (overrides the conventions file)")


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
    from cchc_lib.ingest import IngestError, format_summary, run_ingest

    try:
        result = run_ingest(args.raw, args.out, mapping_path=args.mapping)
    except IngestError as exc:
        return _fail(f"Lỗi nhập dữ liệu: {exc}", 1)
    print(format_summary(result))
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from cchc_lib.sample import write_sample

    written = write_sample(args.out, seed=args.seed)
    print(f"Đã ghi {len(written)} tệp dữ liệu mẫu vào {args.out}")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from cchc_lib.schema import column_docs

    print(column_docs(args.table))
    return 0


def cmd_indicators(args: argparse.Namespace) -> int:
    from cchc_lib.conventions import ConventionsError
    from cchc_lib.indicators import MissingDataError, indicators_cli

    try:
        conventions = _conventions(args)
    except ConventionsError as exc:
        return _fail(f"Lỗi: {exc}", 2)
    try:
        print(indicators_cli(args.period, by=args.by, processed_dir=args.processed, fmt=args.format,
                             as_of=_as_of(args), conventions=conventions))
    except MissingDataError as exc:
        return _fail(str(exc), 1)
    except ValueError as exc:  # an --as-of that is not a date
        return _fail(f"Ngày không hợp lệ: {exc}. Ví dụ: --as-of 2023-06-15", 2)
    return 0


def cmd_form06(args: argparse.Namespace) -> int:
    from cchc_lib.conventions import ConventionsError
    from cchc_lib.form06 import form06_cli
    from cchc_lib.guards import OutputError, check_writable_file
    from cchc_lib.indicators import MissingDataError
    from cchc_lib.monthly import EXIT_OUTPUT

    try:
        conventions = _conventions(args)
    except ConventionsError as exc:
        return _fail(f"Lỗi: {exc}", 2)
    try:
        if args.out is not None:
            check_writable_file(args.out)  # before the work, not after it
        print(form06_cli(args.period, processed_dir=args.processed, out=args.out, conventions=conventions))
    except MissingDataError as exc:
        return _fail(str(exc), 1)
    except OutputError as exc:
        return _fail(str(exc), EXIT_OUTPUT)
    except OSError as exc:
        return _fail(str(OutputError(args.out, exc)), EXIT_OUTPUT)
    return 0


def cmd_index766(args: argparse.Namespace) -> int:
    from cchc_lib.conventions import ConventionsError
    from cchc_lib.index766 import IndexInputError, index766_cli

    try:
        conventions = _conventions(args)
    except ConventionsError as exc:
        return _fail(f"Lỗi: {exc}", 2)
    try:
        if args.from_counts is not None:
            print(index766_cli(from_counts=args.from_counts, fmt=args.format))
            return 0
        from cchc_lib.indicators import MissingDataError

        try:
            print(index766_cli(args.period, by=args.by, processed_dir=args.processed, fmt=args.format,
                               conventions=conventions))
        except MissingDataError as exc:
            return _fail(str(exc), 1)
    except IndexInputError as exc:
        return _fail(str(exc), 1)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from cchc_lib.conventions import ConventionsError

    try:
        args.conventions_obj = _conventions(args)
    except ConventionsError as exc:
        return _fail(f"Lỗi: {exc}", 2)
    if getattr(args, "plan", None) is not None:
        from cchc_lib.plan_report import plan_report_cli

        return plan_report_cli(args)
    args.as_of = _as_of(args)
    if args.as_of and getattr(args, "period", None) is not None:
        from cchc_lib.projection import as_of_report_cli

        return as_of_report_cli(args)
    from cchc_lib.reports import report_cli

    return report_cli(args)


def _month(text: str) -> Period:
    period = _period(text)
    if period.kind != "month":
        raise argparse.ArgumentTypeError(f"Cần một tháng như 2023-03, không phải '{text}'.")
    return period


def cmd_send(args: argparse.Namespace) -> int:
    from cchc_lib.config import ConfigError, load_settings
    from cchc_lib.guards import OutputError, check_writable_file, header_problem
    from cchc_lib.mail import MailError, send_reports
    from cchc_lib.monthly import EXIT_MAIL, EXIT_OUTPUT, EXIT_USAGE

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
    from cchc_lib.monthly import EXIT_USAGE, MonthlyOptions, run_monthly

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
    )
    return run_monthly(options, settings).code


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
    p.set_defaults(func=cmd_indicators)

    p = sub.add_parser("form06", help="the official form Biểu 06/VPCP/KSTT for a period")
    p.add_argument("--period", type=_period, required=True, help="2023-03, 2023-Q1 or 2023")
    p.add_argument("--processed", type=Path, default=DEFAULT_PROCESSED)
    p.add_argument("--out", type=Path, default=None, help="write an .xlsx in the official layout")
    _add_conventions(p)
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
    p.add_argument("--notebook", type=Path, default=None,
                   help="run this notebook instead of notebooks/report.ipynb (e.g. a customised copy)")
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
    p.set_defaults(func=cmd_monthly)

    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    _YTD.clear()  # "2023-YTD" is remembered for this command line only
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
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
