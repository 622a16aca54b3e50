"""Settings from CSMS_* environment variables (the CLI flags use the same conversion)."""

from __future__ import annotations

from pathlib import Path

import pytest

from csms.settings import Settings, UnknownChargePoints, from_environment


def test_environment_variables_are_converted_to_their_types() -> None:
    values = from_environment(
        {
            "CSMS_OCPP_PORT": "9100",
            "CSMS_CALL_TIMEOUT": "12.5",
            "CSMS_CERTIFICATION_MODE": "true",
            "CSMS_UNKNOWN_CHARGE_POINTS": "Reject",
            "CSMS_TLS_CERT": "/etc/csms/cert.pem",
            "CSMS_DATABASE": "postgresql+asyncpg://csms@db/csms",
            "UNRELATED": "x",
        }
    )
    settings = Settings().replace(**values)
    assert settings.ocpp_port == 9100
    assert settings.call_timeout == 12.5
    assert settings.certification_mode is True
    assert settings.unknown_charge_points is UnknownChargePoints.REJECT
    assert settings.tls_cert == Path("/etc/csms/cert.pem")
    assert settings.database == "postgresql+asyncpg://csms@db/csms"


def test_bad_values_are_refused() -> None:
    with pytest.raises(ValueError):
        from_environment({"CSMS_OCPP_PORT": "ninety"})
    with pytest.raises(ValueError):
        from_environment({"CSMS_UNKNOWN_CHARGE_POINTS": "maybe"})
