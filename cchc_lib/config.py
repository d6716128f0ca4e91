"""Where things are and whose reports they are: every path, the agency profile, the mail settings.

Paths: everything the package ships (notebooks, templates, targets, profiles) is found from this
file's folder, so an installed (non-editable) cchc finds it too; the working folders of a run
(``data/raw``, ``data/processed``, ``reports``) are relative to where it runs.

The agency profile (:class:`AgencyProfile`): the agency's name, province, plan, units and
targets, from one TOML file (``profiles/default.toml``; another with ``--profile FILE`` or the
environment variable ``CCHC_PROFILE``, which the report kernels inherit).

Settings for mailing reports and the unattended monthly job:

Sources, later ones winning: built-in defaults, a TOML file (``cchc.toml`` in the working
directory, or the file given with ``--config``), then environment variables. The file uses the
same keys as the environment (``CCHC_SMTP_HOST = "mail.example.vn"``; the ``CCHC_`` prefix and the
case are optional, so ``smtp_host`` works too) plus a ``[recipients]`` table with ``to`` and
``cc`` lists for the monthly job.

The password is held in a field that never appears in ``repr``/``str`` and is never logged.
"""

from __future__ import annotations

import datetime
import os
import ssl
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

# -- paths ---------------------------------------------------------------------------------------

PACKAGE_DIR = Path(__file__).resolve().parent
NOTEBOOKS_DIR = PACKAGE_DIR / "publish" / "notebooks"  # the papermill templates (package data)
REPORT_NOTEBOOK = NOTEBOOKS_DIR / "report.ipynb"
PLAN_NOTEBOOK = NOTEBOOKS_DIR / "plan.ipynb"
TEMPLATES_DIR = PACKAGE_DIR / "publish" / "templates"  # nbconvert theme + HTML fragments
FRAGMENTS_DIR = TEMPLATES_DIR / "fragments"
VENDOR_DIR = PACKAGE_DIR / "vendor"
PROFILES_DIR = PACKAGE_DIR / "profiles"
DEFAULT_PROFILE = PROFILES_DIR / "default.toml"
EXAMPLE_PROFILE = PROFILES_DIR / "example-so-tu-phap" / "profile.toml"
PROFILE_ENV = "CCHC_PROFILE"

DEFAULT_RAW = Path("data/raw")
DEFAULT_PROCESSED = Path("data/processed")
DEFAULT_REPORTS = Path("reports")


class ConfigError(ValueError):
    """A setting that is missing or malformed (message in Vietnamese)."""


# -- the agency profile ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AgencyProfile:
    """Who the reports are for and what they are measured against (see ``profiles/default.toml``)."""

    name: str
    short_name: str
    province: str
    superior: str
    sender: str
    greeting: str
    plan_number: str
    plan_date: str
    targets_dir: Path
    plan_tasks_dir: Path | None
    units: tuple[str, ...]
    index_indicators: tuple[tuple[str, str], ...]
    mail_indicators: tuple[str, ...]
    path: Path


_PROFILE_KEYS = {"name", "short_name", "province", "superior", "sender", "greeting", "plan_number",
                 "plan_date", "targets", "plan_tasks", "units", "key_indicators"}


def _check_profile_shape(raw: dict[str, Any], keys: object, path: Path) -> None:
    """ConfigError naming the key whose value has the wrong shape: ``units`` and
    ``key_indicators.mail`` lists of texts, ``key_indicators.index`` a list of [id, heading]
    pairs (a text where a list goes would otherwise be read letter by letter)."""
    def fail(key: str, shape: str) -> ConfigError:
        return ConfigError(f"Tệp hồ sơ cơ quan {path}: khóa {key} phải là {shape}.")

    if not isinstance(keys, dict) or set(keys) - {"index", "mail"}:
        raise fail("key_indicators", "một bảng [key_indicators] chỉ gồm index và mail")
    for key, value in (("units", raw.get("units", [])), ("key_indicators.mail", keys.get("mail", []))):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise fail(key, 'một danh sách tên ["...", "..."]')
    index = keys.get("index", [])
    pairs = isinstance(index, list) and all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(v, str) for v in pair) for pair in index)
    if not pairs:
        raise fail("key_indicators.index", 'một danh sách cặp ["mã chỉ tiêu", "tiêu đề cột"]')


