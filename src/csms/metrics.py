"""Prometheus metrics of one CSMS (docs/operating.md, "Metrics"), served at GET /metrics.

Each running CSMS has its own CollectorRegistry (tests start several in one process). The
hot-path hooks are one call each: labelled children are made once per (action, outcome) and
cached, so a CALL costs two dictionary lookups, a counter increment and a histogram observation.
Figures that already exist elsewhere (connected charge points, queues) are read at scrape time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from csms.ocpp16 import ACTIONS

if TYPE_CHECKING:
    from csms.events import EventBus
    from csms.storage import Store
    from csms.transport.registry import Registry

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Seconds from a CALL's receipt to its answer; a group commit is a few milliseconds.
_CALL_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


def action_label(action: str) -> str:
    """An OCPP 1.6 action as itself, anything else as "other" (a label per unknown name a
    charge point makes up would grow without bound)."""
    return action if action in ACTIONS else "other"


class Metrics:
    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.connections_opened = Counter(
            "csms_connections_opened", "OCPP WebSocket connections opened", registry=registry
        )
        self.connections_closed = Counter(
            "csms_connections_closed", "OCPP WebSocket connections closed", registry=registry
        )
        self.connections_refused = Counter(
            "csms_connections_refused",
            "OCPP handshakes refused, by reason",
            ["reason"],
            registry=registry,
        )
        self.calls = Counter(
            "csms_calls_received",
            "CALLs received from charge points, by action and outcome (CALLRESULT or the"
            " CALLERROR code)",
            ["action", "outcome"],
            registry=registry,
        )
        self.call_seconds = Histogram(
            "csms_call_duration_seconds",
            "Seconds from receiving a CALL to sending its answer, by action",
            ["action"],
            buckets=_CALL_BUCKETS,
            registry=registry,
        )
        self.commands = Counter(
            "csms_commands_sent",
            "CALLs sent to charge points, by action and outcome (the answer's status, the"
            " CALLERROR code, timeout or disconnected)",
            ["action", "outcome"],
            registry=registry,
        )
        self.batch_size = Histogram(
            "csms_commit_batch_size",
            "Writes per group commit",
            buckets=_BATCH_BUCKETS,
            registry=registry,
        )
        self.commit_seconds = Histogram(
            "csms_commit_duration_seconds",
            "Seconds per group commit transaction",
            buckets=_CALL_BUCKETS,
            registry=registry,
        )
        self.active_transactions = Gauge(
            "csms_active_transactions",
            "Transactions neither stopped nor ended (read from the database when scraped)",
            registry=registry,
        )
        self.energy = Counter(
            "csms_energy_delivered_wh",
            "Billable energy of the transactions stopped (docs/field-behaviour.md), Wh",
            registry=registry,
        )
        self.load_rounds = Counter(
            "csms_load_management_rounds", "Load management allocation rounds", registry=registry
        )
        self.webhook_deliveries = Counter(
            "csms_webhook_deliveries",
            "Webhook delivery attempts, by outcome (delivered, failed: to be retried, dead:"
            " failed after the retry window and dead-lettered)",
            ["outcome"],
            registry=registry,
        )
        self.webhook_backlog = Gauge(
            "csms_webhook_backlog",
            "Events still to deliver to webhook subscriptions (read when scraped)",
            registry=registry,
        )
        self.webhook_dead_letters = Gauge(
            "csms_webhook_dead_letters",
            "Webhook deliveries dead-lettered and kept (read when scraped)",
            registry=registry,
        )
        self._call_children: dict[tuple[str, str], tuple[Any, Any]] = {}
        self._command_children: dict[tuple[str, str], Any] = {}

    def watch(self, registry: Registry, events: EventBus, store: Store) -> None:
        """Figures read at scrape time: connected charge points, the event bus, the log queue."""
        self._gauge("csms_connected_charge_points", "Charge points connected", registry.__len__)
        self._gauge("csms_event_subscribers", "Live event streams open", lambda: events.subscribers)
        self._gauge(
            "csms_message_log_queued",
            "Message log rows waiting to be written",
            lambda: store.message_log_counts().queued,
        )
        self._gauge(
            "csms_message_log_dropped",
            "Message log rows dropped so far (queue full) or refused by the database",
            lambda: _lost(store),
        )

    def _gauge(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        Gauge(name, documentation, registry=self.registry).set_function(read)

    # -- hooks (one call each from the code they measure) --------------------------------------

    def call_answered(self, action: str, outcome: str, started: float) -> None:
        """`started`: time.perf_counter() when the CALL was received."""
        key = (action, outcome)
        children = self._call_children.get(key)
        if children is None:
            label = action_label(action)
            children = self._call_children[key] = (
                self.calls.labels(label, outcome),
                self.call_seconds.labels(label),
            )
        children[0].inc()
        children[1].observe(time.perf_counter() - started)

    def command_answered(self, action: str, outcome: str) -> None:
        key = (action, outcome)
        child = self._command_children.get(key)
        if child is None:
            child = self._command_children[key] = self.commands.labels(action, outcome)
        child.inc()

    def committed(self, batch: int, seconds: float) -> None:
        self.batch_size.observe(batch)
        self.commit_seconds.observe(seconds)

    def webhook_delivered(self, outcome: str) -> None:
        self.webhook_deliveries.labels(outcome).inc()

    def transaction_stopped(self, energy_wh: int | None) -> None:
        """`energy_wh` None: a transaction the CSMS does not know."""
        if energy_wh is not None and energy_wh > 0:
            self.energy.inc(energy_wh)

    async def exposition(self, store: Store) -> bytes:
        """The text of GET /metrics, with what is read from the database brought up to date
        (active transactions: exact across restarts, unlike counting starts and stops)."""
        self.active_transactions.set(await store.count_active_transactions())
        backlog = await store.webhook_backlog()
        pending = sum(pending for pending, _ in backlog.values())
        self.webhook_backlog.set(pending + await store.events_not_fanned_out())
        self.webhook_dead_letters.set(sum(dead for _, dead in backlog.values()))
        return generate_latest(self.registry)


def _lost(store: Store) -> float:
    counts = store.message_log_counts()
    return counts.dropped + counts.failed
