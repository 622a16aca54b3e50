"""Settings: one frozen value, built from CLI flags, CSMS_* environment variables and a TOML
configuration file (docs/configuration.md). Precedence: flag > environment > file > default.

Every source is parsed strictly: an unknown key or a bad value is an error naming the flag,
variable or key and the value. Nothing else in the project reads os.environ or the file; the
settings are passed down explicitly.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any


class UnknownChargePoints(StrEnum):
    """What to do with a charge point id the CSMS does not know (J 3.2, errata 3.68)."""

    # register it as Pending on first connection: its BootNotification is answered Pending
    # (spec 4.2) until an operator sets it Accepted
    PENDING = "pending"
    ACCEPT = "accept"  # register it as Accepted on first connection
    REJECT = "reject"  # refuse the WebSocket upgrade with HTTP 404


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    host: str = "127.0.0.1"
    ocpp_port: int = 9000
    http_port: int = 8080
    database: str = "sqlite+aiosqlite:///csms.db"
    # Bearer token of the operator API; None = a random one is made at start-up and logged.
    api_token: str | None = None
    unknown_charge_points: UnknownChargePoints = UnknownChargePoints.PENDING
    # BootNotification.conf interval when Accepted (spec 4.2) ...
    heartbeat_interval: int = 300
    # ... and when Pending or Rejected: the minimum wait before the next BootNotification.
    boot_retry_interval: int = 60
    # WebSocket ping liveness (J 5.3): ping every N s, drop the connection after M s unanswered.
    ping_interval: float = 30.0
    ping_timeout: float = 20.0
    # The "OCPP response timeout" (J 4.1.1, catalogue 6): how long a CALL of ours waits.
    call_timeout: float = 30.0
    # wss:// (security profile 2) when both are given.
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # Security profile 3 (features/security/, docs/security.md): on wss:// client certificates
    # are asked for (not required) and trusted when issued by the built-in CA or by a CA of
    # this PEM file; the CA's own certificate and key (default: made in data_dir/ca on first
    # start) and how long the certificates it issues are valid.
    tls_client_ca: Path | None = None
    ca_cert: Path | None = None
    ca_key: Path | None = None
    certificate_days: int = 365
    # Certification mode: the CSMS sends no CALL on its own, only operator commands (OCTT quirk).
    certification_mode: bool = False
    # Automation outside certification mode, each piece switchable:
    # read a charge point's whole configuration after each Accepted BootNotification.
    fetch_configuration_on_boot: bool = True
    # A ReserveNow without an expiryDate expires this many seconds after it is sent (TC_047's
    # "Configured Expiry Date Offset").
    reservation_expiry_offset: int = 900
    # keep local authorization lists up to date: after id tag and policy changes, after boots.
    sync_local_lists: bool = True
    # Firmware and diagnostics files (spec 8): kept under this directory ...
    data_dir: Path = Path("data")
    # ... diagnostics uploads received over FTP on this port (0 = any free port; off = no FTP)
    # ... announced in ftp:// locations with this address (default: the address the charge
    # point reached the CSMS on) ...
    ftp_port: int | None = 2121
    ftp_host: str | None = None
    # ... HTTP links for charge points (firmware downloads, diagnostics uploads) start with this
    # base URL (default: http://<that address>:<http_port>) ...
    public_url: str | None = None
    # ... and stay valid this many seconds after the window the request allows.
    file_link_ttl: int = 3600
    # A firmware/diagnostics job without news this many seconds after its last allowed attempt
    # times out; the sweeper looks every file_job_sweep_interval seconds.
    file_job_grace: int = 3600
    file_job_sweep_interval: float = 30.0
    # Site load management (features/load_management/; never in certification mode): keep
    # each load group within its limit with TxProfiles at this stack level (or the charge
    # point's ChargeProfileMaxStackLevel if lower) and a fallback TxDefaultProfile one below;
    # events coming within load_debounce seconds are handled together.
    load_management: bool = True
    load_stack_level: int = 8
    load_debounce: float = 0.005
    # A connected charge point that did not answer a profile is tried again after this long.
    load_retry_interval: float = 30.0
    # Input limits (docs/field-behaviour.md, "Input limits and ids"): DataTransfer data kept
    # at most (UTF-8 bytes; more is refused with PropertyConstraintViolation) ...
    data_transfer_max_bytes: int = 64 * 1024
    # ... operator API request bodies (413 above), and uploaded files (firmware images,
    # diagnostics over HTTP) ...
    api_max_body_bytes: int = 1024 * 1024
    file_max_body_bytes: int = 1024 * 1024 * 1024
    # ... and how long shutdown waits for API calls in progress before cancelling them.
    shutdown_grace: float = 5.0
    # Console sessions (docs/console.md) end this many seconds after sign-in.
    session_ttl: float = 12 * 3600.0
    # The message log (docs/message-log.md): every OCPP frame in and out, kept this many days
    # (0 = no log); at most message_log_queue rows wait to be written (more are dropped).
    message_log_days: int = 7
    message_log_queue: int = 50_000
    # The audit log (docs/console.md) keeps operator actions this many days (0 = for ever).
    audit_log_days: int = 365
    # Logs of `csms serve` as text or JSON lines (logs.py, docs/operating.md).
    log_format: str = "text"
    # A bearer token GET /metrics needs; None = /metrics is public like /health and /ready.
    metrics_token: str | None = None
    # Events and webhooks (docs/events-and-webhooks.md): outbox events every subscription has
    # been given are kept this many days (also for GET /api/v1/events/outbox); dead letters
    # this many days after their last attempt.
    event_retention_days: int = 7
    webhook_dead_letter_days: int = 30
    # Webhook delivery: seconds per POST; POSTs in flight per subscription; a failing event is
    # retried (exponential backoff with jitter, from the min to the max interval) for at least
    # webhook_retry_window seconds, then dead-lettered; new events looked for this often.
    webhook_timeout: float = 10.0
    webhook_concurrency: int = 4
    webhook_retry_window: float = 86400.0
    webhook_retry_min_interval: float = 1.0
    webhook_retry_max_interval: float = 3600.0
    webhook_poll_interval: float = 1.0
    # Alerts (docs/events-and-webhooks.md, "Alerts"): a charge point offline longer than this
    # many minutes (0 = never); more than this many boots within an hour (0 = never); checked
    # every alert_check_interval seconds.
    alert_offline_minutes: float = 10.0
    alert_boot_loop_boots: int = 5
    alert_check_interval: float = 30.0
    # Dates after 2037-12-31T23:59:59Z sent to charge points (docs/charger-compatibility.md):
    # capped for the charge points whose charger profile says so (profile), always or never.
    cap_dates: str = "profile"

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


_CAP_DATES = ("profile", "always", "never")


def from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """The settings given as CSMS_<NAME> variables (e.g. CSMS_OCPP_PORT=9000), converted."""
    values: dict[str, Any] = {}
    for field in dataclasses.fields(Settings):
        variable = f"CSMS_{field.name.upper()}"
        raw = environ.get(variable)
        if raw is not None:
            try:
                values[field.name] = convert(field.name, raw)
            except ValueError as exc:
                raise ValueError(f"{variable}={raw!r}: {exc}") from None
    return values


def convert(name: str, raw: str) -> Any:
    """Convert a setting's text form to its type; ValueError names what is wrong."""
    kind = {f.name: f.type for f in dataclasses.fields(Settings)}[name]
    if kind == "int":
        return int(raw)
    if kind == "float":
        return float(raw)
    if kind == "bool":
        # Strict: a typo ("ture") must not silently switch a setting off.
        word = raw.strip().lower()
        if word not in ("true", "false"):
            raise ValueError("expected true or false")
        return word == "true"
    if kind == "Path | None":
        return Path(raw) if raw else None
    if kind == "Path":
        return Path(raw)
    if kind == "int | None":
        return None if raw.strip().lower() in ("", "off", "none") else int(raw)
    if kind == "UnknownChargePoints":
        return UnknownChargePoints(raw.strip().lower())
    return _checked_text(name, raw)


