"""A CSMS with wss:// for the security tests: a server certificate from trustme, the built-in
charge point CA, and charge points that trust the server."""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import trustme
from tests.harness import Harness, csms


@contextlib.asynccontextmanager
async def tls_csms(tmp_path: Path, **settings: Any) -> AsyncIterator[tuple[Harness, str, str]]:
    """The CSMS, its wss:// URL and the PEM of the CA that signed its server certificate."""
    server_ca = trustme.CA()
    server = server_ca.issue_cert("127.0.0.1", "localhost")
    cert, key = tmp_path / "server.pem", tmp_path / "server.key"
    server.cert_chain_pems[0].write_to_path(cert)
    server.private_key_pem.write_to_path(key)
    async with csms(tmp_path / "csms.db", tls_cert=cert, tls_key=key, **settings) as harness:
        url = harness.url.replace("ws://", "wss://")
        yield harness, url, server_ca.cert_pem.bytes().decode()


def trusting(server_ca_pem: str) -> ssl.SSLContext:
    """A TLS client context without a client certificate."""
    context = ssl.create_default_context(cadata=server_ca_pem)
    return context
