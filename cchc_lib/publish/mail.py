"""E-mail the HTML reports: a short Vietnamese summary in the body, the reports attached.

Pure parts (summary, message, size fallback) are separate from the one impure part (``deliver``)
so that the message can be written to an .eml file for a dry run or inspected in tests.

Delivery is all-or-nothing: every recipient is offered to the server (RCPT) before the message
is transferred (DATA); if any is refused the transaction is reset, so nobody receives a copy
and the caller can record nothing as sent.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import logging
import re
import smtplib
import socket
import ssl
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.generator import BytesGenerator
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid
from pathlib import Path

import pandas as pd

from cchc_lib.config import Settings, profile
from cchc_lib.formatting import fmt_count, fmt_number, format_value, status_colours, target_text
from cchc_lib.indicators import compute_indicators
from cchc_lib.periods import Period, PeriodError
from cchc_lib.processed import MissingDataError, load_processed
from cchc_lib.publish.fragments import render

log = logging.getLogger("cchc.mail")

DEFAULT_FROM = "cchc@localhost"

# A period code delimited by anything but a digit: 2023-03, 2023-Q1 / 2023-q1, 2023.
_PERIOD_TOKEN = re.compile(r"(?<!\d)(\d{4})(?:[-_]([Qq][1-4]|\d{2}))?(?!\d)")


# -- errors ---------------------------------------------------------------------------------


class MailError(Exception):
    """Sending failed; ``kind`` says how: unavailable, tls, auth, refused, recipient, too_large."""

    kind = "mail"


class ServerUnavailable(MailError):
    kind = "unavailable"


class TlsFailure(MailError):
    kind = "tls"


class AuthFailure(MailError):
    kind = "auth"


class ServerRefused(MailError):
    kind = "refused"


class RecipientRejected(MailError):
    kind = "recipient"

    def __init__(self, message: str, refused: dict[str, tuple[int, str]]):
        super().__init__(message)
        self.refused = refused


class MessageTooLarge(MailError):
    kind = "too_large"


# -- which period a report covers -------------------------------------------------------------


def _period_from_notebook(report: Path) -> Period | None:
    """Papermill records the parameters in the executed notebook kept next to the HTML."""
    for candidate in (report.with_suffix(".ipynb"), report.parent / f"{report.stem}.executed.ipynb"):
        if not candidate.is_file():
            continue
        try:
            meta = json.loads(candidate.read_text(encoding="utf-8")).get("metadata", {})
            value = meta.get("papermill", {}).get("parameters", {}).get("period")
            return Period.parse(str(value)) if value else None
        except (ValueError, OSError, AttributeError):
            return None
    return None


def _period_from_name(name: str) -> Period | None:
    # The most specific token wins: "bao-cao-2023-03" is the month, not the year.
    best: Period | None = None
    for match in _PERIOD_TOKEN.finditer(name):
        text = match.group(1) + (f"-{match.group(2)}" if match.group(2) else "")
        try:
            period = Period.parse(text)
        except PeriodError:
            continue
        if best is None or period.n_months < best.n_months:
            best = period
    return best


def report_period(report: Path) -> Period:
    """The period of a report: the executed notebook's ``period`` parameter, else the file
    name, else the folder names (``reports/2023-Q1/index.html``)."""
    report = Path(report)
    found = _period_from_notebook(report)
    if found:
        return found
    for part in (report.stem, *(p.name for p in report.parents)):
        found = _period_from_name(part)
        if found:
            return found
    raise PeriodError(
        f"Không xác định được kỳ báo cáo của tệp {report.name}: tên tệp cần chứa kỳ như 2023-03, "
        "2023-Q1 hoặc 2023."
    )


# -- the summary ------------------------------------------------------------------------------








def summary_rows(indicators: pd.DataFrame) -> pd.DataFrame:
    """The profile's key overall indicators as display strings: label, value, target, status."""
    keys = profile().mail_indicators
    frame = indicators
    if "group_by" in frame.columns:
        frame = frame[frame["group_by"].astype("string") == "overall"]
    frame = frame[frame["indicator"].isin(keys)].copy()
    order = {name: i for i, name in enumerate(keys)}
    frame = frame.sort_values("indicator", key=lambda s: s.map(order))
    # A handful of rows at most, so formatting row by row is clear and cheap.
    records = []
    for _, row in frame.iterrows():
        label = row.get("label_vi")
        records.append(
            {
                "indicator": row["indicator"],
                "label": label if isinstance(label, str) and label else row["indicator"],
                "value": format_value(row.get("value"), row.get("unit"), row["indicator"], count_word=True),
                "target": target_text(row),
                "status": str(row.get("status") or "—"),
            }
        )
    return pd.DataFrame.from_records(records, columns=["indicator", "label", "value", "target", "status"])