def _checked_text(name: str, raw: str) -> str:
    if name == "cap_dates":
        if raw.strip().lower() not in _CAP_DATES:
            raise ValueError(f"expected one of {', '.join(_CAP_DATES)}")
        return raw.strip().lower()
    return raw


def from_file(path: Path) -> dict[str, Any]:
    """The settings of a TOML file (top-level keys named like the fields, e.g. ocpp_port =
    9000), converted. ValueError names the file, the key and what is wrong."""
    try:
        with path.open("rb") as file:
            document = tomllib.load(file)
    except OSError as exc:
        raise ValueError(f"{path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from None
    kinds = {f.name: f.type for f in dataclasses.fields(Settings)}
    values: dict[str, Any] = {}
    for key, value in document.items():
        if key not in kinds:
            raise ValueError(f"{path}: unknown key {key!r}")
        try:
            values[key] = _from_toml(key, str(kinds[key]), value)
        except ValueError as exc:
            raise ValueError(f"{path}: {key} = {value!r}: {exc}") from None
    return values


def _from_toml(name: str, kind: str, value: Any) -> Any:
    """A TOML value of a setting: the TOML type must match (a port is a number, a switch
    true or false); text goes through the same conversion as flags and variables."""
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError("expected true or false")
        return value
    if kind in ("int", "int | None", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError("expected a number")
        if isinstance(value, float) and kind != "float":
            raise ValueError("expected a whole number")
        if isinstance(value, str) and kind != "int | None":
            raise ValueError("expected a number")
        return convert(name, str(value))
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return convert(name, value)


# Settings never shown as they are (`csms config`): the whole value, or the URL's password.
SECRETS = frozenset({"api_token"})
_URL_PASSWORD = re.compile(r"(?<=://)([^:/@]*):([^@]*)@")


def shown(settings: Settings) -> dict[str, Any]:
    """The settings as TOML-ready values for display, secrets masked; None values left out."""
    values: dict[str, Any] = {}
    for field in dataclasses.fields(settings):
        value = getattr(settings, field.name)
        if value is None:
            continue
        if field.name in SECRETS:
            value = "***"
        elif isinstance(value, str):
            value = _URL_PASSWORD.sub(r"\1:***@", value)
        if isinstance(value, Path | StrEnum):
            value = str(value)
        values[field.name] = value
    return values


def api_url(environ: Mapping[str, str]) -> str:
    """The operator API a `csms` client command talks to by default: the server's host and
    http_port from the same CSMS_* variables and CSMS_CONFIG file as `csms serve`."""
    values: dict[str, Any] = {}
    if config := environ.get("CSMS_CONFIG"):
        values.update(from_file(Path(config)))
    values.update(from_environment(environ))
    settings = Settings().replace(**values)
    host = settings.host if settings.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.http_port}/api/v1"
