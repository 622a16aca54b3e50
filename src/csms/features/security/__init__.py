"""Security extension (OCPP 1.6 security whitepaper, edition 3), one module per part.

Signed firmware update (`signed_firmware`, checked by `firmware_signatures`), security and
diagnostics logs (`logs`), ExtendedTriggerMessage (`extended_trigger`). ROUTES joins the
charge point's CALLs they answer. See docs/signed-firmware.md.
"""

from csms.features.context import Handler
from csms.features.security.logs import ROUTES as _LOG_ROUTES
from csms.features.security.signed_firmware import ROUTES as _SIGNED_FIRMWARE_ROUTES

ROUTES: dict[str, Handler] = {
    **_SIGNED_FIRMWARE_ROUTES,
    **_LOG_ROUTES,
}

__all__ = ["ROUTES"]
