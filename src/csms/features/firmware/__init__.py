"""Firmware Management profile (spec 4.4, 4.5, 5.9, 5.19; errata 3.12, 3.31, 3.47).

UpdateFirmware and the FirmwareStatusNotifications that follow it (`firmware`), GetDiagnostics
and the DiagnosticsStatusNotifications (`diagnostics`), and the job both kinds share: what the
CSMS concludes from each thing it learns about one, and giving up on silence (`jobs`). The files
themselves travel through csms.files (FTP and HTTP the CSMS hosts). See docs/architecture.md.
"""

from csms.features.context import Handler
from csms.features.firmware.diagnostics import ROUTES as _DIAGNOSTICS_ROUTES
from csms.features.firmware.diagnostics import get_diagnostics
from csms.features.firmware.firmware import ROUTES as _FIRMWARE_ROUTES
from csms.features.firmware.firmware import UnknownFirmwareImage, update_firmware
from csms.features.firmware.jobs import JobKind, sweep

ROUTES: dict[str, Handler] = {**_FIRMWARE_ROUTES, **_DIAGNOSTICS_ROUTES}

__all__ = [
    "ROUTES",
    "JobKind",
    "UnknownFirmwareImage",
    "get_diagnostics",
    "sweep",
    "update_firmware",
]