def _headline(indicators: pd.DataFrame) -> list[str]:
    """Volumes for the opening line: received (online_share's denominator) and resolved."""
    lines = []
    overall = indicators
    if "group_by" in overall.columns:
        overall = overall[overall["group_by"].astype("string") == "overall"]
    for indicator, text in (("online_share", "Hồ sơ tiếp nhận"), ("ontime_rate", "Hồ sơ đã giải quyết")):
        hit = overall.loc[overall["indicator"] == indicator, "denominator"]
        if len(hit) and not pd.isna(hit.iloc[0]):
            lines.append(f"{text}: {fmt_count(int(hit.iloc[0]))}")
    return lines


@dataclass(frozen=True)
class PeriodSummary:
    period: Period
    rows: pd.DataFrame  # from summary_rows
    headline: tuple[str, ...] = ()
    note: str | None = None  # shown when the numbers could not be computed


def summarise(indicators: pd.DataFrame, period: Period) -> PeriodSummary:
    return PeriodSummary(period, summary_rows(indicators), tuple(_headline(indicators)))


def summary_text(summaries: Sequence[PeriodSummary]) -> str:
    agency = profile()
    lines = [agency.greeting, ""]
    lines.append(
        f"{agency.sender} trân trọng gửi báo cáo kết quả giải quyết thủ tục hành chính và công tác "
        "cải cách hành chính "
        f"của {agency.name} (tệp đính kèm). Tóm tắt các chỉ số chính:"
    )
    for summary in summaries:
        lines += ["", f"{summary.period.label_vi}".upper()]
        lines += [f"  {line}" for line in summary.headline]
        if summary.note:
            lines.append(f"  {summary.note}")
        for row in summary.rows.itertuples():
            lines.append(f"  - {row.label}: {row.value} (chỉ tiêu: {row.target}) — {row.status}")
    lines += ["", "Chi tiết, biểu đồ và Biểu 06 xem trong báo cáo đính kèm (mở bằng trình duyệt).", ""]
    lines.append("Thư này do công cụ cchc gửi tự động.")
    return "\n".join(lines) + "\n"




def summary_html(summaries: Sequence[PeriodSummary]) -> str:
    """Inline-styled HTML (mail clients drop <style> blocks and scripts); everything escaped."""
    agency = profile()
    periods = []
    for summary in summaries:
        rows = []
        for row in summary.rows.itertuples():
            colour, background = status_colours(row.status)
            rows.append({"label": row.label, "value": row.value, "target": row.target,
                         "status": row.status, "colour": colour, "background": background})
        periods.append({"period": summary.period, "headline": list(summary.headline),
                        "note": summary.note, "rows": rows})
    return render("mail_summary.html.j2", summaries=periods, agency=agency.name,
                  sender=agency.sender, greeting=agency.greeting) + "\n"


