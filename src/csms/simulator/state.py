"""What a simulated charge point remembers: configuration, transactions, reservations, local
authorization list, charging profiles, connector status and availability.

The default answers (`answers.py`) read and change this state; the scripted steps of
`SimulatedChargePoint` update it from what the charge point sent and what the CSMS answered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from csms.simulator.certificates import CertificateState
from csms.simulator.stacks import Seen, Stack

# Spec 9.1.17 / 7.31: the Measurand values a sampled-data configuration key may list.
MEASURANDS: Final = frozenset(
    {
        "Current.Export",
        "Current.Import",
        "Current.Offered",
        "Energy.Active.Export.Register",
        "Energy.Active.Import.Register",
        "Energy.Reactive.Export.Register",
        "Energy.Reactive.Import.Register",
        "Energy.Active.Export.Interval",
        "Energy.Active.Import.Interval",
        "Energy.Reactive.Export.Interval",
        "Energy.Reactive.Import.Interval",
        "Frequency",
        "Power.Active.Export",
        "Power.Active.Import",
        "Power.Factor",
        "Power.Offered",
        "Power.Reactive.Export",
        "Power.Reactive.Import",
        "RPM",
        "SoC",
        "Temperature",
        "Voltage",
    }
)

SUPPORTED_FEATURE_PROFILES: Final = (
    "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger"
)

# Spec 9: keys whose value is a non-negative integer (WebSocketPingInterval: "Negative values are
# not allowed. ChangeConfiguration is expected to return a REJECTED result").
_INTEGER_KEYS: Final = frozenset(
    {
        "BlinkRepeat",
        "ClockAlignedDataInterval",
        "ConnectionTimeOut",
        "HeartbeatInterval",
        "LightIntensity",
        "MaxEnergyOnInvalidId",
        "MeterValueSampleInterval",
        "MinimumStatusDuration",
        "ResetRetries",
        "TransactionMessageAttempts",
        "TransactionMessageRetryInterval",
        "WebSocketPingInterval",
    }
)
_BOOLEAN_KEYS: Final = frozenset(
    {
        "AllowOfflineTxForUnknownId",
        "AuthorizationCacheEnabled",
        "AuthorizeRemoteTxRequests",
        "LocalAuthListEnabled",
        "LocalAuthorizeOffline",
        "LocalPreAuthorize",
        "StopTransactionOnEVSideDisconnect",
        "StopTransactionOnInvalidId",
        "UnlockConnectorOnEVSideDisconnect",
    }
)
# CSL of measurands, with the key that bounds its length.
_MEASURAND_LIST_KEYS: Final = {
    "MeterValuesAlignedData": "MeterValuesAlignedDataMaxLength",
    "MeterValuesSampledData": "MeterValuesSampledDataMaxLength",
    "StopTxnAlignedData": "StopTxnAlignedDataMaxLength",
    "StopTxnSampledData": "StopTxnSampledDataMaxLength",
}
_PHASE_ROTATIONS: Final = frozenset(
    {"NotApplicable", "Unknown", "RST", "RTS", "SRT", "STR", "TRS", "TSR"}
)


def default_configuration(connectors: int) -> dict[str, tuple[str, bool]]:
    """Realistic keys of spec 9 for a charge point with every 1.6 feature profile:
    key -> (value, readonly)."""
    rotation = ",".join(f"{n}.RST" for n in range(connectors + 1))
    return {
        # Core (spec 9.1)
        "AllowOfflineTxForUnknownId": ("false", False),
        "AuthorizationCacheEnabled": ("true", False),
        "AuthorizeRemoteTxRequests": ("true", False),
        "ClockAlignedDataInterval": ("0", False),
        "ConnectionTimeOut": ("60", False),
        "ConnectorPhaseRotation": (rotation, False),
        "ConnectorPhaseRotationMaxLength": (str(connectors + 1), True),
        "GetConfigurationMaxKeys": ("100", True),
        "HeartbeatInterval": ("300", False),
        "LocalAuthorizeOffline": ("true", False),
        "LocalPreAuthorize": ("false", False),
        "MeterValuesAlignedData": ("Energy.Active.Import.Register", False),
        "MeterValuesAlignedDataMaxLength": ("10", True),
        "MeterValuesSampledData": (
            "Energy.Active.Import.Register,Power.Active.Import,Current.Import",
            False,
        ),
        "MeterValuesSampledDataMaxLength": ("10", True),
        "MeterValueSampleInterval": ("60", False),
        "MinimumStatusDuration": ("0", False),
        "NumberOfConnectors": (str(connectors), True),
        "ResetRetries": ("3", False),
        "StopTransactionOnEVSideDisconnect": ("true", False),
        "StopTransactionOnInvalidId": ("true", False),
        "StopTxnAlignedData": ("", False),
        "StopTxnAlignedDataMaxLength": ("10", True),
        "StopTxnSampledData": ("", False),
        "StopTxnSampledDataMaxLength": ("10", True),
        "SupportedFeatureProfiles": (SUPPORTED_FEATURE_PROFILES, True),
        "SupportedFeatureProfilesMaxLength": ("6", True),
        "TransactionMessageAttempts": ("3", False),
        "TransactionMessageRetryInterval": ("60", False),
        "UnlockConnectorOnEVSideDisconnect": ("true", False),
        "WebSocketPingInterval": ("0", False),
        # Local Auth List Management (spec 9.2)
        "LocalAuthListEnabled": ("true", False),
        "LocalAuthListMaxLength": ("100", True),
        "SendLocalListMaxLength": ("100", True),
        # Reservation (spec 9.3)
        "ReserveConnectorZeroSupported": ("true", True),
        # Smart Charging (spec 9.4)
        "ChargeProfileMaxStackLevel": ("10", True),
        "ChargingScheduleAllowedChargingRateUnit": ("Current,Power", True),
        "ChargingScheduleMaxPeriods": ("24", True),
        "ConnectorSwitch3to1PhaseSupported": ("false", True),
        "MaxChargingProfilesInstalled": ("10", True),
    }


def is_valid_value(configuration: dict[str, tuple[str, bool]], key: str, value: str) -> bool:
    """Whether a charge point would take `value` for `key` (ChangeConfiguration Rejected if not)."""
    if key in _INTEGER_KEYS:
        return value.isascii() and value.isdigit()
    if key in _BOOLEAN_KEYS:
        return value.lower() in ("true", "false")
    if key in _MEASURAND_LIST_KEYS:
        items = [item.strip() for item in value.split(",")] if value.strip() else []
        # A measurand may carry a phase suffix (spec 9.1.17: "Voltage.L1").
        if not all(_base_measurand(item) in MEASURANDS for item in items):
            return False
        limit = configuration.get(_MEASURAND_LIST_KEYS[key])
        return limit is None or len(items) <= int(limit[0])
    if key == "ConnectorPhaseRotation":
        entries = [item.strip() for item in value.split(",")]
        return all(_is_phase_rotation(entry) for entry in entries)
    return True


def _base_measurand(item: str) -> str:
    for suffix in (
        ".L1-N",
        ".L2-N",
        ".L3-N",
        ".L1-L2",
        ".L2-L3",
        ".L3-L1",
        ".L1",
        ".L2",
        ".L3",
        ".N",
    ):
        if item.endswith(suffix):
            return item[: -len(suffix)]
    return item


def _is_phase_rotation(entry: str) -> bool:
    connector, _, rotation = entry.partition(".")
    return connector.isascii() and connector.isdigit() and rotation in _PHASE_ROTATIONS


@dataclass(frozen=True, slots=True, kw_only=True)
class Transaction:
    """A transaction the charge point started (transactionId from StartTransaction.conf)."""

    transaction_id: int
    connector_id: int
    id_tag: str
    meter_start: int
    reservation_id: int | None = None
    # The StartTransaction.req timestamp: where Relative charging profiles start (spec 7.9).
    started_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Reservation:
    """A reservation accepted from ReserveNow.req."""

    reservation_id: int
    connector_id: int
    id_tag: str
    expiry_date: str
    parent_id_tag: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InstalledProfile:
    """A charging profile accepted from SetChargingProfile.req (or RemoteStartTransaction.req)."""

    connector_id: int
    profile: dict[str, Any]
    # When it was accepted: where an Absolute profile without startSchedule starts (spec 7.13
    # makes the field optional; docs/charger-compatibility.md).
    installed_at: datetime | None = None

    @property
    def charging_profile_id(self) -> int:
        return int(self.profile["chargingProfileId"])

    @property
    def stack_level(self) -> int:
        return int(self.profile["stackLevel"])

    @property
    def purpose(self) -> str:
        return str(self.profile["chargingProfilePurpose"])


@dataclass(slots=True)
class ChargePointState:
    """Everything a charge point remembers across connections (mutable by nature)."""

    charge_point_id: str
    connectors: int
    configuration: dict[str, tuple[str, bool]] = field(default_factory=dict)
    transactions: dict[int, Transaction] = field(default_factory=dict)
    reservations: dict[int, Reservation] = field(default_factory=dict)
    charging_profiles: list[InstalledProfile] = field(default_factory=list)
    local_list_version: int = 0
    local_list: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Last status reported per connector (0 = the charge point itself), and availability.
    connector_status: dict[int, str] = field(default_factory=dict)
    availability: dict[int, str] = field(default_factory=dict)
    # Energy register per connector in Wh, reported by default in MeterValues.
    meter_wh: dict[int, float] = field(default_factory=dict)
    # The charge point's clock (composite schedules are computed from now, spec 5.7).
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    # The stack it acts like (stacks.py) and what that stack did with what it could not hold.
    stack: Stack = field(default_factory=Stack)
    seen: Seen = field(default_factory=Seen)
    # A signed firmware update under way (whitepaper L01.FR.26: a new one cancels it).
    firmware_busy: bool = False
    # Its key, certificates and trusted roots (security whitepaper, certificates.py).
    certificates: CertificateState = field(default_factory=CertificateState)

    def __post_init__(self) -> None:
        if not self.configuration:
            self.configuration = default_configuration(self.connectors)
            if self.stack.get_configuration_max_keys is not None:
                keys = str(self.stack.get_configuration_max_keys)
                self.configuration["GetConfigurationMaxKeys"] = (keys, True)
        for connector_id in range(self.connectors + 1):
            self.availability.setdefault(connector_id, "Operative")
            self.meter_wh.setdefault(connector_id, 0)

    def config_value(self, key: str) -> str | None:
        entry = self.configuration.get(key)
        return None if entry is None else entry[0]

    def config_int(self, key: str, default: int) -> int:
        value = self.config_value(key)
        try:
            return int(value) if value is not None else default
        except ValueError:
            return default

    def is_connector(self, connector_id: int) -> bool:
        """A physical connector, 1..N."""
        return 1 <= connector_id <= self.connectors

    def transaction_on(self, connector_id: int) -> Transaction | None:
        for transaction in self.transactions.values():
            if transaction.connector_id == connector_id:
                return transaction
        return None
