"""Security extension (OCPP 1.6 security whitepaper, edition 3), one module per part.

Security profiles per charge point enforced at the handshake (`profiles`), the CSMS's
certificate authority (`authority`), certificate management (`certificates`, with OCPP hash
data in `hash_data`), security events (`events`), signed firmware update (`signed_firmware`,
checked by `firmware_signatures`), security and diagnostics logs (`logs`) and
ExtendedTriggerMessage (`extended_trigger`). ROUTES joins the charge point's CALLs they answer.
See docs/security.md and docs/signed-firmware.md.
"""

from csms.features.context import Handler
from csms.features.security import certificates, events
from csms.features.security.logs import ROUTES as _LOG_ROUTES
from csms.features.security.signed_firmware import ROUTES as _SIGNED_FIRMWARE_ROUTES

ROUTES: dict[str, Handler] = {
    **certificates.ROUTES,
    **events.ROUTES,
    **_SIGNED_FIRMWARE_ROUTES,
    **_LOG_ROUTES,
}

__all__ = ["ROUTES"]
