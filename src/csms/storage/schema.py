"""The database schema, as SQLAlchemy Core tables. The migrations in migrations/versions create
exactly this (a test compares them with Alembic's autogenerate).

Every row of a charge point's data references `charge_points.id` with ON DELETE CASCADE:
deleting a charge point deletes what it reported. Transaction ids are never reused
(SQLite AUTOINCREMENT, PostgreSQL identity), so a deleted transaction's id cannot come back.

Over 400 lines: every table in one MetaData, the one thing the migrations are compared with.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    false,
    func,
    text,
)
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend.

    PostgreSQL stores `timestamp with time zone`. SQLite has no time zones: the value is stored
    as naive UTC text (which sorts chronologically) and given back its UTC tzinfo when read.
    Naive datetimes are refused: their time zone is a guess.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """On SQLite, process_bind_param and DATETIME's text in one step (the writer converts
        thousands of timestamps a second): the same text, 'YYYY-MM-DD HH:MM:SS.ffffff'."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is not UTC:
                if value.utcoffset() is None:
                    raise ValueError(f"naive datetime {value!r}: timestamps must be timezone-aware")
                value = value.astimezone(UTC)
            return value.replace(tzinfo=None).isoformat(" ", "microseconds")

        return process

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# A 64-bit surrogate key that is still SQLite's rowid alias (only `INTEGER PRIMARY KEY` is).
RowId = BigInteger().with_variant(Integer(), "sqlite")

NAMING_CONVENTION: dict[str, Any] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _charge_point_fk() -> Column[str]:
    return Column(
        "charge_point_id",
        Text,
        ForeignKey("charge_points.id", ondelete="CASCADE"),
        nullable=False,
    )


