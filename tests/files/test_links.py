"""Signed links, the link secret, and where files and URLs go (files/links.py, files/host.py)."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from csms.files.host import FileHost, expiry, ftp_login, job_of_ftp_login, safe_file_name
from csms.files.links import BadSignature, LinkExpired, Signer, load_secret
from csms.settings import Settings, convert

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
SIGNER = Signer(b"k" * 32)


def test_a_signed_link_is_valid_until_its_expiry() -> None:
    expires = expiry(NOW + timedelta(minutes=5))
    signature = SIGNER.sign("firmware/1/fw.bin", expires)
    assert SIGNER.verify("firmware/1/fw.bin", str(expires), signature, NOW) == expires
    with pytest.raises(LinkExpired, match="link expired at 2025-06-01T12:05:00Z"):
        SIGNER.verify("firmware/1/fw.bin", str(expires), signature, NOW + timedelta(minutes=5))


@pytest.mark.parametrize(
    ("resource", "expires_delta", "signature_change"),
    [
        ("firmware/2/fw.bin", 0, ""),  # another image
        ("firmware/1/other.bin", 0, ""),  # another file name
        ("firmware/1/fw.bin", 3600, ""),  # a later expiry
        ("firmware/1/fw.bin", 0, "x"),  # a changed signature
    ],
)
def test_a_tampered_link_is_refused_even_before_it_expires(
    resource: str, expires_delta: int, signature_change: str
) -> None:
    expires = expiry(NOW + timedelta(minutes=5))
    signature = SIGNER.sign("firmware/1/fw.bin", expires) + signature_change
    with pytest.raises(BadSignature, match="the signature does not match"):
        SIGNER.verify(resource, str(expires + expires_delta), signature, NOW)
    # An expired, tampered link is refused for its signature: its expiry is not to be trusted.
    with pytest.raises(BadSignature):
        SIGNER.verify(resource, str(expires + expires_delta), signature, NOW + timedelta(days=1))


@pytest.mark.parametrize("expires", ["", "-5", "12.5", "1e9", "9" * 13])
def test_a_malformed_expiry_is_refused(expires: str) -> None:
    with pytest.raises(BadSignature, match="malformed expiry"):
        SIGNER.verify("firmware/1/fw.bin", expires, "sig", NOW)


def test_another_secret_signs_differently() -> None:
    assert Signer(b"a" * 32).sign("x", 1) != Signer(b"b" * 32).sign("x", 1)
    assert Signer(b"a" * 32).derive("ftp/1") != Signer(b"a" * 32).derive("ftp/2")
    assert len(SIGNER.derive("ftp/1")) == 24


def test_the_secret_is_made_once_private_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "data" / "link-secret"
    secret = load_secret(path)
    assert len(secret) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_secret(path) == secret
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind
    path.write_bytes(b"short")
    with pytest.raises(ValueError, match="too short"):
        load_secret(path)


def _host(tmp_path: Path, **settings: object) -> FileHost:
    return FileHost(
        Settings(data_dir=tmp_path, **settings),  # type: ignore[arg-type]
        http_port=8080,
        ftp_port=2121,
    )


def test_urls_given_to_charge_points(tmp_path: Path) -> None:
    host = _host(tmp_path, host="0.0.0.0")
    # A wildcard listening address: the address the charge point reached the CSMS on.
    link = host.firmware_job_link(7, "fw 2.bin", 1_700_000_000, "192.0.2.10")
    signature = host.signer.sign("firmware-jobs/7/fw 2.bin", 1_700_000_000)
    assert link == f"http://192.0.2.10:8080/files/firmware-jobs/7/1700000000/{signature}/fw%202.bin"
    assert host.diagnostics_upload_link(3, 5, "2001:db8::1").startswith(
        "http://[2001:db8::1]:8080/files/diagnostics/3/5/"
    )
    assert host.diagnostics_upload_link(3, 5, None).endswith("/")
    password = host.ftp_password(9)
    assert host.diagnostics_ftp_location(9, "192.0.2.10") == (
        f"ftp://diag9:{password}@192.0.2.10:2121/"
    )
    # A specific listening address is used as it is; the settings win over both.
    assert _host(tmp_path, host="10.0.0.1").public_url("192.0.2.10") == "http://10.0.0.1:8080"
    configured = _host(
        tmp_path, public_url="https://csms.example.com/base/", ftp_host="ftp.example.com"
    )
    assert configured.firmware_link(1, "a.bin", 9, "192.0.2.10").startswith(
        "https://csms.example.com/base/files/firmware/1/9/"
    )
    assert "@ftp.example.com:2121/" in str(configured.diagnostics_ftp_location(1, "192.0.2.10"))
    no_ftp = FileHost(Settings(data_dir=tmp_path), http_port=1)
    assert no_ftp.diagnostics_ftp_location(1, None) is None


def test_data_directory_layout(tmp_path: Path) -> None:
    host = _host(tmp_path)
    assert host.firmware_path(4, "fw.bin") == tmp_path / "firmware" / "4" / "fw.bin"
    assert host.diagnostics_dir(5) == tmp_path / "diagnostics" / "5"
    assert not (tmp_path / "link-secret").exists()  # made on first use only
    host.ftp_password(1)
    assert (tmp_path / "link-secret").exists()


def test_ftp_logins_name_their_job() -> None:
    assert ftp_login(42) == "diag42"
    assert job_of_ftp_login("diag42") == 42
    for login in ("diag", "diag0", "diag-1", "diag42x", "anonymous", "DIAG42"):
        assert job_of_ftp_login(login) is None


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("diag.zip", "diag.zip"),
        ("/var/log/diag.zip", "diag.zip"),
        ("..\\..\\windows\\diag.zip", "diag.zip"),
        ("../../etc/passwd", "passwd"),
        ("", None),
        ("..", None),
        ("dir/", None),
        ("bad\nname", None),
        ("x" * 256, None),
    ],
)
def test_file_names_from_peers(given: str, kept: str | None) -> None:
    assert safe_file_name(given) == kept


def test_file_settings_from_text() -> None:
    assert convert("ftp_port", "2121") == 2121
    assert convert("ftp_port", "0") == 0
    assert convert("ftp_port", "off") is None
    assert convert("ftp_port", "") is None
    assert convert("data_dir", "/srv/csms") == Path("/srv/csms")
    assert convert("file_link_ttl", "60") == 60
    assert Settings().data_dir == Path("data") and Settings().ftp_port == 2121
