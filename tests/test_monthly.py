"""`cchc monthly`: periods, the lock, the sent log, exit codes, and mail against a real SMTP
server (aiosmtpd, from test_mail). Rendering is swapped for a fast fake that writes files where
the real renderer does (``<out>/<period>/bao-cao-<period>.html``), so these tests exercise the
job's own logic; the renderer has its own tests."""

from __future__ import annotations

import hashlib
import json
import ssl
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest

from cchc_lib.cli import main
from cchc_lib.config import load_settings
from cchc_lib.periods import Period
from cchc_lib.publish import monthly
from cchc_lib.publish.jobs import report_paths
from cchc_lib.publish.runner import ReportResult
from tests.test_mail import (  # noqa: F401 - fixtures used by name
    PASSWORD,
    PLANTED,
    USER,
    Recorder,
    authenticator,
    clean_env,
    free_port,
    make_self_signed,
    smtp_server,
    summaries,
    write_small_raw,
)


class FakeRenderer:
    """Writes one small HTML per period (different bytes on every render, like the real
    report's generation time) and records the calls; ``gate`` makes it wait."""

    def __init__(self, fail: set[str] | None = None, gate: threading.Event | None = None):
        self.calls: list[list[str]] = []
        self.indexed: list[int] = []
        self.fail = fail or set()
        self.gate = gate
        self.started = threading.Event()

    def render(self, periods, processed, out):
        self.calls.append([p.code for p in periods])
        self.started.set()
        if self.gate is not None:
            assert self.gate.wait(30)
        results = []
        for period in periods:
            if period.code in self.fail:
                results.append(ReportResult(period.code, error=f"Báo cáo {period.code}: ô 7 lỗi KeyError"))
                continue
            html, _ = report_paths(period, Path(out))
            html.parent.mkdir(parents=True, exist_ok=True)
            html.write_text(
                f'<html lang="vi"><body><h1>{period.label_vi}</h1><p>lần {len(self.calls)}</p></body></html>',
                encoding="utf-8",
            )
            results.append(ReportResult(period.code, html=html, size=html.stat().st_size))
        return results

    def index(self, out, year, processed, results):
        self.indexed.append(year)
        (Path(out) / "index.html").write_text("<html></html>", encoding="utf-8")


@pytest.fixture
def job(tmp_path, monkeypatch, summaries):  # noqa: F811
    """Fake ingest + renderer; returns (renderer, paths dict)."""
    renderer = FakeRenderer()
    ingested = []
    monkeypatch.setattr(monthly, "ingest", lambda raw, processed: ingested.append((raw, processed)))
    monkeypatch.setattr(monthly, "render", renderer.render)
    monkeypatch.setattr(monthly, "update_index", renderer.index)
    dirs = {"raw": tmp_path / "raw", "processed": tmp_path / "processed", "out": tmp_path / "reports"}
    renderer.ingested = ingested
    return renderer, dirs


def write_config(path: Path, port: int, to: list[str], cc: list[str] = (), extra: str = "") -> Path:
    path.write_text(
        f'CCHC_SMTP_HOST = "127.0.0.1"\nCCHC_SMTP_PORT = {port}\nCCHC_SMTP_SECURITY = "none"\n'
        f'CCHC_MAIL_FROM = "cchc@skhdt.tuyenquang.gov.vn"\nCCHC_SMTP_TIMEOUT = 10\n{extra}'
        f"[recipients]\nto = {json.dumps(to)}\ncc = {json.dumps(list(cc))}\n",
        encoding="utf-8",
    )
    return path


def monthly_args(dirs, config: Path | None, *extra: str) -> list[str]:
    args = ["monthly", "--raw", str(dirs["raw"]), "--processed", str(dirs["processed"])]
    args += ["--out", str(dirs["out"])]
    if config is not None:
        args += ["--config", str(config)]
    return [*args, *extra]


def sent_log(dirs) -> list[dict]:
    path = dirs["out"] / "sent-log.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# -- periods -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "expected"),
    [(date(2023, 4, 1), "2023-03"), (date(2023, 4, 30), "2023-03"), (date(2024, 1, 5), "2023-12")],
)
def test_last_complete_month(today, expected):
    assert monthly.last_complete_month(today).code == expected


