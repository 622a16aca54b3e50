"""What the CSMS stores, as frozen values. No SQLAlchemy row or ORM object leaves storage/.

Spec strings (statuses, measurands, reasons) are kept exactly as the charge point or the operator
sent them; the feature modules give them their OCPP 1.6 meaning.

Over 400 lines: one frozen dataclass per stored thing and no logic; the Store protocol and every
feature use them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final


@dataclass(frozen=True, slots=True, kw_only=True)
class BootInfo:
    """The identity a charge point reports in BootNotification (spec 6.2)."""

    charge_point_vendor: str
    charge_point_model: str
    charge_point_serial_number: str | None = None
    charge_box_serial_number: str | None = None
    firmware_version: str | None = None
    iccid: str | None = None
    imsi: str | None = None
    meter_type: str | None = None
    meter_serial_number: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargePoint:
    id: str
    # What its next BootNotification is answered with: "Accepted", "Pending" or "Rejected".
    registration_status: str
    # Basic-auth password hash (security profile 1/2); None = no password required.
    password_hash: str | None
    description: str | None
    boot: BootInfo | None
    last_boot_at: datetime | None
    last_seen_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargePointProvision:
    """The provisioning fields of one charge point in a bulk import (Store.save_charge_points)."""

    charge_point_id: str
    registration_status: str
    password_hash: str | None
    description: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectorStatus:
    """One StatusNotification (spec 6.47). The current state of a connector is its newest
    report by the charge point's clock, not the last received (docs/field-behaviour.md)."""

    charge_point_id: str
    connector_id: int
    status: str
    error_code: str
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None
    # The charge point's timestamp, or the receipt time when it sent none.
    timestamp: datetime
    received_at: datetime
    # The timestamp is kept as sent but is clearly wrong (features/clocks.py): the receipt
    # time orders this report instead.
    clock_suspect: bool = False

    @property
    def ordered_at(self) -> datetime:
        """When this report happened, as far as ordering the reports goes."""
        return self.received_at if self.clock_suspect else self.timestamp


