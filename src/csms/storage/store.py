"""The Store protocol: every persistent operation of the CSMS, named after the domain.

Each method is one database transaction. Writes from the charge-point message path go through
group commit: a call returns only after its data is committed, and many concurrent calls share
one commit (docs/architecture.md, "Dependency rules").

Over 400 lines: the one list of everything persistent, each method a signature and a docstring.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Protocol

from csms.storage.event_records import EventsOf, OutboxEvent
from csms.storage.event_store import EventStore
from csms.storage.records import (
    ApiToken,
    AuditEntry,
    Availability,
    BootInfo,
    ChargePoint,
    ChargePointProvision,
    ChargerProfileRecord,
    Configuration,
    ConfigurationEntry,
    ConnectorStatus,
    ConsoleSession,
    DataTransferRecord,
    DiagnosticsFile,
    EnergyOf,
    EnergyTotal,
    FileJob,
    FileJobChange,
    FileJobEvent,
    FirmwareImage,
    IdTag,
    InstalledChargingProfile,
    LoadAllocation,
    LoadGroup,
    LoadGroupMember,
    LoadGroupSpec,
    LocalList,
    LocalListPolicy,
    LocalListUpdate,
    LoggedMessage,
    MessageLogCounts,
    MeterSample,
    NewFileJob,
    Notification,
    Reservation,
    ReservationRequest,
    Role,
    Transaction,
    TransactionFilter,
    TransactionStart,
    TransactionStop,
    UnknownChargePointAttempt,
    User,
)
from csms.storage.security_store import SecurityStore


class Store(EventStore, SecurityStore, Protocol):
    async def close(self) -> None:
        """Flush what is pending (touches included) and release the database."""

    # -- charge points -------------------------------------------------------------------------

    async def get_charge_point(self, charge_point_id: str) -> ChargePoint | None: ...

    async def list_charge_points(self) -> list[ChargePoint]: ...

    async def charge_point_page(
        self,
        *,
        search: str | None = None,
        sort: str = "id",
        descending: bool = False,
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[list[ChargePoint], int]:
        """One page of charge points (for the console, docs/console.md) and how many match:
        `search` in id, description, vendor, model or firmware (case-insensitive); sorted by
        id, last_seen, model, firmware or status (registration), then id."""

    async def connector_status_counts(self) -> dict[str, int]:
        """Status -> how many charge points have a connector (> 0) in it now."""

    async def save_charge_point(
        self,
        charge_point_id: str,
        *,
        registration_status: str,
        password_hash: str | None,
        description: str | None,
        events: Sequence[OutboxEvent] = (),
    ) -> ChargePoint:
        """Register a charge point, or update these provisioning fields of a known one.
        `events` (here and below): outbox events committed with the change (or not at all)."""

    async def save_charge_points(
        self, provisions: Sequence[ChargePointProvision], events: Sequence[OutboxEvent] = ()
    ) -> tuple[int, int]:
        """Bulk provisioning: every row as save_charge_point would store it, in one transaction
        (all or none). (registered, updated)."""

    async def replace_password_hash(self, charge_point_id: str, old: str, new: str) -> bool:
        """The password hash `old` replaced by `new` (the same password, hashed another way);
        False if the charge point's hash is no longer `old`."""

    async def delete_charge_point(self, charge_point_id: str) -> bool: ...

    async def record_boot(
        self,
        charge_point_id: str,
        boot: BootInfo,
        at: datetime,
        events: Sequence[OutboxEvent] = (),
    ) -> None:
        """Store the identity of a BootNotification (the charge point exists)."""

    def touch(self, charge_point_id: str, at: datetime) -> None:
        """Note that a charge point was heard from. Does not wait: coalesced per charge point and
        written with the next batch (or on close)."""

    # -- connectors ----------------------------------------------------------------------------

    async def record_status(
        self, status: ConnectorStatus, events: Sequence[OutboxEvent] = ()
    ) -> None:
        """Append to the history and make it the connector's current status."""

    async def list_connectors(self, charge_point_id: str) -> list[ConnectorStatus]:
        """The current status of each connector that ever reported, by connector id."""

    async def status_history(
        self, charge_point_id: str, connector_id: int | None = None, limit: int = 100
    ) -> list[ConnectorStatus]:
        """Most recent first."""

    # -- id tags -------------------------------------------------------------------------------

    async def get_id_tag(self, id_tag: str) -> IdTag | None:
        """Case-insensitive (IdToken is a CiString20, spec 7.28)."""

    async def put_id_tag(self, tag: IdTag) -> IdTag:
        """Create or replace; keeps the spelling of an existing tag that matches
        case-insensitively."""

    async def put_id_tags(self, tags: Sequence[IdTag]) -> tuple[int, int]:
        """Bulk import: every tag as put_id_tag would store it (an existing tag of another case
        keeps its spelling), in one transaction (all or none). (created, updated)."""

    async def delete_id_tag(self, id_tag: str) -> bool: ...

    async def list_id_tags(self) -> list[IdTag]: ...

    # -- transactions --------------------------------------------------------------------------

    async def start_transaction(
        self, start: TransactionStart, events: EventsOf[Transaction] | None = None
    ) -> Transaction:
        """Create a transaction with a new unique positive id. An identical start (same charge
        point, connector, idTag, meterStart and timestamp) replayed after a lost answer returns
        the existing transaction instead of a new one. A connector runs one transaction at a
        time: of its open ones the latest started stays open, the others are ended by the CSMS
        (ended_by "csms", "superseded by transaction N"; docs/field-behaviour.md)."""

    async def stop_transaction(
        self,
        stop: TransactionStop,
        events: EventsOf[Transaction | None] | None = None,
        energy: EnergyOf | None = None,
    ) -> Transaction | None:
        """Close the transaction; None if the charge point has no transaction with that id. A
        transaction already stopped is returned unchanged (a replayed StopTransaction); one the
        CSMS ended takes the stop's values. Its transactionData are stored in the same commit,
        and with `energy` its energy is computed from its register samples (all of them, these
        included) and stored there too, so that `events` see it."""

    async def end_transaction(
        self, transaction_id: int, *, ended_by: str, reason: str | None
    ) -> Transaction | None:
        """End an open transaction without its StopTransaction (a later one still fills in the
        charge point's values); None if unknown. Raises TransactionEndedError if it was
        stopped or ended already."""

    async def get_transaction(self, transaction_id: int) -> Transaction | None: ...

    async def list_transactions(
        self, *, charge_point_id: str | None = None, active: bool | None = None
    ) -> list[Transaction]:
        """Oldest first. Active: neither stopped nor ended by the CSMS."""

    async def transaction_page(
        self,
        *,
        charge_point_id: str | None = None,
        id_tag: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        active: bool | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[list[Transaction], int]:
        """Newest first, one page, and how many match (started in [since, until))."""

    async def energy_stopped_since(self, since: datetime) -> int:
        """Wh of the transactions stopped since then (meterStop - meterStart)."""

    async def count_active_transactions(self) -> int:
        """How many transactions are active (neither stopped nor ended by the CSMS)."""

    async def open_transactions_on(
        self, charge_point_id: str, connector_id: int
    ) -> list[Transaction]:
        """The transactions open on a connector, by id. From memory."""

    async def transactions_after(
        self, which: TransactionFilter, *, after_id: int = 0, limit: int = 100
    ) -> list[Transaction]:
        """Those that match with an id above `after_id`, in id order (the order received): a
        page that follows another skips and repeats nothing, also while transactions are
        inserted (their ids are above every id committed before)."""

    async def record_energy(
        self, transaction_id: int, energy_wh: int, flags: Sequence[str]
    ) -> None:
        """Keep a transaction's billable energy (features/core/energy.py) and its flags."""

    async def energy_by_day(
        self, which: TransactionFilter, days: Sequence[tuple[str, datetime, datetime]]
    ) -> list[EnergyTotal]:
        """One total per (day, start, end), in the order given, of the transactions that match
        and started in [start, end). Energy: the billable energy where computed."""

    async def energy_by_charge_point(self, which: TransactionFilter) -> list[EnergyTotal]:
        """One total per charge point with a matching transaction, by charge point id."""

    async def active_transactions_for_tag(self, id_tag: str) -> list[Transaction]:
        """Active transactions started with this idTag (case-insensitive) and answered
        Accepted, on any charge point: those that count against the tag. From memory."""

    async def add_meter_values(
        self, samples: Sequence[MeterSample], events: Sequence[OutboxEvent] = ()
    ) -> None: ...

    async def meter_values(self, transaction_id: int) -> list[MeterSample]:
        """In the order received."""

    async def meter_values_of_transactions(
        self, transaction_ids: Collection[int], *, measurand: str | None = None
    ) -> dict[int, list[MeterSample]]:
        """The samples of each transaction, in the order received (an empty list for one with
        none); with `measurand`, only those of it and those with no measurand (spec 7.31: the
        default is Energy.Active.Import.Register)."""

    async def meter_values_of(
        self, charge_point_id: str, connector_id: int | None = None, limit: int = 1000
    ) -> list[MeterSample]:
        """A charge point's samples (of one connector, if given), the last `limit` received, in
        the order received; also those with no transaction (main meter, connector 0)."""

    # -- other reports -------------------------------------------------------------------------

    async def record_notification(self, notification: Notification) -> None: ...

    async def list_notifications(self, charge_point_id: str) -> list[Notification]:
        """Oldest first."""

    async def record_data_transfer(self, record: DataTransferRecord) -> None: ...

    # -- configuration and availability (what CSMS commands changed) ---------------------------

    async def save_configuration(
        self,
        charge_point_id: str,
        entries: Sequence[ConfigurationEntry],
        *,
        unknown_keys: Sequence[str],
        complete: bool,
        at: datetime,
    ) -> None:
        """Store a GetConfiguration answer: `complete` (all keys were asked for) replaces the
        snapshot, otherwise the reported keys are updated and the others kept."""

    async def set_configuration_value(
        self, charge_point_id: str, key: str, value: str, *, at: datetime
    ) -> None:
        """A ChangeConfiguration the charge point accepted (a key not known yet is added)."""

    async def configuration_of(self, charge_point_id: str) -> Configuration:
        """Entries sorted by key; empty if never read."""

    async def configured_values(self, charge_point_id: str) -> dict[str, str]:
        """Key -> value of every ChangeConfiguration the charge point accepted (the last one
        per key), whatever GetConfiguration reported since."""

    # -- charger profiles (docs/charger-compatibility.md) -----------------------------------------

    async def list_charger_profiles(self) -> list[ChargerProfileRecord]:
        """The profiles operators added, by name."""

    async def save_charger_profile(self, profile: ChargerProfileRecord) -> bool:
        """Add or replace (by name); True if it was added."""

    async def delete_charger_profile(self, name: str) -> bool:
        """False if there was none of that name."""

    async def record_availability(self, availability: Availability) -> None:
        """The connector's requested availability (replaces the previous one). Connector 0
        stands for the whole charge point and replaces every connector's (spec 5.2)."""

    async def availability_of(self, charge_point_id: str) -> list[Availability]:
        """By connector id."""

    # -- smart charging (what the charge point Accepted) -----------------------------------------

    async def install_charging_profile(self, profile: InstalledChargingProfile) -> list[int]:
        """A profile the charge point accepted: replaces the one with the same
        chargingProfileId and the one on the same connector with the same stackLevel and
        purpose (spec 3.13.2, 5.16.3). Returns the ids of the other profiles it replaced."""

    async def clear_charging_profiles(
        self,
        charge_point_id: str,
        *,
        charging_profile_id: int | None = None,
        connector_id: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
    ) -> list[int]:
        """ClearChargingProfile semantics (spec 5.5, errata 3.25/3.26): by id alone when given,
        else every profile matching all the given fields (all of them when none is given).
        Returns the ids cleared."""

    async def charging_profiles_of(
        self, charge_point_id: str, connector_id: int | None = None
    ) -> list[InstalledChargingProfile]:
        """By connector, stack level, id."""

    async def bind_transaction_profiles(
        self, charge_point_id: str, connector_id: int, transaction_id: int, id_tag: str
    ) -> list[int]:
        """A transaction started on the connector: the TxProfiles of a RemoteStartTransaction
        with this idTag now belong to it (spec 5.16.2); other TxProfiles of the connector that
        are not its own are dropped. Returns the ids bound."""

    async def drop_transaction_profiles(
        self, charge_point_id: str, connector_id: int, transaction_id: int
    ) -> list[int]:
        """The transaction ended: its TxProfiles, and any other of the connector but those of a
        RemoteStartTransaction still waiting for its start, are gone (spec 7.10). Returns the
        ids dropped."""

    # -- reservations (spec 5.13, 5.1) -----------------------------------------------------------

    async def request_reservation(self, request: ReservationRequest) -> Reservation:
        """Store a reservation about to be sent, state Requested: a new reservationId (the
        highest so far plus one) unless the request names one. A named id of the same charge
        point's active reservation replaces it (spec 5.13); an id of another charge point's
        reservation, or of one that is over, raises ReservationConflictError."""

    async def record_reservation(self, reservation: Reservation) -> Reservation | None:
        """Create or overwrite a reservation as a ReserveNow answer made it (also one sent
        through the generic command endpoint); None if its id is another charge point's."""

    async def update_reservation(
        self,
        reservation_id: int,
        *,
        state: str,
        at: datetime,
        reason: str | None = None,
        transaction_id: int | None = None,
        from_states: Collection[str] | None = None,
        charge_point_id: str | None = None,
    ) -> Reservation | None:
        """Move a reservation to `state` (reason and transaction id replaced), only from one of
        `from_states` and only if it is `charge_point_id`'s, when given. None if it did not."""

    async def get_reservation(self, reservation_id: int) -> Reservation | None: ...

    async def list_reservations(
        self, *, charge_point_id: str | None = None, state: str | None = None
    ) -> list[Reservation]:
        """By reservationId."""

    async def expire_reservations(self, now: datetime) -> list[Reservation]:
        """Requested and Accepted reservations whose expiryDate is not after `now` become
        Expired; returns them."""

    async def next_reservation_expiry(self) -> datetime | None:
        """The earliest expiryDate of a Requested or Accepted reservation."""

    # -- firmware and diagnostics (spec 5.9, 5.19, 8) ------------------------------------------

    async def add_firmware_image(
        self,
        *,
        file_name: str,
        size: int,
        sha256: str,
        description: str | None,
        uploaded_at: datetime,
        signing_certificate: str | None = None,
        signature: str | None = None,
    ) -> FirmwareImage:
        """A hosted firmware image, with a new id (signed: with its certificate and signature)."""

    async def get_firmware_image(self, image_id: int) -> FirmwareImage | None: ...

    async def list_firmware_images(self) -> list[FirmwareImage]:
        """Oldest first."""

    async def delete_firmware_image(self, image_id: int) -> bool:
        """Jobs that used it keep their location; their image_id becomes None."""

    async def create_file_job(
        self, job: NewFileJob, *, locate: Callable[[int], str] | None = None
    ) -> FileJob:
        """A new job; `locate`, given the new job's id, makes its location (a link or
        credentials that name the job) in the same transaction. A job with a `variant` and no
        `request_id` gets its own id as its request id."""

    async def get_file_job(self, job_id: int) -> FileJob | None: ...

    async def list_file_jobs(
        self,
        charge_point_id: str,
        kind: str,
        *,
        limit: int = 100,
        variants: Collection[str | None] = (None,),
    ) -> list[FileJob]:
        """A charge point's jobs of one kind and of the variants asked for (None: the plain
        UpdateFirmware / GetDiagnostics jobs), newest first."""

    async def find_file_job(
        self, charge_point_id: str, kind: str, request_id: int
    ) -> FileJob | None:
        """The charge point's newest job of `kind` with a variant and that request id."""

    async def change_file_job(self, job_id: int, change: FileJobChange) -> FileJob | None:
        """Apply `change` to the job and record its events, atomically; the job as it is
        now (None if there is no such job)."""

    async def change_latest_file_job(
        self,
        charge_point_id: str,
        kind: str,
        change: FileJobChange,
        *,
        variants: Collection[str | None] = (None,),
    ) -> FileJob | None:
        """`change_file_job` on the charge point's newest job of that kind and of those
        variants (None if none)."""

    async def add_file_job_event(self, event: FileJobEvent) -> None: ...

    async def file_job_events(self, job_id: int) -> list[FileJobEvent]:
        """Oldest first."""

    async def overdue_file_jobs(self, now: datetime) -> list[FileJob]:
        """Jobs still in progress whose deadline is before `now`."""

    async def record_diagnostics_file(self, file: DiagnosticsFile) -> None:
        """Create, or replace the record of the job's file with that name."""

    async def diagnostics_files(self, job_id: int) -> list[DiagnosticsFile]:
        """In the order received."""

    # -- local authorization list (spec 3.5.2, 5.10, 5.15) -------------------------------------

    async def put_local_list_policy(self, policy: LocalListPolicy) -> LocalListPolicy:
        """Create or replace."""

    async def get_local_list_policy(self, name: str) -> LocalListPolicy | None: ...

    async def list_local_list_policies(self) -> list[LocalListPolicy]:
        """By name."""

    async def delete_local_list_policy(self, name: str) -> bool:
        """The charge points of the policy are left without one."""

    async def assign_local_list_policy(self, charge_point_id: str, policy: str | None) -> None:
        """Give a registered charge point a policy (an existing one), or none."""

    async def local_list_of(self, charge_point_id: str) -> LocalList:
        """A charge point never dealt with: LocalList(charge_point_id=...) (Unknown)."""

    async def list_local_lists(self, policy: str | None = None) -> list[LocalList]:
        """The charge points the CSMS keeps a list record for (of `policy` only), by id."""

    async def local_list_entries(self, charge_point_id: str) -> list[IdTag]:
        """The entries the CSMS believes the charge point's list holds, by lower-case idTag."""

    async def local_list_holders_of_any(self) -> list[str]:
        """The charge points believed to hold at least one entry in their list."""

    async def local_list_holders(self, id_tag: str) -> list[str]:
        """The charge points believed to hold `id_tag` (case-insensitive) in their list."""

    async def record_local_list_update(self, update: LocalListUpdate) -> None:
        """A SendLocalList and its outcome; an applied one changes the believed entries."""

    async def record_local_list_version(
        self,
        charge_point_id: str,
        reported_version: int,
        *,
        status: str,
        at: datetime,
        empty: bool = False,
    ) -> None:
        """A GetLocalListVersion answer and the list status it leads to. `empty`: the list is
        known to be empty now (version 0)."""

    async def record_local_list_error(
        self, charge_point_id: str, error: str | None, *, status: str | None = None
    ) -> None:
        """Why the CSMS could not bring the list up to date (None clears it); with `status`,
        the list's status too."""

    # -- site load management ------------------------------------------------------------------

    async def create_load_group(self, spec: LoadGroupSpec, at: datetime) -> LoadGroup:
        """LoadGroupConflictError: the name is taken or the parent does not exist."""

    async def update_load_group(
        self, group_id: int, spec: LoadGroupSpec, at: datetime
    ) -> LoadGroup | None:
        """None: no such group. LoadGroupConflictError: the name is taken, the parent does not
        exist, or it is the group itself or below it (a cycle)."""

    async def get_load_group(self, group_id: int) -> LoadGroup | None: ...

    async def list_load_groups(self) -> list[LoadGroup]:
        """By id."""

    async def delete_load_group(self, group_id: int) -> bool:
        """Its members leave it and its history goes. LoadGroupConflictError: it has
        subgroups."""

    async def put_load_group_member(self, member: LoadGroupMember) -> LoadGroupMember:
        """Add a charge point to a group, or change its settings there. UnknownChargePointError;
        LoadGroupConflictError: no such group, or the charge point is in another one."""

    async def put_load_group_members(self, members: Sequence[LoadGroupMember]) -> None:
        """The same for several, in one transaction (all or none)."""

    async def remove_load_group_member(self, charge_point_id: str) -> LoadGroupMember | None:
        """The membership removed, if there was one."""

    async def list_load_group_members(self, group_id: int | None = None) -> list[LoadGroupMember]:
        """By group, then charge point id."""

    async def set_transaction_load_priority(
        self, transaction_id: int, priority: int | None
    ) -> bool:
        """A transaction's own priority (None: its charge point's); False: no such transaction."""

    async def transaction_load_priorities(
        self, transaction_ids: Collection[int] | None = None
    ) -> dict[int, int]:
        """transaction id -> priority, of those that have one (of the given ones)."""

    async def record_load_profile(self, profile: InstalledChargingProfile) -> list[int]:
        """install_charging_profile for load management's own profiles: the same rules and
        answer, written together with the others recorded at the same time (many at once)."""

    async def record_load_allocations(self, allocations: Collection[LoadAllocation]) -> None:
        """Append to the history (rows of groups deleted meanwhile are dropped)."""

    async def load_allocation_history(
        self,
        group_ids: Collection[int],
        *,
        limit: int = 100,
        before_id: int | None = None,
        transaction_id: int | None = None,
    ) -> list[LoadAllocation]:
        """Newest first; `before_id` pages back."""

    async def prune_load_allocations(self, before: datetime) -> int:
        """Delete the history sent before `before`; how many rows went."""

    # -- operator accounts (docs/console.md) ---------------------------------------------------

    async def add_user(self, name: str, role: Role, password_hash: str, at: datetime) -> User:
        """UserExistsError if the name (case-insensitively) is taken."""

    async def get_user(self, user_id: int) -> User | None: ...

    async def get_user_by_name(self, name: str) -> User | None: ...

    async def list_users(self) -> list[User]: ...

    async def update_user(
        self,
        user_id: int,
        *,
        at: datetime,
        role: Role | None = None,
        disabled: bool | None = None,
        password_hash: str | None = None,
    ) -> User | None:
        """Change what is given; disabling or a new password ends the user's sessions."""

    async def add_api_token(
        self, user_id: int, name: str, digest: str, prefix: str, at: datetime
    ) -> ApiToken: ...

    async def list_api_tokens(self, user_id: int | None = None) -> list[ApiToken]:
        """A user's tokens (everyone's when None), revoked ones included, oldest first."""

    async def revoke_api_token(self, token_id: int, at: datetime) -> ApiToken | None: ...

    async def add_session(self, session: ConsoleSession) -> None: ...

    async def list_sessions(self, now: datetime) -> list[ConsoleSession]:
        """The sessions not expired at `now`."""

    async def delete_session(self, digest: str) -> None: ...

    async def delete_expired_sessions(self, now: datetime) -> int: ...

    async def add_audit_entry(
        self,
        *,
        at: datetime,
        actor: str,
        user_id: int | None,
        method: str,
        path: str,
        operation: str | None,
        charge_point_id: str | None,
        summary: str | None,
        status: int,
    ) -> AuditEntry: ...

    async def list_audit_entries(
        self,
        *,
        limit: int = 100,
        before_id: int | None = None,
        actor: str | None = None,
        charge_point_id: str | None = None,
    ) -> list[AuditEntry]:
        """Newest first; `before_id` pages back."""

    async def prune_audit_log(self, before: datetime) -> int:
        """Delete the entries written before `before` (a chunk per transaction); how many."""

    # -- unknown charge points refused at the handshake (features/unknown_charge_points.py) ---

    async def list_unknown_charge_points(self, limit: int) -> list[UnknownChargePointAttempt]:
        """The most recently seen first."""

    async def save_unknown_charge_points(
        self, attempts: Sequence[UnknownChargePointAttempt], forget: Sequence[str], keep: int
    ) -> None:
        """Store these attempts (replacing the rows of their ids), delete the rows of the ids
        to forget, and then all but the `keep` most recently seen; one transaction."""

    async def prune_unknown_charge_points(self, before: datetime) -> int:
        """Delete the ids last seen before `before`; how many went."""

    # -- the message log (docs/message-log.md) --------------------------------------------------

    def log_message(self, message: LoggedMessage) -> bool:
        """Queue a frame for the log without waiting: written with the next batch of writes or
        within half a second. False (and counted) when the queue is full: the row is dropped."""

    async def flush_message_log(self) -> None:
        """Return once every frame queued so far is written (or dropped)."""

    def set_message_log_limit(self, rows: int) -> None:
        """How many log rows may wait to be written before more are dropped."""

    def message_log_counts(self) -> MessageLogCounts: ...

    async def readiness_problem(self, timeout: float = 2.0) -> tuple[str, str] | None:
        """None when the database answers and is migrated to the newest revision, else (the
        check that failed: "database" or "migrations", why)."""

    async def message_log(
        self,
        charge_point_id: str,
        *,
        action: str | None = None,
        direction: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[LoggedMessage]:
        """Newest first; `since` inclusive, `until` exclusive; `before_id` pages back."""

    async def prune_message_log(self, before: datetime) -> int:
        """Delete the frames logged before `before` (a chunk per transaction); how many went."""
