"""The wss:// listener's TLS (whitepaper 2.4 and 2.5): TLS 1.2 or newer with the server
certificate (profile 2), and client certificates asked for but not required (profile 3), so
that both profiles share one port. A client certificate that is presented is verified by the
TLS layer against the trusted CAs (chain and validity, A00.FR.403); one that fails ends the
handshake, and the reason is logged here (A00.FR.407/408: nothing else sees it). Which charge
point a valid certificate may stand for is decided at admission (features/security/)."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger("csms.transport.tls")

# TLS 1.2 suites (TLS 1.3 has its own): forward-secret ECDHE first, and the two RSA key
# exchange suites A00.FR.421 requires (TLS_RSA_WITH_AES_128/256_GCM_*; OCTT TC_086 checks them),
# which Python's defaults leave out. The ECDHE_ECDSA ones need an EC server certificate.
TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20:AES128-GCM-SHA256:AES256-GCM-SHA384"


class _LoggedHandshake(ssl.SSLObject):
    """An SSLObject that logs why a client certificate was refused (asyncio does not)."""

    def do_handshake(self) -> None:
        try:
            super().do_handshake()
        except ssl.SSLCertVerificationError as exc:
            log.warning("TLS handshake refused: client certificate: %s", exc.verify_message)
            raise
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            raise
        except ssl.SSLError as exc:
            log.info("TLS handshake failed: %s", exc.reason or exc)
            raise


def server_context(
    cert: Path, key: Path, client_cas: Sequence[Path] = (), ca_pems: Sequence[str] = ()
) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(TLS12_CIPHERS)
    context.load_cert_chain(cert, key)
    context.sslobject_class = _LoggedHandshake
    if client_cas or ca_pems:
        for path in client_cas:
            context.load_verify_locations(cafile=path)
        for pem in ca_pems:
            context.load_verify_locations(cadata=pem)
        context.verify_mode = ssl.CERT_OPTIONAL
    return context