@dataclass(frozen=True, slots=True, kw_only=True)
class IdTag:
    """An identifier the CSMS authorizes (spec 7.27 IdTagInfo). Looked up case-insensitively."""

    id_tag: str
    status: str  # Accepted | Blocked | Expired | Invalid
    expiry_date: datetime | None = None
    parent_id_tag: str | None = None
    # How many transactions it may run at once (ConcurrentTx beyond); None: no limit.
    # docs/field-behaviour.md, "Transactions".
    max_active_transactions: int | None = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionStart:
    """A StartTransaction.req as received (spec 6.45) plus the idTagInfo status we answered."""

    charge_point_id: str
    connector_id: int
    id_tag: str
    meter_start: int
    timestamp: datetime
    reservation_id: int | None
    id_tag_status: str
    # When the CSMS received it, and whether `timestamp` is clearly wrong (features/clocks.py).
    received_at: datetime | None = None
    clock_suspect: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionStop:
    """A StopTransaction.req as received (spec 6.49)."""

    charge_point_id: str
    transaction_id: int
    meter_stop: int
    timestamp: datetime
    reason: str | None
    id_tag: str | None
    # When the CSMS received it, and whether `timestamp` is clearly wrong (features/clocks.py).
    received_at: datetime | None = None
    clock_suspect: bool = False
    # Its transactionData, stored with the stop; the store files them under the transaction's
    # connector (or connector 0 and no transaction, for an unknown one).
    transaction_data: tuple[MeterSample, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Transaction:
    id: int
    charge_point_id: str
    connector_id: int
    id_tag: str
    id_tag_status: str
    meter_start: int
    start_time: datetime
    reservation_id: int | None
    stop_time: datetime | None = None
    meter_stop: int | None = None
    stop_reason: str | None = None
    stop_id_tag: str | None = None
    # Ended by the CSMS without a StopTransaction (docs/field-behaviour.md, "Transactions"):
    # when (CSMS clock), by whom ("csms" | "operator") and why. The stop_* fields stay the
    # charge point's: a StopTransaction arriving later fills them in.
    ended_at: datetime | None = None
    ended_by: str | None = None
    end_reason: str | None = None
    # When the CSMS received the StartTransaction / StopTransaction (None: not known, stored
    # before migration 0013, or not stopped yet), and whether the charge point's start_time /
    # stop_time is clearly wrong: kept as sent, not trusted to order anything
    # (docs/field-behaviour.md, "Replays and clocks").
    start_received_at: datetime | None = None
    start_clock_suspect: bool = False
    stop_received_at: datetime | None = None
    stop_clock_suspect: bool = False
    # The billable energy in Wh and why it is not simply meterStop - meterStart, computed when
    # it stopped or ended (and again for a late StopTransaction or late meter values) by
    # features/core/energy.py; None: not computed (running, or stored before migration 0015).
    energy_wh: int | None = None
    energy_flags: tuple[str, ...] = ()

    @property
    def started_at(self) -> datetime:
        """When it started as far as the CSMS can tell: the charge point's start_time, or the
        receipt time where that clock is suspect (and the receipt time is known)."""
        if self.start_clock_suspect and self.start_received_at is not None:
            return self.start_received_at
        return self.start_time

    @property
    def active(self) -> bool:
        """Neither stopped by its charge point nor ended by the CSMS."""
        return self.stop_time is None and self.ended_at is None

    @property
    def accepted(self) -> bool:
        """Started with an Accepted idTag: only these count against the tag (ConcurrentTx)."""
        return self.id_tag_status == "Accepted"


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionFilter:
    """Which transactions a listing, an export or an energy summary covers: of a charge point,
    of an idTag (case-insensitive), started in [since, until) by the charge point's clock,
    active or not; None: any."""

    charge_point_id: str | None = None
    id_tag: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    active: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EnergyTotal:
    """The transactions of one group of an energy summary (a day, a charge point): how many,
    the energy of those with a known energy (stopped or ended) and how many are still active."""

    key: str
    transactions: int
    energy_wh: int
    active: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MeterSample:
    """One SampledValue of a MeterValues.req or StopTransaction transactionData (spec 7.43).

    Optional fields are None when the charge point left them out (their spec defaults apply).
    """

    charge_point_id: str
    connector_id: int
    transaction_id: int | None
    timestamp: datetime
    value: str
    measurand: str | None = None
    phase: str | None = None
    unit: str | None = None
    context: str | None = None
    location: str | None = None
    format: str | None = None
    # When the CSMS received it (None: not known, e.g. stored before migration 0009).
    received_at: datetime | None = None
    # The timestamp is kept as sent but is clearly wrong (features/clocks.py).
    clock_suspect: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Notification:
    """A FirmwareStatusNotification or DiagnosticsStatusNotification as received."""

    charge_point_id: str
    kind: str  # "firmware" | "diagnostics"
    status: str
    received_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class DataTransferRecord:
    """A DataTransfer.req from a charge point and the status we answered (spec 4.3)."""

    charge_point_id: str
    vendor_id: str
    message_id: str | None
    data: str | None
    status: str
    received_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigurationEntry:
    """One configuration key as the charge point reported it (spec 7.20 KeyValue)."""

    key: str
    value: str | None
    readonly: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Configuration:
    """What the CSMS knows of a charge point's configuration (GetConfiguration snapshot plus
    the ChangeConfiguration changes the charge point accepted since)."""

    charge_point_id: str
    entries: list[ConfigurationEntry]
    unknown_keys: list[str]
    # When the last GetConfiguration for all keys was answered; None if never.
    complete_at: datetime | None
    updated_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Availability:
    """A ChangeAvailability the charge point Accepted or Scheduled (spec 5.2)."""

    charge_point_id: str
    connector_id: int
    requested: str  # Operative | Inoperative
    status: str  # Accepted | Scheduled
    at: datetime


class ReservationState(StrEnum):
    """Where a reservation is in its life (spec 3.11, 5.13, 5.1). The answers of ReserveNow.conf
    keep their spec spelling (7.40); the rest are the CSMS's own words."""

    REQUESTED = "Requested"  # ReserveNow sent, not answered yet
    ACCEPTED = "Accepted"  # in force on the charge point
    FAULTED = "Faulted"
    OCCUPIED = "Occupied"
    REJECTED = "Rejected"
    UNAVAILABLE = "Unavailable"
    FAILED = "Failed"  # never made: not sent, no answer, a CALLERROR (see `reason`)
    USED = "Used"  # ended by a StartTransaction (spec 4.8)
    CANCELLED = "Cancelled"  # CancelReservation Accepted (spec 5.1)
    EXPIRED = "Expired"  # its expiryDate passed unused


# A reservation in these states may still be used, cancelled or expire.
ACTIVE_RESERVATION_STATES = frozenset({ReservationState.REQUESTED, ReservationState.ACCEPTED})


@dataclass(frozen=True, slots=True, kw_only=True)
class ReservationRequest:
    """A ReserveNow the CSMS is about to send (spec 6.37); `reservation_id` None = allocate."""

    charge_point_id: str
    connector_id: int
    id_tag: str
    parent_id_tag: str | None
    expiry_date: datetime
    reservation_id: int | None
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Reservation:
    """A reservation the CSMS asked for (spec 5.13) and what became of it."""

    id: int  # the reservationId, unique across charge points
    charge_point_id: str
    connector_id: int  # 0 = any connector of the charge point
    id_tag: str
    parent_id_tag: str | None
    expiry_date: datetime
    state: str  # a ReservationState
    reason: str | None  # why it is in that state, when not obvious
    transaction_id: int | None  # the transaction that used it
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class InstalledChargingProfile:
    """A charging profile the charge point Accepted, as the CSMS believes it installed (spec
    3.13, 5.16): from SetChargingProfile or from a RemoteStartTransaction (5.16.2)."""

    charge_point_id: str
    connector_id: int
    charging_profile_id: int
    stack_level: int
    purpose: str  # ChargePointMaxProfile | TxDefaultProfile | TxProfile
    # A TxProfile's transaction: its transactionId, or the transaction its RemoteStartTransaction
    # started; None for the other purposes and for a remote start still waiting for its start.
    transaction_id: int | None
    # The idTag of the RemoteStartTransaction that carried it, until its transaction starts.
    remote_start_id_tag: str | None
    # The csChargingProfiles JSON exactly as sent (numbers as JSON numbers).
    profile: Mapping[str, Any]
    installed_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalListPolicy:
    """Which of the CSMS's id tags go into the local authorization list of the charge points
    assigned to it (spec 3.5.2: all identifiers or a selection)."""

    name: str
    kind: str  # all | parentIdTags | idTags (features/local_list/plan.PolicyKind)
    # The group tags (parentIdTags) or the tags themselves (idTags); empty for all.
    id_tags: tuple[str, ...] = ()
    description: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalList:
    """What the CSMS knows of one charge point's local authorization list (spec 3.5.2, 5.10,
    5.15). The entries it believes installed are read apart (Store.local_list_entries)."""

    charge_point_id: str
    policy: str | None = None  # the LocalListPolicy it gets; None = not managed
    status: str = "Unknown"  # Unknown | InSync | Mismatch | Failed | NotSupported
    version: int | None = None  # the version the CSMS believes installed; None = unknown
    sent_version: int | None = None  # the highest listVersion sent to it
    reported_version: int | None = None  # the last GetLocalListVersion answer ...
    reconciled_at: datetime | None = None  # ... and when it came
    # The last SendLocalList: its updateType, listVersion, answer (None: none came) and time.
    last_update_type: str | None = None
    last_update_version: int | None = None
    last_update_status: str | None = None
    last_update_at: datetime | None = None
    error: str | None = None  # why the CSMS could not bring the list up to date last time


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalListUpdate:
    """A SendLocalList sent to a charge point, its answer, and what the CSMS concluded."""

    charge_point_id: str
    update_type: str  # Full | Differential
    list_version: int
    answer: str | None  # the UpdateStatus answered; None: no answer or a CALLERROR
    status: str  # the list's status from now on (LocalList.status)
    at: datetime
    # Whether the charge point installed it: then a Full replaces the believed entries with
    # `entries`, a Differential adds or updates `entries` and deletes `removals`.
    applied: bool = False
    entries: tuple[IdTag, ...] = ()
    removals: tuple[str, ...] = ()


# -- firmware and diagnostics (spec 5.9, 5.19, 8) -----------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class FirmwareImage:
    """A firmware image the CSMS hosts for charge points to download (spec 8.1)."""

    id: int
    file_name: str
    size: int
    sha256: str  # hex
    description: str | None
    uploaded_at: datetime
    # A signed image (whitepaper 4): the PEM signing certificate and the Base64 signature of the
    # whole file, checked on upload; None for an unsigned one.
    signing_certificate: str | None = None
    signature: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewFileJob:
    """An UpdateFirmware (spec 5.19) or GetDiagnostics (spec 5.9) the CSMS is about to send."""

    kind: str  # "firmware" | "diagnostics"
    charge_point_id: str
    location: str
    status: str
    requested_at: datetime
    # When the CSMS gives up waiting for news of it (the timeout sweeper).
    deadline: datetime
    retries: int | None = None
    retry_interval: int | None = None
    retrieve_date: datetime | None = None  # firmware
    image_id: int | None = None  # firmware hosted here
    start_time: datetime | None = None  # diagnostics
    stop_time: datetime | None = None  # diagnostics
    # None for UpdateFirmware / GetDiagnostics; "SignedUpdateFirmware" or the GetLog logType.
    variant: str | None = None
    # The whitepaper requestId (SignedUpdateFirmware, GetLog); None: the job's own id is used.
    request_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FileJob:
    """A firmware update or diagnostics upload of one charge point, followed from the request
    through every status notification (spec 4.4, 4.5)."""

    id: int
    kind: str  # "firmware" | "diagnostics"
    charge_point_id: str
    location: str
    retries: int | None
    retry_interval: int | None
    retrieve_date: datetime | None
    image_id: int | None
    start_time: datetime | None
    stop_time: datetime | None
    # GetDiagnostics.conf fileName (spec 6.26).
    file_name: str | None
    # "Requested", "Accepted", then the FirmwareStatus / DiagnosticsStatus last reported.
    status: str
    # None while in progress; then "Succeeded", "Failed" or "TimedOut", with the reason.
    outcome: str | None
    reason: str | None
    requested_at: datetime
    updated_at: datetime
    deadline: datetime
    finished_at: datetime | None
    # None for UpdateFirmware / GetDiagnostics; "SignedUpdateFirmware" or the GetLog logType
    # (whitepaper 4, 3), with the requestId its notifications carry.
    variant: str | None = None
    request_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FileJobEvent:
    """One thing that happened to a job: a notification, a transfer, a refused link."""

    job_id: int
    at: datetime
    event: str
    detail: str | None = None


# A pure function of a job: the job as it becomes and the events to record, or None to leave it
# unchanged. The store applies it inside one write transaction (and may run it more than once).
FileJobChange = Callable[[FileJob], "tuple[FileJob, list[FileJobEvent]] | None"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DiagnosticsFile:
    """A diagnostics file a charge point uploaded to the CSMS (spec 8.2)."""

    job_id: int
    file_name: str
    size: int
    # False when the transfer broke off (or the charge point reported UploadFailed after it).
    complete: bool
    protocol: str  # "ftp" | "http"
    received_at: datetime


# -- site load management (migration 0007) -------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadGroupSpec:
    """What the operator sets for a group of charge points on one supply (a site, a feeder)."""

    name: str
    # The group it hangs below (its limit bounds this one's too); None for a site.
    parent_id: int | None = None
    # The supply's limit, A per phase or W (total) ...
    limit: Decimal
    unit: str = "A"  # A | W
    # ... W converted with this voltage (phase to neutral) and number of phases.
    voltage: Decimal = Decimal(230)
    phases: int = 3
    strategy: str = "EqualShare"  # EqualShare | Priority
    # Below this a transaction is paused (limit 0) rather than starved (IEC 61851-1: 6 A).
    min_current: Decimal = Decimal(6)
    # A car drawing clearly less than allowed gets its measured draw plus this margin.
    draw_margin: Decimal = Decimal(2)


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadGroup(LoadGroupSpec):
    id: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadGroupMember:
    """A charge point in a load group (in at most one)."""

    charge_point_id: str
    group_id: int
    # With the Priority strategy, higher is served first (a transaction's own priority wins).
    priority: int = 0
    # Phases its connectors charge on (the TxProfiles' numberPhases) ...
    phases: int = 3
    # ... and the most each connector can take, A per phase.
    max_current: Decimal = Decimal(32)
    # How many connectors it has; None: its NumberOfConnectors, else those it reported.
    connectors: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadAllocation:
    """One limit load management sent to a charge point, why, and what became of it."""

    id: int | None = None  # given by the store
    group_id: int  # the charge point's group
    charge_point_id: str
    connector_id: int
    transaction_id: int | None  # None for the fallback TxDefaultProfile
    purpose: str  # TxProfile | TxDefaultProfile
    limit: Decimal  # A per phase (0: paused)
    number_phases: int
    paused: bool
    demand: Decimal | None  # what the transaction asked for, A per phase
    measured_draw: Decimal | None
    strategy: str
    reason: str
    status: str  # the SetChargingProfile answer: Accepted | Rejected | NotSupported | ... | Offline
    sent_at: datetime
    answered_at: datetime | None


# -- operator accounts (docs/console.md) ---------------------------------------------------------


class Role(StrEnum):
    """What an operator account may do; each role may do everything of the roles below it."""

    VIEWER = "viewer"  # read
    OPERATOR = "operator"  # commands, id tags, groups, reservations, profiles, lists, firmware
    ADMIN = "admin"  # users, tokens of others, the audit log

    @property
    def rank(self) -> int:
        return _ROLE_RANKS[self]

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


_ROLE_RANKS = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    id: int
    name: str
    role: Role
    # scrypt (transport/basic_auth.py's format); never leaves the server.
    password_hash: str
    disabled: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiToken:
    """A user's API token. Only its SHA-256 digest is stored (tokens are random and long)."""

    id: int
    user_id: int
    name: str
    digest: str
    # The token's first characters, to tell tokens apart in a list.
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsoleSession:
    """A console login. `digest`: SHA-256 of the cookie's random id (the id itself is not
    stored); `csrf_token`: required on every form post of the session."""

    digest: str
    user_id: int
    csrf_token: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownChargePointAttempt:
    """An unknown charge point refused at the handshake (features/unknown_charge_points.py):
    one row per id, however often it tried."""

    charge_point_id: str
    first_at: datetime
    last_at: datetime
    attempts: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    """One operator action: who, what, when and the answer's HTTP status."""

    id: int
    at: datetime
    # The user's name, or "api-token" for the static token of --api-token.
    actor: str
    user_id: int | None
    method: str
    path: str
    # The API operation's id or the console action's name.
    operation: str | None
    charge_point_id: str | None
    summary: str | None
    status: int


@dataclass(frozen=True, slots=True, kw_only=True)
class LoggedMessage:
    """One OCPP-J frame received from or sent to a charge point (docs/message-log.md)."""

    charge_point_id: str
    # When the CSMS received or sent it (aware UTC).
    at: datetime
    direction: str  # "in" (from the charge point) or "out"
    # "CALL", "CALLRESULT", "CALLERROR", or "MALFORMED" (received text that is no frame).
    message_type: str
    # The CALL's action; for a CALLRESULT or CALLERROR the action of the CALL it answers
    # (None if that is unknown: no CALL of ours was waiting for it).
    action: str | None
    unique_id: str | None
    # The frame's whole text, cut to the log's bound if longer (`truncated`).
    text: str
    truncated: bool = False
    # Why a received frame was malformed or matched no CALL.
    note: str | None = None
    # Set by the store.
    id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageLogCounts:
    """The message log's queue: rows waiting to be written, and rows lost so far (dropped for
    a full queue, or refused by the database)."""

    queued: int
    dropped: int
    failed: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargerProfileRecord:
    """A charger profile an operator added (docs/charger-compatibility.md): which charge points
    it describes (regular expressions on the BootNotification, or ids) and its rules as the
    API spells them (quirks/profiles.Rules.from_json checks them)."""

    name: str
    description: str = ""
    vendor: str | None = None
    model: str | None = None
    firmware_version: str | None = None
    charge_point_ids: tuple[str, ...] = ()
    rules: Mapping[str, Any] = field(default_factory=dict)
    updated_at: datetime


# The purpose of the profiles that end with their transaction (spec 7.10, 7.13).
TX_PROFILE: Final = "TxProfile"

# The measurand of the energy register (spec 7.31); a sampled value without one is it too.
ENERGY_REGISTER: Final = "Energy.Active.Import.Register"

# A transaction's energy (Wh, never negative) and its flags from its register samples, in the
# order received: features/core/energy.py `billable_energy`, given to `stop_transaction`.
EnergyOf = Callable[[Transaction, Sequence[MeterSample]], tuple[int, tuple[str, ...]]]