def load_profile(path: str | Path | None = None) -> AgencyProfile:
    """The profile in ``path`` (default: ``$CCHC_PROFILE``, else the packaged ``default.toml``).
    Raises :class:`ConfigError` naming the file and the key that is missing or unknown."""
    path = Path(path or os.environ.get(PROFILE_ENV) or DEFAULT_PROFILE).expanduser().resolve()
    raw = _read_toml(path, "tệp hồ sơ cơ quan (profile)", "Tệp hồ sơ cơ quan")
    unknown = set(raw) - _PROFILE_KEYS
    if unknown:
        raise ConfigError(f"Khóa không được hỗ trợ trong {path}: {', '.join(sorted(unknown))}. "
                          f"Các khóa hợp lệ: {', '.join(sorted(_PROFILE_KEYS))}.")
    missing = sorted({"name", "plan_number", "targets"} - set(raw))
    if missing:
        raise ConfigError(f"Tệp hồ sơ cơ quan {path} thiếu khóa: {', '.join(missing)}.")
    base = path.parent
    keys = raw.get("key_indicators", {})
    _check_profile_shape(raw, keys, path)
    targets_dir = (base / str(raw["targets"])).resolve()
    plan_tasks_dir = (base / str(raw["plan_tasks"])).resolve() if raw.get("plan_tasks") else None
    for key, folder in (("targets", targets_dir), ("plan_tasks", plan_tasks_dir)):
        if folder is not None and not folder.is_dir():
            # A mistyped folder would leave every indicator "without a target", silently.
            raise ConfigError(f"Tệp hồ sơ cơ quan {path}: không có thư mục {folder} (khóa {key}).")
    date = raw.get("plan_date")
    name = str(raw["name"])
    return AgencyProfile(
        name=name,
        short_name=str(raw.get("short_name", name)),
        province=str(raw.get("province", "")),
        superior=str(raw.get("superior", "")),
        sender=str(raw.get("sender", "Văn phòng")),
        greeting=str(raw.get("greeting", "Kính gửi Lãnh đạo và các đồng chí,")),
        plan_number=str(raw["plan_number"]),
        plan_date=date.strftime("%d/%m/%Y") if isinstance(date, datetime.date) else str(date or ""),
        targets_dir=targets_dir,
        plan_tasks_dir=plan_tasks_dir,
        units=tuple(str(u) for u in raw.get("units", ())),
        index_indicators=tuple((str(i), str(h)) for i, h in keys.get("index", ())),
        mail_indicators=tuple(str(i) for i in keys.get("mail", ())),
        path=path,
    )


_PROFILES: dict[str, AgencyProfile] = {}


def profile() -> AgencyProfile:
    """The profile of this run (``$CCHC_PROFILE`` or the default), read once per file."""
    key = os.environ.get(PROFILE_ENV) or str(DEFAULT_PROFILE)
    if key not in _PROFILES:
        _PROFILES[key] = load_profile(key)
    return _PROFILES[key]


def use_profile(path: str | Path) -> AgencyProfile:
    """Make ``path`` this run's profile (and that of the report kernels it starts)."""
    chosen = load_profile(path)
    os.environ[PROFILE_ENV] = str(chosen.path)
    _PROFILES[str(chosen.path)] = chosen
    return chosen


# -- mail settings ----------------------------------------------------------------------------------

Security = Literal["none", "starttls", "ssl"]
SECURITY_CHOICES: tuple[str, ...] = ("none", "starttls", "ssl")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
DEFAULT_CONFIG_NAME = "cchc.toml"
DEFAULT_MAX_MESSAGE_MB = 10.0

# Canonical key -> attribute. Every key is accepted from the environment and from the file.
_KEYS = {
    "CCHC_SMTP_HOST": "host",
    "CCHC_SMTP_PORT": "port",
    "CCHC_SMTP_SECURITY": "security",
    "CCHC_SMTP_USER": "user",
    "CCHC_SMTP_PASSWORD": "password",
    "CCHC_SMTP_CAFILE": "cafile",
    "CCHC_SMTP_VERIFY": "verify",
    "CCHC_SMTP_TIMEOUT": "timeout",
    "CCHC_MAIL_FROM": "mail_from",
    "CCHC_MAIL_TO": "to",
    "CCHC_MAIL_CC": "cc",
    "CCHC_MAX_MESSAGE_MB": "max_message_mb",
}
_TRUE = {"1", "true", "yes", "on", "có"}
_FALSE = {"0", "false", "no", "off", "không"}


@dataclass(frozen=True)
class Settings:
    host: str | None = None
    port: int | None = None
    security: Security = "starttls"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    cafile: Path | None = None
    verify: bool = True
    timeout: float = 30.0
    mail_from: str | None = None
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    max_message_mb: float = DEFAULT_MAX_MESSAGE_MB
    source: str = "mặc định"
    warnings: tuple[str, ...] = ()

    def __repr__(self) -> str:
        # Written by hand so the password can never leak through a traceback or a log line.
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "password":
                value = "***" if value else None
            shown.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(shown)})"

    __str__ = __repr__

    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.security]

    @property
    def max_message_bytes(self) -> int:
        """The size limit in bytes (1 MB = 1024 x 1024 bytes)."""
        return int(self.max_message_mb * 1024 * 1024)

    def ssl_context(self) -> ssl.SSLContext:
        """TLS context for STARTTLS/SSL: system CAs, or ``cafile`` (e.g. an internal CA or a
        self-signed server certificate); ``verify = false`` turns checking off (tests only)."""
        context = ssl.create_default_context(cafile=str(self.cafile) if self.cafile else None)
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def require_sender(self) -> None:
        """Raise ConfigError unless everything needed to reach a server is set."""
        if not self.host:
            raise ConfigError(
                "Chưa cấu hình máy chủ thư: đặt biến môi trường CCHC_SMTP_HOST "
                "hoặc khóa CCHC_SMTP_HOST trong tệp cchc.toml."
            )
        if not self.mail_from:
            raise ConfigError("Chưa cấu hình địa chỉ người gửi: đặt CCHC_MAIL_FROM.")
        if self.user and not self.password:
            raise ConfigError(
                f"Có tài khoản thư ({self.user}) nhưng chưa có mật khẩu: đặt CCHC_SMTP_PASSWORD."
            )