def load_summaries(periods: Sequence[Period], processed_dir: Path, conventions=None) -> list[PeriodSummary]:
    """Compute the indicators for each period (under ``conventions``, None: the defaults); a
    period whose data is missing gets a note instead of a table so that the reports still go out."""
    try:
        data = load_processed(processed_dir, conventions)
    except MissingDataError as exc:
        log.warning("Không tính được chỉ số tóm tắt: %s", exc)
        note = "Chưa tính được số liệu tóm tắt; xem báo cáo đính kèm."
        return [
            PeriodSummary(p, summary_rows(pd.DataFrame(columns=["indicator"])), (), note) for p in periods
        ]
    out = []
    for period in periods:
        try:
            out.append(summarise(compute_indicators(data, period), period))
        except MissingDataError as exc:
            log.warning("Không tính được chỉ số %s: %s", period.code, exc)
            empty = summary_rows(pd.DataFrame(columns=["indicator"]))
            out.append(PeriodSummary(period, empty, (), "Chưa có dữ liệu cho kỳ này."))
    return out


# -- the message ------------------------------------------------------------------------------


def default_subject(periods: Sequence[Period]) -> str:
    labels = ", ".join(p.label_vi for p in periods)
    return f"Báo cáo CCHC {labels} — {profile().name}"


def message_size(msg: EmailMessage) -> int:
    """Bytes on the wire (CRLF line ends), the figure a server's size limit applies to."""
    return len(_wire_bytes(msg))


def _wire_bytes(msg: EmailMessage) -> bytes:
    buffer = io.BytesIO()
    BytesGenerator(buffer, policy=msg.policy.clone(linesep="\r\n")).flatten(msg)
    return buffer.getvalue()


def attachment_encoding(data: bytes) -> str:
    """The smaller transfer encoding for an attachment: a report is mostly ASCII (the page, the
    chart data, plotly.js already in base64), which quoted-printable carries at about 1.1x
    its size where base64 takes 1.37x; both give back the file byte for byte."""
    qp = len(binascii.b2a_qp(data, istext=False, header=False, quotetabs=True))
    return "quoted-printable" if qp < (len(data) + 2) // 3 * 4 * 77 // 76 else "base64"