@pytest.mark.parametrize(
    ("month", "expected"),
    [
        ("2023-05", ["2023-05"]),
        ("2023-03", ["2023-03", "2023-Q1"]),
        ("2023-09", ["2023-09", "2023-Q3"]),
        ("2023-12", ["2023-12", "2023-Q4", "2023"]),
    ],
)
def test_periods_for_month(month, expected):
    assert [p.code for p in monthly.periods_for_month(Period.parse(month))] == expected


def test_month_flag_rejects_a_quarter(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["monthly", "--month", "2023-Q1"])
    assert exit_info.value.code == 2
    assert "Cần một tháng" in capsys.readouterr().err


def test_default_month_is_last_complete_month(job):
    renderer, dirs = job
    options = monthly.MonthlyOptions(raw=dirs["raw"], processed=dirs["processed"], out=dirs["out"])
    result = monthly.run_monthly(options, load_settings(env={}), today=date(2024, 1, 5))
    assert result.outcome is monthly.Outcome.DONE and result.month == Period("month", 2023, 12)
    assert renderer.calls == [["2023-12", "2023-Q4", "2023"]]
    assert renderer.indexed == [2023]
    assert [p.name for p in result.reports] == [
        "bao-cao-2023-12.html",
        "bao-cao-2023-Q4.html",
        "bao-cao-2023.html",
    ]


# -- sending once --------------------------------------------------------------------------------


def test_send_once_rerun_sends_nothing_force_resends_new_recipient_gets_it(tmp_path, job, smtp_server):  # noqa: F811
    renderer, dirs = job
    recorder, port = smtp_server()
    config = write_config(tmp_path / "cchc.toml", port, ["giamdoc@skhdt.vn"], ["vanphong@skhdt.vn"])
    args = monthly_args(dirs, config, "--month", "2023-03", "--send")

    assert main(args) == 0
    assert len(recorder.messages) == 1
    _, rcpts, message, _ = recorder.messages[0]
    assert rcpts == ["giamdoc@skhdt.vn", "vanphong@skhdt.vn"]
    month_html = dirs["out"] / "2023-03" / "bao-cao-2023-03.html"
    quarter_html = dirs["out"] / "2023-Q1" / "bao-cao-2023-Q1.html"
    parts = list(message.iter_attachments())
    assert [p.get_filename() for p in parts] == ["bao-cao-2023-03.html", "bao-cao-2023-Q1.html"]
    assert parts[0].get_payload(decode=True) == month_html.read_bytes()
    assert parts[1].get_payload(decode=True) == quarter_html.read_bytes()
    body = message.get_body(("html",)).get_content()
    assert "Tháng 3/2023" in body and "Quý I/2023" in body
    entries = sent_log(dirs)
    assert [e["report"] for e in entries] == ["2023-03/bao-cao-2023-03.html", "2023-Q1/bao-cao-2023-Q1.html"]
    assert entries[0]["sha256"] == hashlib.sha256(month_html.read_bytes()).hexdigest()
    assert entries[0]["recipients"] == ["giamdoc@skhdt.vn", "vanphong@skhdt.vn"]
    assert entries[0]["message_id"] == message["Message-ID"]

    # Re-run: re-rendered (new bytes), nothing mailed, nothing logged.
    first_bytes = month_html.read_bytes()
    assert main(args) == 0
    assert len(renderer.calls) == 2 and month_html.read_bytes() != first_bytes
    assert len(recorder.messages) == 1 and len(sent_log(dirs)) == 2

    # --force sends again to everyone.
    assert main([*args, "--force"]) == 0
    assert len(recorder.messages) == 2 and len(sent_log(dirs)) == 4
    assert sent_log(dirs)[2]["forced"] is True

    # A recipient added later gets the reports; the others are not mailed again.
    write_config(config, port, ["giamdoc@skhdt.vn", "pho@skhdt.vn"], ["vanphong@skhdt.vn"])
    assert main(args) == 0
    assert len(recorder.messages) == 3
    assert recorder.messages[2][1] == ["pho@skhdt.vn"]
    assert main(args) == 0
    assert len(recorder.messages) == 3


