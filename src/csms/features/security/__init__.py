"""Security extension (OCPP 1.6 security whitepaper edition 3; docs/security.md).

Security profiles per charge point enforced at the handshake (`profiles`), the CSMS's
certificate authority (`authority`), certificate management (`certificates`, with OCPP hash
data in `hash_data`) and security events (`events`). ROUTES: SignCertificate and
SecurityEventNotification. See docs/architecture.md.
"""

from csms.features.context import Handler
from csms.features.security import certificates, events

ROUTES: dict[str, Handler] = {**certificates.ROUTES, **events.ROUTES}

__all__ = ["ROUTES"]
