"""The composition root: open the store, build the services, run the OCPP and HTTP servers in
one event loop until asked to stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime

import uvicorn

from csms import collector
from csms.accounts import Accounts
from csms.api import create_api
from csms.features import ROUTES, outbox
from csms.features.admission import ChargePointAdmission
from csms.features.alerts import watch_alerts
from csms.features.context import Services
from csms.features.load_management import run_load_management
from csms.features.local_list import run_local_list_sync
from csms.features.reservation import expire_reservations
from csms.features.router import Router
from csms.features.security.authority import BuiltInAuthority
from csms.features.security.profiles import SecurityProfiles
from csms.features.unknown_charge_points import UnknownChargePoints, keep_unknown_charge_points
from csms.files.service import start_file_service
from csms.message_log import MessageLog
from csms.pruning import prune_by_age
from csms.settings import Settings
from csms.storage.sql import open_store
from csms.transport import OcppServer, Registry
from csms.transport.tls import server_context
from csms.webhooks import Deliverer

log = logging.getLogger("csms")


@dataclass(frozen=True, slots=True)
class Running:
    """A running CSMS: its services and the ports it actually listens on."""

    services: Services
    ocpp_port: int
    http_port: int
    api_token: str
    # The diagnostics FTP server's port (None: no FTP).
    ftp_port: int | None = None
    ocpp_server: OcppServer | None = None
    deliverer: Deliverer | None = None


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[Running]:
    """Start everything; stop cleanly (answered messages are committed) when the block exits."""
    api_token = settings.api_token or secrets.token_urlsafe(24)
    if settings.api_token is None:
        log.warning("no API token given; this run's token is %s", api_token)
    store = await open_store(settings.database)
    try:
        registry = Registry()
        services = Services(settings=settings, store=store, registry=registry)
        unknown = services.unknown_charge_points = UnknownChargePoints(
            clock=lambda: services.clock.now(), events=services.events
        )
        await unknown.load(store)
        services.authority = services.signer = BuiltInAuthority.load_or_create(
            settings.data_dir,
            services.clock.now(),
            cert_file=settings.ca_cert,
            key_file=settings.ca_key,
            validity_days=settings.certificate_days,
        )
        services.metrics.watch(registry, services.events, store)
        store.writer.on_commit = services.metrics.committed
        store.set_message_log_limit(settings.message_log_queue)
        message_log = MessageLog(
            store,
            services.events,
            enabled=settings.message_log_days > 0,
            clock=services.clock.now,
        )
        ocpp = OcppServer(
            registry=registry,
            admission=ChargePointAdmission(
                store,
                settings.unknown_charge_points,
                services.unknown_charge_points,
                profiles=SecurityProfiles(services),
            ),
            dispatcher=Router(ROUTES, services),
            call_timeout=settings.call_timeout,
            ping_interval=settings.ping_interval or None,
            ping_timeout=settings.ping_timeout or None,
            frame_log=message_log,
            events=services.events,
            metrics=services.metrics,
            presence=outbox.presence(services),
        )
        ws_server = await ocpp.start(
            settings.host,
            settings.ocpp_port,
            ssl_context=_ssl_context(settings, services.authority),
        )
        accounts = Accounts(
            store, api_token, session_ttl=settings.session_ttl, now=services.clock.now
        )
        await accounts.ready()
        http_socket = _bind(settings.host, settings.http_port)
        files = await start_file_service(services, http_port=http_socket.getsockname()[1])
        api = create_api(services, api_token, accounts)
        api.state.ocpp_listening = ws_server.is_serving  # for GET /ready
        http_server = _HttpServer(
            uvicorn.Config(
                api,
                log_level="warning",
                # Its lines go through our handlers (logs.py: text or JSON), not its own.
                log_config=None,
                lifespan="off",
                access_log=False,
                # API calls still running this long after shutdown began are cancelled.
                timeout_graceful_shutdown=max(1, math.ceil(settings.shutdown_grace)),
            )
        )
        http_task = asyncio.create_task(http_server.serve(sockets=[http_socket]))
        expiry = asyncio.create_task(expire_reservations(services), name="csms.reservations")
        local_lists = asyncio.create_task(run_local_list_sync(services), name="csms.local_lists")
        load = asyncio.create_task(run_load_management(services), name="csms.load_management")
        deliverer = Deliverer(services)
        api.state.deliverer = deliverer  # the webhook API wakes it
        tasks = [
            *_housekeeping(services),
            asyncio.create_task(deliverer.run(), name="csms.webhooks"),
            asyncio.create_task(watch_alerts(services), name="csms.alerts"),
        ]
        try:
            ocpp_port = next(iter(ws_server.sockets)).getsockname()[1]
            http_port = http_socket.getsockname()[1]
            log.info(
                "OCPP on %s://%s:%d/ocpp/{chargePointId}, API on http://%s:%d/api/v1,"
                " console on http://%s:%d/",
                "wss" if settings.tls_cert else "ws",
                settings.host,
                ocpp_port,
                settings.host,
                http_port,
                settings.host,
                http_port,
            )
            yield Running(
                services, ocpp_port, http_port, api_token, files.ftp_port, ocpp, deliverer
            )
        finally:
            # API commands waiting for a charge point to connect give up at once (409); the
            # rest get shutdown_grace seconds. Answers already received are committed below.
            registry.close()
            # Open event streams end now, so that the HTTP server need not wait for them.
            services.events.close()
            http_server.should_exit = True
            ws_server.close()
            await ws_server.wait_closed()
            await http_task
            await accounts.drain()
            expiry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await expiry
            local_lists.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await local_lists
            load.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await load
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await unknown.flush(store)
            await files.stop()
    finally:
        await store.close()


def _housekeeping(services: Services) -> list[asyncio.Task[None]]:
    """The owned tasks that keep the stored logs bounded: pruning the message log and the audit
    log by age (pruning.py) and keeping the unknown charge points (features/
    unknown_charge_points.py). Cancelled at shutdown."""
    settings, store = services.settings, services.store

    def now() -> datetime:
        return services.clock.now()

    tasks = [
        asyncio.create_task(
            keep_unknown_charge_points(services.unknown_charge_points, store, now),
            name="csms.unknown_charge_points",
        )
    ]
    retention = (
        ("message log", store.prune_message_log, settings.message_log_days),
        ("audit log", store.prune_audit_log, settings.audit_log_days),
    )
    for what, prune, days in retention:
        if days > 0:
            task = prune_by_age(what, prune, days, now)
            tasks.append(asyncio.create_task(task, name=f"csms.{what.replace(' ', '_')}"))
    return tasks


async def serve(settings: Settings) -> None:
    """`csms serve`: run until cancelled (cli.py cancels it on SIGINT and SIGTERM)."""
    async with running(settings):
        collector.settle()
        await asyncio.Event().wait()


class _HttpServer(uvicorn.Server):
    # The composition root owns signal handling; uvicorn must not install its own.
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def _ssl_context(settings: Settings, authority: BuiltInAuthority | None) -> ssl.SSLContext | None:
    """Security profiles 2 and 3 (whitepaper 2.4, 2.5): TLS 1.2 or newer with the server
    certificate; client certificates of the built-in CA or of --tls-client-ca trusted."""
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    return server_context(
        settings.tls_cert,
        settings.tls_key,
        client_cas=[settings.tls_client_ca] if settings.tls_client_ca else [],
        ca_pems=[authority.certificate_pem] if authority is not None else [],
    )