@pytest.mark.parametrize("failure", ["down", "refuse", "reject"])
def test_mail_failure_keeps_reports_and_marks_nothing_sent(tmp_path, job, smtp_server, capsys, failure):  # noqa: F811
    renderer, dirs = job
    if failure == "down":
        recorder, port = Recorder(), free_port()
    else:
        handler = Recorder(refuse_mail=True) if failure == "refuse" else Recorder(reject_rcpt={"x@skhdt.vn"})
        recorder, port = smtp_server(handler)
    config = write_config(tmp_path / "cchc.toml", port, ["giamdoc@skhdt.vn", "x@skhdt.vn"])
    assert main(monthly_args(dirs, config, "--month", "2023-06", "--send")) == 4
    err = capsys.readouterr().err
    expected = {
        "down": "Không kết nối được máy chủ thư",
        "refuse": "từ chối nhận thư từ người gửi",
        "reject": "từ chối người nhận: x@skhdt.vn",
    }[failure]
    assert expected in err
    assert (dirs["out"] / "2023-06" / "bao-cao-2023-06.html").is_file()
    assert (dirs["out"] / "2023-Q2" / "bao-cao-2023-Q2.html").is_file()
    assert sent_log(dirs) == [] and recorder.messages == []

    # Once the server is fixed, the same month goes out (nothing was marked sent).
    good, good_port = smtp_server()
    write_config(config, good_port, ["giamdoc@skhdt.vn", "x@skhdt.vn"])
    assert main(monthly_args(dirs, config, "--month", "2023-06", "--send")) == 0
    assert len(good.messages) == 1 and len(sent_log(dirs)) == 2