def _canonical(key: str) -> str:
    upper = key.strip().upper()
    return upper if upper.startswith("CCHC_") else f"CCHC_{upper}"


def _addresses(value: object, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        items = value.replace(";", ",").split(",")
    elif isinstance(value, list | tuple):
        items = [str(v) for v in value]
    else:
        raise ConfigError(f"Giá trị của {key} phải là danh sách địa chỉ thư.")
    return tuple(item.strip() for item in items if item.strip())


def _convert(attr: str, key: str, value: object) -> object:
    """Turn a raw string (env) or TOML value into the attribute's type."""
    text = str(value).strip() if not isinstance(value, list | tuple) else ""
    try:
        if attr == "port":
            return int(value)  # type: ignore[arg-type,call-overload]
        if attr in {"timeout", "max_message_mb"}:
            number = float(str(value).replace(",", "."))
            if number <= 0:
                raise ValueError
            return number
    except (TypeError, ValueError):
        raise ConfigError(f"Giá trị không hợp lệ cho {key}: '{value}' (cần một số dương).") from None
    if attr == "security":
        lowered = text.lower()
        if lowered not in SECURITY_CHOICES:
            raise ConfigError(
                f"Giá trị không hợp lệ cho {key}: '{value}'. Chọn một trong: none, starttls, ssl."
            )
        return lowered
    if attr == "verify":
        if isinstance(value, bool):
            return value
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ConfigError(f"Giá trị không hợp lệ cho {key}: '{value}' (true hoặc false).")
    if attr in {"to", "cc"}:
        return _addresses(value, key)
    if attr == "cafile":
        return Path(text).expanduser() if text else None
    return text or None


def _read_toml(path: Path, missing: str, bad: str) -> dict[str, Any]:
    """A TOML file's table, or a ConfigError naming the file (``missing``/``bad``: how the
    message names it)."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"Không tìm thấy {missing}: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{bad} {path} không đúng định dạng TOML: {exc}") from None


def _from_file(path: Path) -> dict[str, object]:
    raw = _read_toml(path, "tệp cấu hình", "Tệp cấu hình")
    values: dict[str, object] = {}
    recipients = raw.pop("recipients", None)
    if recipients is not None:
        if not isinstance(recipients, dict) or set(recipients) - {"to", "cc"}:
            raise ConfigError(f"Mục [recipients] trong {path} chỉ nhận hai khóa 'to' và 'cc'.")
        for role in ("to", "cc"):
            if role in recipients:
                values[f"CCHC_MAIL_{role.upper()}"] = recipients[role]
    for key, value in raw.items():
        canonical = _canonical(key)
        if canonical not in _KEYS:
            # Refuse unknown keys: a typo would otherwise silently fall back to a default.
            known = ", ".join(sorted(_KEYS))
            raise ConfigError(f"Khóa không được hỗ trợ trong {path}: '{key}'. Các khóa hợp lệ: {known}.")
        values[canonical] = value
    return values


def _warn_if_readable(path: Path, values: Mapping[str, object]) -> str | None:
    """A password in a file other users can read is worth a warning (returned, not printed)."""
    if "CCHC_SMTP_PASSWORD" not in values or os.name != "posix":
        return None
    mode = path.stat().st_mode
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        return f"Cảnh báo: tệp {path} chứa mật khẩu thư nhưng người khác đọc được; nên chạy chmod 600 {path}."
    return None


def load_settings(
    config: Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Defaults < config file (``config`` or ``<cwd>/cchc.toml`` if present) < environment."""
    env = os.environ if env is None else env
    merged: dict[str, object] = {}
    sources: list[str] = []
    path = config
    if path is None:
        candidate = (cwd or Path.cwd()) / DEFAULT_CONFIG_NAME
        path = candidate if candidate.is_file() else None
    warning = None
    if path is not None:
        file_values = _from_file(Path(path))
        merged.update(file_values)
        sources.append(str(path))
        warning = _warn_if_readable(Path(path), file_values)
    env_values = {key: env[key] for key in _KEYS if env.get(key, "").strip()}
    if env_values:
        merged.update(env_values)
        sources.append("biến môi trường")
    kwargs = {_KEYS[key]: _convert(_KEYS[key], key, value) for key, value in merged.items()}
    return Settings(
        **kwargs,  # type: ignore[arg-type]
        source=" + ".join(sources) or "mặc định",
        warnings=(warning,) if warning else (),
    )