charge_points = Table(
    "charge_points",
    metadata,
    Column("id", Text, primary_key=True),
    Column("registration_status", Text, nullable=False),
    Column("password_hash", Text),
    Column("description", Text),
    # BootNotification identity (spec 6.2); charge_point_vendor is NULL until the first boot.
    Column("charge_point_vendor", Text),
    Column("charge_point_model", Text),
    Column("charge_point_serial_number", Text),
    Column("charge_box_serial_number", Text),
    Column("firmware_version", Text),
    Column("iccid", Text),
    Column("imsi", Text),
    Column("meter_type", Text),
    Column("meter_serial_number", Text),
    Column("last_boot_at", UtcDateTime),
    Column("last_seen_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
)

connector_status = Table(
    "connector_status",
    metadata,
    _charge_point_fk(),
    Column("connector_id", Integer, nullable=False),
    Column("status", Text, nullable=False),
    Column("error_code", Text, nullable=False),
    Column("info", Text),
    Column("vendor_id", Text),
    Column("vendor_error_code", Text),
    Column("timestamp", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    # The timestamp is clearly wrong: received_at orders this report (migration 0009).
    Column("clock_suspect", Boolean, nullable=False, server_default=false()),
    # Also the index of list_connectors().
    PrimaryKeyConstraint("charge_point_id", "connector_id"),
)

status_history = Table(
    "status_history",
    metadata,
    Column("id", RowId, Identity(), primary_key=True),
    _charge_point_fk(),
    Column("connector_id", Integer, nullable=False),
    Column("status", Text, nullable=False),
    Column("error_code", Text, nullable=False),
    Column("info", Text),
    Column("vendor_id", Text),
    Column("vendor_error_code", Text),
    Column("timestamp", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("clock_suspect", Boolean, nullable=False, server_default=false()),
    # "Most recent first" is the order received: by id, per charge point or per connector.
    Index(None, "charge_point_id", "id"),
    Index(None, "charge_point_id", "connector_id", "id"),
)

id_tags = Table(
    "id_tags",
    metadata,
    # Kept in the spelling it was first given; unique case-insensitively (CiString20, 7.28).
    Column("id_tag", Text, primary_key=True),
    Column("status", Text, nullable=False),
    Column("expiry_date", UtcDateTime),
    Column("parent_id_tag", Text),
    # Transactions it may run at once; NULL: no limit (docs/field-behaviour.md).
    Column("max_active_transactions", Integer, server_default=text("1")),
)
Index("uq_id_tags_lower_id_tag", func.lower(id_tags.c.id_tag), unique=True)

transactions = Table(
    "transactions",
    metadata,
    # 32-bit: transactionId is an `integer` that charge points keep in an int32.
    Column("id", Integer, Identity(start=1), primary_key=True),
    _charge_point_fk(),
    Column("connector_id", Integer, nullable=False),
    Column("id_tag", Text, nullable=False),
    Column("id_tag_status", Text, nullable=False),
    Column("meter_start", BigInteger, nullable=False),
    Column("start_time", UtcDateTime, nullable=False),
    Column("reservation_id", Integer),
    Column("stop_time", UtcDateTime),
    Column("meter_stop", BigInteger),
    Column("stop_reason", Text),
    Column("stop_id_tag", Text),
    # Ended by the CSMS (superseded, or by the operator) with no StopTransaction yet.
    Column("ended_at", UtcDateTime),
    Column("ended_by", Text),
    Column("end_reason", Text),
    # The CSMS's receipt times of the StartTransaction / StopTransaction, and whether the
    # charge point's start_time / stop_time is clearly wrong (migration 0013).
    Column("start_received_at", UtcDateTime),
    Column("start_clock_suspect", Boolean, nullable=False, server_default=false()),
    Column("stop_received_at", UtcDateTime),
    Column("stop_clock_suspect", Boolean, nullable=False, server_default=false()),
    # The billable energy (Wh) and its flags, space-separated (features/core/energy.py;
    # migration 0015). NULL: not computed yet.
    Column("energy_wh", BigInteger),
    Column("energy_flags", Text, nullable=False, server_default=""),
    CheckConstraint("id > 0", name="positive_id"),
    # An identical StartTransaction replayed after a lost answer is the same transaction: this
    # is the idempotency lookup, by (charge_point_id, start_time) first; it also serves
    # list_transactions(charge_point_id=...).
    Index(
        "uq_transactions_start",
        "charge_point_id",
        "start_time",
        "connector_id",
        "id_tag",
        "meter_start",
        unique=True,
    ),
    sqlite_autoincrement=True,
)
# active_transactions_for_tag(): open transactions by case-insensitive idTag.
Index(
    "ix_transactions_active_lower_id_tag",
    func.lower(transactions.c.id_tag),
    sqlite_where=transactions.c.stop_time.is_(None),
    postgresql_where=transactions.c.stop_time.is_(None),
)
# The transactions API (api/transactions.py; migration 0015): pages in id order of one charge
# point or one idTag, and the time ranges of listings and energy summaries.
Index("ix_transactions_charge_point_id_id", transactions.c.charge_point_id, transactions.c.id)
Index("ix_transactions_lower_id_tag_id", func.lower(transactions.c.id_tag), transactions.c.id)
Index("ix_transactions_start_time", transactions.c.start_time)
# The open transactions (active=true, the metrics' count), few among many.
_STILL_OPEN = text("stop_time IS NULL AND ended_at IS NULL")
Index(
    "ix_transactions_open_id",
    transactions.c.id,
    sqlite_where=_STILL_OPEN,
    postgresql_where=_STILL_OPEN,
)

meter_values = Table(
    "meter_values",
    metadata,
    Column("id", RowId, Identity(), primary_key=True),
    _charge_point_fk(),
    Column("connector_id", Integer, nullable=False),
    # Not a foreign key: kept as the charge point sent it, even for a transaction unknown here.
    Column("transaction_id", BigInteger),
    Column("timestamp", UtcDateTime, nullable=False),
    Column("value", Text, nullable=False),
    Column("measurand", Text),
    Column("phase", Text),
    Column("unit", Text),
    Column("context", Text),
    Column("location", Text),
    Column("format", Text),
    # Migration 0009: when received (NULL for older rows), whether the timestamp is clearly
    # wrong, and a digest of what identifies the sample (charge point, connector, transaction,
    # timestamp, value and its attributes): a sample replayed after a lost answer is not
    # stored twice (NULL for older rows, which are never duplicates of each other).
    Column("received_at", UtcDateTime),
    Column("clock_suspect", Boolean, nullable=False, server_default=false()),
    Column("sample_key", LargeBinary),
    Index(None, "transaction_id", "id"),
    Index(None, "charge_point_id", "id"),
    Index("uq_meter_values_sample_key", "sample_key", unique=True),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", RowId, Identity(), primary_key=True),
    _charge_point_fk(),
    Column("kind", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Index(None, "charge_point_id", "id"),
)

data_transfers = Table(
    "data_transfers",
    metadata,
    Column("id", RowId, Identity(), primary_key=True),
    _charge_point_fk(),
    Column("vendor_id", Text, nullable=False),
    Column("message_id", Text),
    Column("data", Text),
    Column("status", Text, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Index(None, "charge_point_id", "id"),
)


# -- what CSMS commands changed (migration 0002) ------------------------------------------------

# The configuration keys a charge point reported (GetConfiguration) or accepted
# (ChangeConfiguration); `known` is false for keys it reported as unknown.
configuration_keys = Table(
    "configuration_keys",
    metadata,
    _charge_point_fk(),
    Column("key", Text, nullable=False),
    Column("value", Text),
    Column("readonly", Boolean),
    Column("known", Boolean, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("charge_point_id", "key"),
)

# When a charge point last reported its whole configuration.
configuration_snapshots = Table(
    "configuration_snapshots",
    metadata,
    _charge_point_fk(),
    Column("complete_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("charge_point_id"),
)

# The availability each connector was last asked for and the charge point's answer (spec 5.2).
connector_availability = Table(
    "connector_availability",
    metadata,
    _charge_point_fk(),
    Column("connector_id", Integer, nullable=False),
    Column("requested", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("charge_point_id", "connector_id"),
)


# -- reservations (migration 0005) --------------------------------------------------------------

# Every reservation the CSMS asked a charge point for (spec 5.13) and its state (records.py
# ReservationState). `id` is the reservationId: allocated by the CSMS, or given by the operator.
reservations = Table(
    "reservations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    _charge_point_fk(),
    Column("connector_id", Integer, nullable=False),
    Column("id_tag", Text, nullable=False),
    Column("parent_id_tag", Text),
    Column("expiry_date", UtcDateTime, nullable=False),
    Column("state", Text, nullable=False),
    Column("reason", Text),
    Column("transaction_id", Integer),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("id > 0", name="positive_id"),
    # A charge point's reservations by state (the ones a StartTransaction may use) ...
    Index(None, "charge_point_id", "state"),
    # ... and the next to expire.
    Index(None, "state", "expiry_date"),
)


# -- smart charging (migration 0006) -----------------------------------------------------------

# The charging profiles the CSMS believes installed (spec 3.13): recorded from the charge point's
# Accepted answers. `profile` is the csChargingProfiles JSON as sent; `transaction_id` is the
# transaction a TxProfile belongs to (its transactionId, or the transaction its
# RemoteStartTransaction started); `remote_start_id_tag` marks a RemoteStartTransaction profile
# waiting for its StartTransaction (spec 5.16.2).
charging_profiles = Table(
    "charging_profiles",
    metadata,
    _charge_point_fk(),
    Column("charging_profile_id", Integer, nullable=False),
    Column("connector_id", Integer, nullable=False),
    Column("stack_level", Integer, nullable=False),
    Column("purpose", Text, nullable=False),
    Column("transaction_id", Integer),
    Column("remote_start_id_tag", Text),
    Column("profile", Text, nullable=False),
    Column("installed_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("charge_point_id", "charging_profile_id"),
)


# -- local authorization list (migration 0004; spec 3.5.2, 5.10, 5.15) ----------------------------

# Which id tags go into the lists of the charge points assigned to a policy.
local_list_policies = Table(
    "local_list_policies",
    metadata,
    Column("name", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("description", Text),
)

# The tags a policy names (group tags or tags), in the order given.
local_list_policy_tags = Table(
    "local_list_policy_tags",
    metadata,
    Column(
        "policy",
        Text,
        ForeignKey("local_list_policies.name", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("position", Integer, nullable=False),
    Column("id_tag", Text, nullable=False),
    PrimaryKeyConstraint("policy", "position"),
)

# Per charge point: its policy and what the CSMS knows of the list it holds.
local_lists = Table(
    "local_lists",
    metadata,
    _charge_point_fk(),
    Column("policy", Text, ForeignKey("local_list_policies.name", ondelete="SET NULL")),
    Column("status", Text, nullable=False),
    Column("version", Integer),
    Column("sent_version", Integer),
    Column("reported_version", Integer),
    Column("reconciled_at", UtcDateTime),
    Column("last_update_type", Text),
    Column("last_update_version", Integer),
    Column("last_update_status", Text),
    Column("last_update_at", UtcDateTime),
    Column("error", Text),
    PrimaryKeyConstraint("charge_point_id"),
    Index(None, "policy"),
)

# The entries the CSMS believes a charge point's list holds; `key` is the lower-case idTag
# (IdToken is case-insensitive, spec 7.28), `id_tag` its spelling as sent.
local_list_entries = Table(
    "local_list_entries",
    metadata,
    _charge_point_fk(),
    Column("key", Text, nullable=False),
    Column("id_tag", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("expiry_date", UtcDateTime),
    Column("parent_id_tag", Text),
    PrimaryKeyConstraint("charge_point_id", "key"),
    # Which charge points hold a tag (after a change to it).
    Index(None, "key"),
)


# -- firmware and diagnostics (migration 0003) --------------------------------------------------

# Firmware images the CSMS hosts (spec 8.1); the file is in the data directory.
firmware_images = Table(
    "firmware_images",
    metadata,
    Column("id", RowId, Identity(), primary_key=True),
    Column("file_name", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("description", Text),
    Column("uploaded_at", UtcDateTime, nullable=False),
    # A signed image (whitepaper 4, migration 0017): PEM signing certificate, Base64 signature.
    Column("signing_certificate", Text),
    Column("signature", Text),
)

# UpdateFirmware (spec 5.19) and GetDiagnostics (spec 5.9) jobs, followed through the status
# notifications (spec 4.4, 4.5) until they succeed, fail or time out.
file_jobs = Table(
    "file_jobs",
    metadata,
    Column("id", RowId, Identity(), primary_key=True),
    _charge_point_fk(),
    Column("kind", Text, nullable=False),
    Column("location", Text, nullable=False),
    Column("retries", Integer),
    Column("retry_interval", Integer),
    Column("retrieve_date", UtcDateTime),
    Column("image_id", RowId, ForeignKey("firmware_images.id", ondelete="SET NULL")),
    Column("start_time", UtcDateTime),
    Column("stop_time", UtcDateTime),
    Column("file_name", Text),
    Column("status", Text, nullable=False),
    Column("outcome", Text),
    Column("reason", Text),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("deadline", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    # Migration 0017: NULL for UpdateFirmware / GetDiagnostics; "SignedUpdateFirmware", or the
    # GetLog logType ("DiagnosticsLog", "SecurityLog"); and the whitepaper requestId.
    Column("variant", Text),
    Column("request_id", Integer),
    CheckConstraint("kind IN ('firmware', 'diagnostics')", name="kind"),
    # A charge point's jobs of one kind, newest first (and the latest one, for notifications).
    Index(None, "charge_point_id", "kind", "id"),
    # The timeout sweeper: jobs past their deadline.
    Index(None, "deadline"),
)

file_job_events = Table(
    "file_job_events",
    metadata,
    Column("id", RowId, Identity(), primary_key=True),
    Column("job_id", RowId, ForeignKey("file_jobs.id", ondelete="CASCADE"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("event", Text, nullable=False),
    Column("detail", Text),
    Index(None, "job_id", "id"),
)

# The files charge points uploaded for a diagnostics job (spec 8.2); the file is in the data
# directory.
diagnostics_files = Table(
    "diagnostics_files",
    metadata,
    Column("job_id", RowId, ForeignKey("file_jobs.id", ondelete="CASCADE"), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("complete", Boolean, nullable=False),
    Column("protocol", Text, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("job_id", "file_name"),
)


# -- site load management (migration 0007) --------------------------------------------------------

# Groups of charge points on one supply, as a tree (site > feeder); limits are decimal text.
load_groups = Table(
    "load_groups",
    metadata,
    Column("id", Integer, Identity(start=1), primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("parent_id", Integer, ForeignKey("load_groups.id", ondelete="RESTRICT")),
    Column("limit", Text, nullable=False),
    Column("unit", Text, nullable=False),
    Column("voltage", Text, nullable=False),
    Column("phases", Integer, nullable=False),
    Column("strategy", Text, nullable=False),
    Column("min_current", Text, nullable=False),
    Column("draw_margin", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index(None, "parent_id"),
)

# A charge point is in at most one group (its primary key).
load_group_members = Table(
    "load_group_members",
    metadata,
    _charge_point_fk(),
    Column("group_id", Integer, ForeignKey("load_groups.id", ondelete="CASCADE"), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("phases", Integer, nullable=False),
    Column("max_current", Text, nullable=False),
    Column("connectors", Integer),
    PrimaryKeyConstraint("charge_point_id"),
    Index(None, "group_id"),
)

# A transaction's own priority for the Priority strategy (over its charge point's).
load_transaction_priorities = Table(
    "load_transaction_priorities",
    metadata,
    Column(
        "transaction_id",
        Integer,
        ForeignKey("transactions.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("priority", Integer, nullable=False),
)

# Every limit load management sent, why, and the answer (the allocation's history).
load_allocations = Table(
    "load_allocations",
    metadata,
    Column("id", RowId, Identity(), primary_key=True),
    Column("group_id", Integer, ForeignKey("load_groups.id", ondelete="CASCADE"), nullable=False),
    Column("charge_point_id", Text, nullable=False),
    Column("connector_id", Integer, nullable=False),
    Column("transaction_id", Integer),
    Column("purpose", Text, nullable=False),
    Column("limit", Text, nullable=False),
    Column("number_phases", Integer, nullable=False),
    Column("paused", Boolean, nullable=False),
    Column("demand", Text),
    Column("measured_draw", Text),
    Column("strategy", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("sent_at", UtcDateTime, nullable=False),
    Column("answered_at", UtcDateTime),
    # A group's history, newest first; and the pruning of old rows.
    Index(None, "group_id", "id"),
    Index(None, "sent_at"),
)

# Operator accounts (docs/console.md). Names are unique case-insensitively (`name_key` is the
# lower-case name).
users = Table(
    "users",
    metadata,
    Column("id", Integer, Identity(start=1), primary_key=True),
    Column("name", Text, nullable=False),
    Column("name_key", Text, nullable=False, unique=True),
    Column("role", Text, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("disabled", Boolean, nullable=False, server_default=false()),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# API tokens, by the SHA-256 digest (hex) of the token.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, Identity(start=1), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", Text, nullable=False),
    Column("digest", Text, nullable=False, unique=True),
    Column("prefix", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
    Index(None, "user_id"),
)

# Console sessions, by the SHA-256 digest (hex) of the cookie's random id.
sessions = Table(
    "sessions",
    metadata,
    Column("digest", Text, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Index(None, "user_id"),
    Index(None, "expires_at"),
)

# Every operator action (API calls that change something, console posts).
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", RowId, Identity(), primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", Text, nullable=False),
    Column("user_id", Integer),
    Column("method", Text, nullable=False),
    Column("path", Text, nullable=False),
    Column("operation", Text),
    Column("charge_point_id", Text),
    Column("summary", Text),
    Column("status", Integer, nullable=False),
    Index(None, "at"),
)

# Unknown charge points refused at the handshake, for the operator to approve
# (features/unknown_charge_points.py): one row per id, at most a fixed number, pruned by age.
unknown_charge_points = Table(
    "unknown_charge_points",
    metadata,
    Column("charge_point_id", Text, primary_key=True),
    Column("first_at", UtcDateTime, nullable=False),
    Column("last_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Index(None, "last_at"),
)

# Every OCPP-J frame in and out (docs/message-log.md), kept for --message-log-days. Not a
# foreign key to charge_points: a log row is written fire-and-forget with other writes, and a
# row that could fail (its charge point deleted meanwhile) must never fail their batch.
message_log = Table(
    "message_log",
    metadata,
    Column("id", RowId, Identity(), primary_key=True),
    Column("charge_point_id", Text, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("direction", Text, nullable=False),
    Column("message_type", Text, nullable=False),
    Column("action", Text),
    Column("unique_id", Text),
    Column("text", Text, nullable=False),
    Column("truncated", Boolean, nullable=False),
    Column("note", Text),
    # A charge point's log, newest first; and the pruning of old rows.
    Index(None, "charge_point_id", "id"),
    Index(None, "at"),
)

# The durable outbox (docs/events-and-webhooks.md): each event written in the same transaction
# as the change it reports; ids increase in commit order (one writer). Not a foreign key to
# charge_points: an event outlives what it reports (a deleted charge point's disconnection).
outbox_events = Table(
    "outbox_events",
    metadata,
    Column("id", RowId, Identity(), primary_key=True),
    Column("kind", Text, nullable=False),
    Column("charge_point_id", Text),
    Column("at", UtcDateTime, nullable=False),
    Column("data", Text, nullable=False),  # JSON
    Index(None, "at"),
)

webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("id", RowId, Identity(), primary_key=True),
    Column("url", Text, nullable=False),
    Column("types", Text),  # JSON list; NULL: every kind but meter
    Column("secret", Text, nullable=False),
    Column("description", Text),
    Column("enabled", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("cursor", BigInteger, nullable=False),
)

# An event still to deliver to a subscription (deleted once delivered), or dead-lettered.
# `queue_key` is the charge point id ("" for none): events of one key go out in id order.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column(
        "subscription_id",
        RowId,
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("event_id", RowId, ForeignKey("outbox_events.id", ondelete="CASCADE"), nullable=False),
    Column("queue_key", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("last_attempt_at", UtcDateTime),
    Column("last_error", Text),
    PrimaryKeyConstraint("subscription_id", "event_id"),
    Index(None, "subscription_id", "queue_key", "event_id"),
    Index(None, "event_id"),
)

# Alerts (docs/events-and-webhooks.md, "Alerts"): at most one active per (kind, charge point,
# subject); cleared ones are kept for the record.
alerts = Table(
    "alerts",
    metadata,
    Column("id", RowId, Identity(), primary_key=True),
    Column("kind", Text, nullable=False),
    Column("charge_point_id", Text),
    Column("subject", Text, nullable=False),
    Column("message", Text, nullable=False),
    Column("data", Text, nullable=False),  # JSON
    Column("raised_at", UtcDateTime, nullable=False),
    Column("cleared_at", UtcDateTime),
    Column("clear_reason", Text),
    Index(None, "kind", "charge_point_id", "subject", "cleared_at"),
    Index(None, "cleared_at"),
)

# -- charger profiles and the configuration the operator set (migration 0018) -------------------

# Charger profiles operators added (docs/charger-compatibility.md); the built-in ones are code.
# `charge_point_ids` and `rules` are JSON text.
charger_profiles = Table(
    "charger_profiles",
    metadata,
    Column("name", Text, primary_key=True),
    Column("description", Text, nullable=False),
    Column("vendor", Text),
    Column("model", Text),
    Column("firmware_version", Text),
    Column("charge_point_ids", Text, nullable=False),
    Column("rules", Text, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# The value of each key a ChangeConfiguration set and the charge point accepted (Accepted or
# RebootRequired): kept apart from the snapshot (configuration_keys), which a GetConfiguration
# replaces, so that what the CSMS answers at boot is the operator's (HeartbeatInterval).
configuration_set = Table(
    "configuration_set",
    metadata,
    _charge_point_fk(),
    Column("key", Text, nullable=False),
    Column("value", Text, nullable=False),
    Column("set_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("charge_point_id", "key"),
)

# -- security whitepaper (features/security/, docs/security.md) ---------------------------------

# The security profile each charge point must connect with (whitepaper 2), the one it may still
# use until it first connects with a raised one (TC_083), and an AuthorizationKey sent but not
# yet known to be in force (TC_073). No row: profile 0, as before profiles existed.
charge_point_security = Table(
    "charge_point_security",
    metadata,
    Column(
        "charge_point_id",
        Text,
        ForeignKey("charge_points.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("security_profile", Integer, nullable=False),
    Column("fallback_profile", Integer),
    Column("pending_password_hash", Text),
    Column("updated_at", UtcDateTime, nullable=False),
)

# Security events: SecurityEventNotification.req of the charge points and the CSMS's own (a
# connection refused below the profile). Not a foreign key: the security log outlives a
# deleted charge point, and a refused handshake's event never fails a batch.
security_events = Table(
    "security_events",
    metadata,
    Column("id", RowId, Identity(), primary_key=True),
    Column("charge_point_id", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("timestamp", UtcDateTime, nullable=False),
    Column("tech_info", Text),
    Column("critical", Boolean, nullable=False),
    # "ChargePoint" (it sent it) or "CentralSystem" (the CSMS saw it).
    Column("origin", Text, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Index(None, "charge_point_id", "id"),
)

# Every charge point certificate the CSMS's CA issued (SignCertificate), kept after the charge
# point is deleted: a revoked one must stay refused.
issued_certificates = Table(
    "issued_certificates",
    metadata,
    Column("id", RowId, Identity(), primary_key=True),
    Column("charge_point_id", Text, nullable=False),
    Column("serial_number", Text, nullable=False, unique=True),
    Column("subject", Text, nullable=False),
    Column("pem", Text, nullable=False),
    Column("not_before", UtcDateTime, nullable=False),
    Column("not_after", UtcDateTime, nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    # CertificateSigned's answer: "Accepted", "Rejected", or NULL (not sent or not answered).
    Column("delivery", Text),
    Column("revoked_at", UtcDateTime),
    Column("revocation_reason", Text),
    Index(None, "charge_point_id"),
)

# The root certificates each charge point has installed, as it last reported them
# (GetInstalledCertificateIds) or as the CSMS installed them (InstallCertificate Accepted).
installed_certificates = Table(
    "installed_certificates",
    metadata,
    Column("id", RowId, Identity(), primary_key=True),
    _charge_point_fk(),
    Column("certificate_type", Text, nullable=False),
    Column("hash_algorithm", Text, nullable=False),
    Column("issuer_name_hash", Text, nullable=False),
    Column("issuer_key_hash", Text, nullable=False),
    Column("serial_number", Text, nullable=False),
    # Known when the CSMS installed it; NULL for one only reported by its hashes.
    Column("pem", Text),
    Column("subject", Text),
    Column("recorded_at", UtcDateTime, nullable=False),
    Index(None, "charge_point_id", "certificate_type"),
)
