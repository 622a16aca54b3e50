"""The operator commands of the `csms` CLI: each one HTTP request to a running server's API."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import httpx

from csms.settings import api_url

DEFAULT_API = "http://127.0.0.1:8080/api/v1"


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the client subcommands on the `csms` parser."""
    show = commands.add_parser("charge-points", help="list charge points, or show one")
    show.add_argument("charge_point_id", nargs="?")
    show.set_defaults(request=_charge_points)

    register = commands.add_parser("register", help="register or update a charge point")
    register.add_argument("charge_point_id")
    register.add_argument("--status", choices=["Accepted", "Pending", "Rejected"])
    register.add_argument("--password", help="Basic-auth password (16-40 characters)")
    register.add_argument("--description")
    register.set_defaults(request=_register)

    tags = commands.add_parser("id-tags", help="list id tags")
    tags.set_defaults(request=lambda args: ("GET", "/id-tags", None, None))

    tag = commands.add_parser("id-tag", help="add, show or remove an id tag")
    tag.add_argument("operation", choices=["add", "show", "remove"])
    tag.add_argument("id_tag")
    tag.add_argument(
        "--status", default="Accepted", choices=["Accepted", "Blocked", "Expired", "Invalid"]
    )
    tag.add_argument("--expiry-date", help="ISO 8601, e.g. 2027-01-01T00:00:00Z")
    tag.add_argument("--parent-id-tag")
    tag.set_defaults(request=_id_tag)

    transactions = commands.add_parser("transactions", help="list transactions, or show one")
    transactions.add_argument("transaction_id", nargs="?", type=int)
    transactions.add_argument("--charge-point")
    transactions.add_argument("--active", action="store_true", help="only running ones")
    transactions.set_defaults(request=_transactions)

    call = commands.add_parser("call", help="send any OCPP request to a charge point")
    call.add_argument("charge_point_id")
    call.add_argument("action", help="OCPP action name, e.g. Reset")
    call.add_argument(
        "payload", nargs="?", default="{}", help='JSON payload, e.g. \'{"type":"Soft"}\''
    )
    call.add_argument("--connect-timeout", type=float, default=0.0)
    call.set_defaults(request=_call)

    start = commands.add_parser("remote-start", help="start a charge; prints its transactionId")
    start.add_argument("charge_point_id")
    start.add_argument("id_tag")
    start.add_argument("--connector", type=int)
    start.add_argument("--wait", type=float, default=30.0)
    start.set_defaults(request=_remote_start)

    bulk = commands.add_parser(
        "import", help="bulk import id tags or charge points from a CSV or JSON file"
    )
    bulk.add_argument("what", choices=["id-tags", "charge-points"])
    bulk.add_argument("file", help="CSV with a header line, or a JSON array (*.json)")
    bulk.set_defaults(request=_import)

    for parser in (show, register, tags, tag, transactions, call, start, bulk):
        parser.add_argument(
            "--api",
            default=None,
            help="API base URL [env CSMS_API_URL; default: CSMS_HOST, CSMS_HTTP_PORT, CSMS_CONFIG]",
        )
        parser.add_argument("--token", default=None, help="API bearer token [env CSMS_API_TOKEN]")


# (method, path, JSON body or CSV bytes, query parameters)
Request = tuple[str, str, Any, dict[str, Any] | None]


def run(args: argparse.Namespace, environ: dict[str, str]) -> int:
    """Send the request of a client subcommand and print the answer as JSON."""
    try:
        method, path, body, params = args.request(args)
    except (OSError, ValueError) as exc:
        print(f"csms: {exc}", file=sys.stderr)
        return 2
    try:
        api = args.api or environ.get("CSMS_API_URL") or api_url(environ)
    except ValueError as exc:
        print(f"csms: {exc}", file=sys.stderr)
        return 2
    token = args.token or environ.get("CSMS_API_TOKEN")
    if not token:
        print("csms: an API token is needed (--token or CSMS_API_TOKEN)", file=sys.stderr)
        return 2
    try:
        headers = {"Authorization": f"Bearer {token}"}
        if isinstance(body, bytes):
            headers["Content-Type"] = "text/csv"
        response = httpx.request(
            method,
            api.rstrip("/") + path,
            content=body if isinstance(body, bytes) else None,
            json=None if isinstance(body, bytes) else body,
            params=params,
            headers=headers,
            timeout=660.0,
        )
    except httpx.HTTPError as exc:
        print(f"csms: {api}: {exc}", file=sys.stderr)
        return 1
    if response.status_code == 204:
        return 0
    try:
        shown: Any = response.json()
    except ValueError:
        shown = response.text
    print(json.dumps(shown, indent=2))
    if response.is_error:
        print(f"csms: HTTP {response.status_code}", file=sys.stderr)
        return 1
    return 0


def _charge_points(args: argparse.Namespace) -> Request:
    suffix = f"/{args.charge_point_id}" if args.charge_point_id else ""
    return "GET", f"/charge-points{suffix}", None, None


def _import(args: argparse.Namespace) -> Request:
    """The file as it is: the server validates every row (api/bulk.py)."""
    with open(args.file, "rb") as file:
        content = file.read()
    body: Any = json.loads(content) if args.file.lower().endswith(".json") else content
    return "POST", f"/{args.what}/import", body, None


def _register(args: argparse.Namespace) -> Request:
    body: dict[str, Any] = {}
    if args.status:
        body["registrationStatus"] = args.status
    if args.password:
        body["password"] = args.password
    if args.description is not None:
        body["description"] = args.description
    return "PUT", f"/charge-points/{args.charge_point_id}", body, None


def _id_tag(args: argparse.Namespace) -> Request:
    path = f"/id-tags/{args.id_tag}"
    if args.operation == "show":
        return "GET", path, None, None
    if args.operation == "remove":
        return "DELETE", path, None, None
    body = {
        "status": args.status,
        "expiryDate": args.expiry_date,
        "parentIdTag": args.parent_id_tag,
    }
    return "PUT", path, body, None


def _transactions(args: argparse.Namespace) -> Request:
    if args.transaction_id is not None:
        return "GET", f"/transactions/{args.transaction_id}", None, None
    params: dict[str, Any] = {}
    if args.charge_point:
        params["chargePointId"] = args.charge_point
    if args.active:
        params["active"] = "true"
    return "GET", "/transactions", None, params


def _call(args: argparse.Namespace) -> Request:
    try:
        payload = json.loads(args.payload)
    except ValueError as exc:
        raise SystemExit(f"csms: the payload is not JSON: {exc}") from None
    path = f"/charge-points/{args.charge_point_id}/commands/{args.action}"
    return "POST", path, payload, {"connect_timeout": args.connect_timeout}


def _remote_start(args: argparse.Namespace) -> Request:
    body: dict[str, Any] = {"idTag": args.id_tag}
    if args.connector is not None:
        body["connectorId"] = args.connector
    return "POST", f"/charge-points/{args.charge_point_id}/remote-start", body, {"wait": args.wait}
