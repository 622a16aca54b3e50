"""The `csms` command. Thin: parse arguments into Settings and hand them to the app."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from csms import client, logs
from csms.settings import (
    Settings,
    UnknownChargePoints,
    convert,
    from_environment,
    from_file,
    shown,
)

# Flags of `csms serve`; each is also the environment variable CSMS_<NAME>.
_SERVE_FLAGS: dict[str, str] = {
    "host": "address to listen on",
    "ocpp_port": "port of the OCPP WebSocket server (ws://HOST:PORT/ocpp/{chargePointId})",
    "http_port": "port of the operator API",
    "database": "SQLAlchemy URL: sqlite+aiosqlite:///file.db or postgresql+asyncpg://...",
    "api_token": "bearer token of the operator API (default: a random one, logged)",
    "unknown_charge_points": (
        "pending (register, boot answered Pending until an operator accepts it), "
        "accept (register as Accepted) or reject (HTTP 404)"
    ),
    "heartbeat_interval": "seconds, sent in BootNotification.conf when Accepted",
    "boot_retry_interval": "seconds, sent in BootNotification.conf when Pending/Rejected",
    "ping_interval": "seconds between WebSocket pings (0 = off)",
    "ping_timeout": "seconds without pong before a connection is dropped",
    "call_timeout": "seconds the CSMS waits for a charge point's answer (OCPP response timeout)",
    "tls_cert": "PEM certificate for wss:// (with --tls-key)",
    "tls_key": "PEM private key for wss://",
    "tls_client_ca": "PEM CA certificate(s) trusted for client certificates (profile 3)",
    "ca_cert": "PEM certificate of the charge point CA (default: data_dir/ca/ca.pem, made)",
    "ca_key": "PEM private key of the charge point CA (with --ca-cert)",
    "certificate_days": "days the charge point certificates the CA issues are valid",
    "certification_mode": "true: the CSMS sends no CALL on its own, only operator commands",
    "fetch_configuration_on_boot": "true: GetConfiguration after each Accepted boot",
    "reservation_expiry_offset": "seconds to a reservation's expiryDate when none is given",
    "sync_local_lists": "true: keep local authorization lists up to date on their own",
    "data_dir": "directory of hosted firmware images and uploaded diagnostics files",
    "ftp_port": "port of the FTP server receiving diagnostics uploads (0 = any free; off = none)",
    "ftp_host": "address put in ftp:// upload locations (default: the one the charge point used)",
    "public_url": "base URL of HTTP file links given to charge points (default: from host/port)",
    "file_link_ttl": "seconds a signed file link stays valid after the window a request allows",
    "file_job_grace": "seconds without news after which a firmware/diagnostics job times out",
    "file_job_sweep_interval": "seconds between checks for timed-out firmware/diagnostics jobs",
    "load_management": "true: keep load groups within their limits (not in certification mode)",
    "load_stack_level": "stack level of load management TxProfiles (its fallback one below)",
    "load_debounce": "seconds within which load management handles events together",
    "load_retry_interval": "seconds before a charge point that did not answer is tried again",
    "data_transfer_max_bytes": "bytes of DataTransfer data kept at most (more: refused)",
    "api_max_body_bytes": "largest operator API request body (bigger: HTTP 413)",
    "file_max_body_bytes": "largest uploaded file (firmware image, diagnostics over HTTP)",
    "shutdown_grace": "seconds shutdown waits for API calls in progress before cancelling them",
    "session_ttl": "seconds a console session lasts after sign-in",
    "message_log_days": "days every OCPP frame in and out is kept in the message log (0 = off)",
    "message_log_queue": "log rows waiting to be written at most (more are dropped, counted)",
    "audit_log_days": "days operator actions are kept in the audit log (0 = for ever)",
    "log_format": "text or json (one JSON object a line)",
    "metrics_token": "bearer token GET /metrics needs (default: none, /metrics is public)",
    "event_retention_days": "days outbox events every webhook was given are kept",
    "webhook_dead_letter_days": "days dead-lettered webhook deliveries are kept",
    "webhook_timeout": "seconds a webhook POST may take",
    "webhook_concurrency": "webhook POSTs in flight per subscription at most",
    "webhook_retry_window": "seconds a failing webhook delivery is retried before dead-lettering",
    "webhook_retry_min_interval": "seconds before the first retry of a webhook delivery",
    "webhook_retry_max_interval": "seconds between webhook retries at most",
    "webhook_poll_interval": "seconds between looks for new events to deliver",
    "alert_offline_minutes": "minutes offline before an offline alert (0 = never)",
    "alert_boot_loop_boots": "boots within an hour above which a boot_loop alert (0 = never)",
    "alert_check_interval": "seconds between checks for offline charge points and boot loops",
    "cap_dates": (
        "dates after 2037 sent to charge points: profile (as their charger profile says), "
        "always or never capped at 2037-12-31T23:59:59Z"
    ),
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="csms", description="OCPP 1.6J CSMS")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the CSMS")
    _add_settings_flags(serve)
    serve.add_argument("--log-level", default=os.environ.get("CSMS_LOG_LEVEL", "INFO"))
    config = commands.add_parser(
        "config", help="print the effective configuration (TOML, secrets masked)"
    )
    _add_settings_flags(config)
    client.add_commands(commands)
    _add_user_commands(commands)
    args = parser.parse_args(argv)
    if args.command in ("serve", "config"):
        try:
            settings = load_settings(args, os.environ)
        except ValueError as exc:
            (serve if args.command == "serve" else config).error(str(exc))
        if args.command == "config":
            print(_toml(shown(settings)), end="")
            return 0
        try:
            logs.setup(args.log_level, settings.log_format)
        except ValueError as exc:
            serve.error(str(exc))
        return _run_server(settings)
    if args.command == "user":
        return _run_user_command(args)
    return client.run(args, dict(os.environ))


def _add_settings_flags(parser: argparse.ArgumentParser) -> None:
    defaults = Settings()
    parser.add_argument(
        "--config",
        default=None,
        help="TOML file of settings (keys named like the flags, with _) [env CSMS_CONFIG]",
    )
    for name, help_text in _SERVE_FLAGS.items():
        default = getattr(defaults, name)
        parser.add_argument(
            "--" + name.replace("_", "-"),
            dest=name,
            default=None,
            help=f"{help_text} [env CSMS_{name.upper()}; default {default}]",
            choices=[u.value for u in UnknownChargePoints]
            if name == "unknown_charge_points"
            else ["text", "json"]
            if name == "log_format"
            else None,
        )


def load_settings(args: argparse.Namespace, environ: Mapping[str, str]) -> Settings:
    """The settings from flags, CSMS_* variables and the --config/CSMS_CONFIG file, in that
    order of precedence, over the defaults. ValueError names the source and the value."""
    values: dict[str, Any] = {}
    config = getattr(args, "config", None) or environ.get("CSMS_CONFIG")
    if config:
        values.update(from_file(Path(config)))
    values.update(from_environment(environ))
    for name in _SERVE_FLAGS:
        raw = getattr(args, name, None)
        if raw is not None:
            try:
                values[name] = convert(name, raw)
            except ValueError as exc:
                raise ValueError(f"--{name.replace('_', '-')} {raw!r}: {exc}") from None
    return dataclasses.replace(Settings(), **values)


def _toml(values: Mapping[str, Any]) -> str:
    """Flat TOML of strings, numbers and booleans (what `shown` gives)."""
    lines = []
    for name, value in values.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int | float):
            text = repr(value)
        else:
            text = json.dumps(str(value))  # a JSON string is a TOML basic string
        lines.append(f"{name} = {text}\n")
    return "".join(lines)


def _add_user_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`csms user add|list`: accounts of the console and API, written to the database directly
    (the first admin is made this way; a running server sees a new user at its first login)."""
    user = commands.add_parser("user", help="add or list console/API users (in the database)")
    actions = user.add_subparsers(dest="user_command", required=True)
    add = actions.add_parser("add", help="add a user")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["admin", "operator", "viewer"])
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    listing = actions.add_parser("list", help="list users")
    for parser in (add, listing):
        parser.add_argument(
            "--database",
            default=None,
            help=f"[env CSMS_DATABASE; default {Settings().database}]",
        )