def zip_reports(reports: Sequence[Path]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for report in reports:
            archive.write(report, arcname=report.name)
    return buffer.getvalue()


def zip_name(periods: Sequence[Period]) -> str:
    return "bao-cao-cchc-" + "_".join(p.code for p in periods) + ".zip"


def build_message(
    reports: Sequence[Path],
    summaries: Sequence[PeriodSummary],
    *,
    to: Sequence[str],
    cc: Sequence[str] = (),
    mail_from: str | None = None,
    subject: str | None = None,
    max_bytes: int = 10 * 1024 * 1024,
) -> EmailMessage:
    """The message with the reports attached as HTML; as one zip when that would exceed
    ``max_bytes``; MessageTooLarge when even the zip does."""
    if not to:
        raise ValueError("Cần ít nhất một người nhận (--to).")
    periods = [s.period for s in summaries]
    sender = mail_from or DEFAULT_FROM
    msg = EmailMessage()
    msg["Subject"] = subject or default_subject(periods)
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Date"] = formatdate(localtime=True)
    domain = sender.rpartition("@")[2] or "localhost"
    msg["Message-ID"] = make_msgid(domain=domain.strip(">") or None)
    # quoted-printable keeps the Vietnamese body 7-bit, so servers without 8BITMIME accept it.
    msg.set_content(summary_text(summaries), cte="quoted-printable")
    msg.add_alternative(summary_html(summaries), subtype="html", cte="quoted-printable")

    plain = _copy_headers_and_body(msg)
    for report in reports:
        # bytes, not text: the attachment must equal the file byte for byte.
        data = Path(report).read_bytes()
        plain.add_attachment(data, maintype="text", subtype="html", filename=report.name,
                             cte=attachment_encoding(data))
    if message_size(plain) <= max_bytes:
        return plain

    zipped = _copy_headers_and_body(msg)
    zipped.add_attachment(
        zip_reports(reports), maintype="application", subtype="zip", filename=zip_name(periods)
    )
    size = message_size(zipped)
    if size <= max_bytes:
        log.info("Thư vượt giới hạn, đã nén báo cáo thành tệp zip (%d byte).", size)
        return zipped
    raise MessageTooLarge(
        f"Thư quá lớn: kể cả khi nén zip vẫn {fmt_number(size / 1024 / 1024, 1)} MB, vượt giới hạn "
        f"{fmt_number(max_bytes / 1024 / 1024, 1)} MB. Không gửi. Hãy tăng giới hạn "
        "(--max-size hoặc max_message_mb) nếu máy chủ thư cho phép, hoặc gửi ít báo cáo hơn."
    )


def _copy_headers_and_body(msg: EmailMessage) -> EmailMessage:
    """A fresh copy of the multipart/alternative message, to attach to without mutating it."""
    import copy

    return copy.deepcopy(msg)


def write_eml(msg: EmailMessage, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_wire_bytes(msg))
    return path


# -- delivery ---------------------------------------------------------------------------------


def _recipients(msg: EmailMessage) -> list[str]:
    fields_ = [str(v) for key in ("To", "Cc") for v in msg.get_all(key, [])]
    return [addr for _, addr in getaddresses(fields_) if addr]


def _envelope_sender(msg: EmailMessage) -> str:
    return getaddresses([str(msg["From"])])[0][1]


def deliver(
    msg: EmailMessage,
    settings: Settings,
    smtp_factory: Callable[..., smtplib.SMTP] | None = None,
) -> None:
    """Send ``msg`` via the configured server, all-or-nothing; raise a MailError subclass
    with a Vietnamese message saying what went wrong. Never logs the password."""
    settings.require_sender()
    host, port = settings.host or "", settings.effective_port  # require_sender: a host is set
    where = f"{host}:{port}"
    recipients = _recipients(msg)
    try:
        context = settings.ssl_context() if settings.security != "none" else None
    except (OSError, ssl.SSLError) as exc:
        raise TlsFailure(
            f"Không đọc được tệp chứng chỉ CCHC_SMTP_CAFILE ({settings.cafile}): {exc}"
        ) from None
    log.info("Kết nối máy chủ thư %s (bảo mật: %s)", where, settings.security)
    try:
        if smtp_factory is not None:
            smtp = smtp_factory(host, port, timeout=settings.timeout)
        elif settings.security == "ssl":
            smtp = smtplib.SMTP_SSL(host, port, timeout=settings.timeout, context=context)
        else:
            smtp = smtplib.SMTP(host, port, timeout=settings.timeout)
    except ssl.SSLError as exc:
        raise TlsFailure(
            f"Không thiết lập được kết nối an toàn (SSL) với {where}: {exc.reason or exc}"
        ) from None
    except (OSError, smtplib.SMTPConnectError) as exc:
        raise ServerUnavailable(
            f"Không kết nối được máy chủ thư {where}: máy chủ không hoạt động hoặc sai địa chỉ/cổng "
            f"({_os_reason(exc)})."
        ) from None
    try:
        with smtp:
            smtp.ehlo()
            if settings.security == "starttls":
                try:
                    smtp.starttls(context=context)
                except smtplib.SMTPNotSupportedError:
                    raise TlsFailure(f"Máy chủ thư {where} không hỗ trợ STARTTLS.") from None
                smtp.ehlo()
            if settings.user:
                try:
                    _login(smtp, settings.user, settings.password or "")
                except smtplib.SMTPAuthenticationError as exc:
                    raise AuthFailure(
                        f"Máy chủ thư {where} từ chối đăng nhập tài khoản '{settings.user}' "
                        f"(sai tài khoản hoặc mật khẩu; mã {exc.smtp_code})."
                    ) from None
                except smtplib.SMTPNotSupportedError:
                    raise AuthFailure(
                        f"Máy chủ thư {where} không cho đăng nhập (AUTH) trên kết nối này; "
                        "kiểm tra CCHC_SMTP_SECURITY."
                    ) from None
            code, reply = smtp.mail(_envelope_sender(msg))
            if code != 250:
                smtp.rset()
                raise ServerRefused(
                    f"Máy chủ thư {where} từ chối nhận thư từ người gửi {_envelope_sender(msg)} "
                    f"(mã {code}: {_text(reply)})."
                )
            refused = {}
            for rcpt in recipients:
                code, reply = smtp.rcpt(rcpt)
                if code not in (250, 251):
                    refused[rcpt] = (code, _text(reply))
            if refused:
                smtp.rset()  # nobody gets a copy, so nothing counts as sent
                detail = "; ".join(f"{a} (mã {c}: {r})" for a, (c, r) in refused.items())
                raise RecipientRejected(
                    f"Máy chủ thư {where} từ chối người nhận: {detail}. Thư chưa được gửi cho ai.", refused
                )
            code, reply = smtp.data(_wire_bytes(msg))
            if code != 250:
                raise ServerRefused(f"Máy chủ thư {where} từ chối nội dung thư (mã {code}: {_text(reply)}).")
    except MailError:
        raise
    except smtplib.SMTPResponseException as exc:
        raise ServerRefused(
            f"Máy chủ thư {where} từ chối (mã {exc.smtp_code}: {_text(exc.smtp_error)})."
        ) from None
    except ssl.SSLError as exc:
        raise TlsFailure(
            f"Không thiết lập được kết nối an toàn (TLS) với {where}: {exc.reason or exc}. "
            "Nếu máy chủ dùng chứng chỉ nội bộ, đặt CCHC_SMTP_CAFILE."
        ) from None
    except (smtplib.SMTPServerDisconnected, OSError) as exc:
        raise ServerUnavailable(f"Mất kết nối với máy chủ thư {where} ({_os_reason(exc)}).") from None
    log.info("Đã gửi thư %s tới %d người nhận", msg["Message-ID"], len(recipients))


def _login(smtp: smtplib.SMTP, user: str, password: str) -> None:
    """smtplib encodes credentials as ASCII, so a Vietnamese password with diacritics would
    crash it; AUTH PLAIN carries UTF-8 (RFC 4616), so use it for such credentials."""
    if (user + password).isascii():
        smtp.login(user, password)
        return
    smtp.ehlo_or_helo_if_needed()
    if not smtp.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("AUTH")
    token = base64.b64encode(b"\0" + user.encode("utf-8") + b"\0" + password.encode("utf-8")).decode("ascii")
    code, reply = smtp.docmd("AUTH", "PLAIN " + token)
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _os_reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "kết nối bị từ chối"
    if isinstance(exc, socket.timeout | TimeoutError):
        return "hết thời gian chờ"
    if isinstance(exc, socket.gaierror):
        return "không phân giải được tên máy chủ"
    return str(exc) or type(exc).__name__


def send_reports(
    reports: Sequence[Path],
    *,
    to: Sequence[str],
    cc: Sequence[str] = (),
    settings: Settings,
    processed_dir: Path,
    subject: str | None = None,
    dry_run: Path | None = None,
    summaries: Sequence[PeriodSummary] | None = None,
) -> EmailMessage:
    """Build the message for ``reports`` and send it (or write it to ``dry_run``)."""
    reports = [Path(r) for r in reports]
    if summaries is None:
        periods = sorted({report_period(r) for r in reports}, key=lambda p: (p.year, p.n_months, p.number))
        summaries = load_summaries(periods, processed_dir)
    msg = build_message(
        reports,
        summaries,
        to=to,
        cc=cc,
        mail_from=settings.mail_from,
        subject=subject,
        max_bytes=settings.max_message_bytes,
    )
    if dry_run is not None:
        write_eml(msg, dry_run)
    else:
        deliver(msg, settings)
    return msg