def test_auth_over_starttls_and_log_has_no_password_or_personal_data(tmp_path, monkeypatch, smtp_server):  # noqa: F811
    """Real ingest of raw data with planted personal data; fake render; STARTTLS + AUTH."""
    renderer = FakeRenderer()
    monkeypatch.setattr(monthly, "render", renderer.render)
    monkeypatch.setattr(monthly, "update_index", renderer.index)
    cert, key = make_self_signed(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    recorder, port = smtp_server(
        tls_context=server_ctx, require_starttls=True, auth_required=True, authenticator=authenticator
    )
    dirs = {"raw": tmp_path / "raw", "processed": tmp_path / "processed", "out": tmp_path / "reports"}
    write_small_raw(dirs["raw"])
    extra = f'CCHC_SMTP_USER = "{USER}"\nCCHC_SMTP_CAFILE = "{cert}"\n'
    config = write_config(tmp_path / "cchc.toml", port, ["giamdoc@skhdt.vn"], extra=extra)
    config.write_text(config.read_text(encoding="utf-8").replace('"none"', '"starttls"'), encoding="utf-8")
    monkeypatch.setenv("CCHC_SMTP_PASSWORD", PASSWORD)
    assert main(monthly_args(dirs, config, "--month", "2023-03", "--send")) == 0
    (_, _, message, raw) = recorder.messages[0]
    # the plan's online reading (issue 12): resolved #1 online, #2 in person -> 1/2
    assert "Tỷ lệ hồ sơ giải quyết theo dịch vụ công trực tuyến: 50,0%" in message.get_body(
        ("plain",)).get_content()

    # A failing login is logged too: still without the password.
    monkeypatch.setenv("CCHC_SMTP_PASSWORD", "sai-" + PASSWORD)
    assert main(monthly_args(dirs, config, "--month", "2023-03", "--send", "--force")) == 4
    log_text = (dirs["out"] / "cchc-monthly.log").read_text(encoding="utf-8")
    assert "từ chối đăng nhập" in log_text
    everything = log_text + (dirs["out"] / "sent-log.jsonl").read_text(encoding="utf-8") + raw.decode("ascii")
    assert PASSWORD not in everything
    for value in PLANTED:
        assert value not in everything


# -- exit codes for the other failures -----------------------------------------------------------


def test_ingest_failure_exits_1_and_renders_nothing(tmp_path, monkeypatch, summaries, capsys):  # noqa: F811
    renderer = FakeRenderer()
    monkeypatch.setattr(monthly, "render", renderer.render)
    dirs = {"raw": tmp_path / "khong-co", "processed": tmp_path / "p", "out": tmp_path / "reports"}
    assert main(monthly_args(dirs, None, "--month", "2023-03")) == 1  # the real ingest, no raw folder
    assert "Lỗi nhập dữ liệu" in capsys.readouterr().err
    assert renderer.calls == []


def test_render_failure_exits_3_and_sends_nothing(tmp_path, job, smtp_server, capsys):  # noqa: F811
    renderer, dirs = job
    renderer.fail = {"2023-Q1"}
    recorder, port = smtp_server()
    config = write_config(tmp_path / "cchc.toml", port, ["giamdoc@skhdt.vn"])
    assert main(monthly_args(dirs, config, "--month", "2023-03", "--send")) == 3
    assert "ô 7 lỗi KeyError" in capsys.readouterr().err
    assert recorder.messages == [] and sent_log(dirs) == []
    assert renderer.indexed == [2023]  # the index still links what did render


def test_send_without_mail_settings_is_a_usage_error_before_any_work(tmp_path, job, capsys):
    renderer, dirs = job
    assert main(monthly_args(dirs, None, "--month", "2023-03", "--send")) == 2
    assert "CCHC_SMTP_HOST" in capsys.readouterr().err
    assert renderer.ingested == [] and renderer.calls == []


def test_a_misspelt_target_is_a_usage_error_before_any_work(tmp_path, job, capsys, monkeypatch):
    from cchc_lib import config as cfg
    from tests.test_targets import profile_with_targets

    renderer, dirs = job
    targets = tmp_path / "targets"
    targets.mkdir()
    (targets / "2023.yaml").write_text("indicators:\n  ontime_rat:\n    op: '>='\n    target: 1.0\n",
                                       encoding="utf-8")
    monkeypatch.setenv(cfg.PROFILE_ENV, str(profile_with_targets(tmp_path, targets)))
    assert main(monthly_args(dirs, None, "--month", "2023-03")) == 2
    assert "chỉ tiêu 'ontime_rat' không có trong danh mục chỉ tiêu (có phải 'ontime_rate'?)" in \
        capsys.readouterr().err
    assert renderer.ingested == [] and renderer.calls == []


def test_send_without_recipients_is_a_usage_error(tmp_path, job, capsys):
    renderer, dirs = job
    config = write_config(tmp_path / "cchc.toml", 25, [])
    assert main(monthly_args(dirs, config, "--month", "2023-03", "--send")) == 2
    assert "Chưa cấu hình người nhận" in capsys.readouterr().err


# -- one run at a time ---------------------------------------------------------------------------


def test_concurrent_runs_second_exits_5_or_waits(tmp_path, job, smtp_server, capsys):  # noqa: F811
    renderer, dirs = job
    renderer.gate = threading.Event()
    recorder, port = smtp_server()
    config = write_config(tmp_path / "cchc.toml", port, ["giamdoc@skhdt.vn"])
    args = monthly_args(dirs, config, "--month", "2023-03", "--send")
    codes: dict[str, int] = {}
    first = threading.Thread(target=lambda: codes.setdefault("first", main(args)))
    first.start()
    assert renderer.started.wait(10)  # the first run is inside the lock, rendering

    assert main(args) == 5
    assert "Một lượt chạy hằng tháng khác đang chạy" in capsys.readouterr().err

    waiter = threading.Thread(target=lambda: codes.setdefault("waiter", main([*args, "--wait"])))
    waiter.start()
    time.sleep(0.5)
    assert waiter.is_alive() and len(renderer.calls) == 1  # waiting on the lock, not rendering
    renderer.gate.set()
    first.join(30)
    waiter.join(30)
    assert codes == {"first": 0, "waiter": 0}
    assert len(renderer.calls) == 2  # the waiter ran after the first finished ...
    assert len(recorder.messages) == 1  # ... and found nothing new to send
    assert len(sent_log(dirs)) == 2


def test_lock_held_by_another_process(tmp_path, job, capsys):
    renderer, dirs = job
    dirs["out"].mkdir(parents=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from cchc_lib.locks import monthly_lock\n"
            "with monthly_lock(Path(sys.argv[1])):\n"
            "    print('held', flush=True); sys.stdin.read()",
            str(dirs["out"] / ".cchc-monthly.lock"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        assert main(monthly_args(dirs, None, "--month", "2023-03")) == 5
        assert renderer.calls == []
    finally:
        holder.communicate("", timeout=10)
    # The holder exited: the lock is free again.
    assert main(monthly_args(dirs, None, "--month", "2023-03")) == 0


def test_sent_log_skips_a_torn_line(tmp_path):
    path = tmp_path / "sent-log.jsonl"
    path.write_text(
        '{"report": "2023-03/a.html", "recipients": ["A@x.vn"]}\n{"report": "2023-04/b.ht', encoding="utf-8"
    )
    assert monthly.already_sent(monthly.read_sent_log(path)) == {("2023-03/a.html", "a@x.vn")}