def _run_user_command(args: argparse.Namespace) -> int:
    from csms.accounts import check_name, check_password

    database = args.database or os.environ.get("CSMS_DATABASE") or Settings().database
    password = ""
    if args.user_command == "add":
        try:
            check_name(args.name)
            password = _read_password(args.password_stdin)
            check_password(password)
        except ValueError as exc:
            print(f"csms: {exc}", file=sys.stderr)
            return 2
    return asyncio.run(_user_command(args, database, password))


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise ValueError("no terminal to ask for the password: use --password-stdin")
    import getpass

    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise ValueError("the passwords differ")
    return first


async def _user_command(args: argparse.Namespace, database: str, password: str) -> int:
    from datetime import UTC, datetime

    from csms.accounts import hash_new_password
    from csms.storage import Role, UserExistsError
    from csms.storage.sql import open_store

    async with await open_store(database) as store:
        if args.user_command == "list":
            users = await store.list_users()
            shown = [
                {"id": u.id, "name": u.name, "role": u.role, "disabled": u.disabled} for u in users
            ]
            print(json.dumps(shown, indent=2))
            return 0
        try:
            user = await store.add_user(
                args.name, Role(args.role), await hash_new_password(password), datetime.now(UTC)
            )
        except UserExistsError as exc:
            print(f"csms: {exc}", file=sys.stderr)
            return 1
        print(json.dumps({"id": user.id, "name": user.name, "role": user.role}, indent=2))
        return 0


def _run_server(settings: Settings) -> int:
    from csms.app import serve

    async def run() -> None:
        # SIGINT (Ctrl-C) and SIGTERM: cancel, unwind, commit what was answered, close. Both
        # handlers are installed explicitly: Python's default Ctrl-C handling is absent when
        # the process starts with SIGINT ignored (a background job, nohup, some supervisors).
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        for stop in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(stop, task.cancel)
        await serve(settings)

    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
