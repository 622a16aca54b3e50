"""Settings from CSMS_* environment variables (the CLI flags use the same conversion)."""

from __future__ import annotations

from pathlib import Path

import pytest

from csms.settings import Settings, UnknownChargePoints, convert, from_environment


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


@pytest.mark.parametrize("raw", ["ture", "1", "yes", "on", "", "off"])
def test_on_off_variables_take_true_or_false_only(raw: str) -> None:
    with pytest.raises(ValueError) as refused:
        from_environment({"CSMS_CERTIFICATION_MODE": raw})
    assert "CSMS_CERTIFICATION_MODE" in str(refused.value)
    assert repr(raw) in str(refused.value)


def test_on_off_variables_take_true_and_false() -> None:
    values = from_environment({"CSMS_SYNC_LOCAL_LISTS": "false", "CSMS_LOAD_MANAGEMENT": "True"})
    assert values == {"sync_local_lists": False, "load_management": True}


def test_on_off_flags_take_true_or_false_only(capsys: pytest.CaptureFixture[str]) -> None:
    from csms import cli

    with pytest.raises(SystemExit) as exited:
        cli.main(["config", "--certification-mode", "ture"])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "--certification-mode" in error and "ture" in error


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "csms.toml"
    path.write_text(text)
    return path


def test_config_file_values_are_converted(tmp_path: Path) -> None:
    from csms.settings import from_file

    path = _config(
        tmp_path,
        'ocpp_port = 9100\ncall_timeout = 12\ncertification_mode = true\nftp_port = "off"\n'
        'unknown_charge_points = "reject"\ndata_dir = "/var/lib/csms"\n',
    )
    settings = Settings().replace(**from_file(path))
    assert settings.ocpp_port == 9100
    assert settings.call_timeout == 12.0
    assert settings.certification_mode is True
    assert settings.ftp_port is None
    assert settings.unknown_charge_points is UnknownChargePoints.REJECT
    assert settings.data_dir == Path("/var/lib/csms")


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("ocpp_prot = 9000\n", "ocpp_prot"),
        ('ocpp_port = "ninety"\n', "ocpp_port"),
        ("ocpp_port = 90.5\n", "ocpp_port"),
        ('certification_mode = "ture"\n', "certification_mode"),
        ("certification_mode = 1\n", "certification_mode"),
        ("sync_local_lists = true\nload_management = yes\n", "csms.toml"),
        ('unknown_charge_points = "maybe"\n', "unknown_charge_points"),
        ("database = 5\n", "database"),
    ],
)
def test_config_file_errors_name_the_key(tmp_path: Path, text: str, named: str) -> None:
    from csms.settings import from_file

    with pytest.raises(ValueError) as refused:
        from_file(_config(tmp_path, text))
    assert named in str(refused.value)


def test_precedence_is_flag_environment_file_default(tmp_path: Path) -> None:
    from csms import cli

    path = _config(tmp_path, "ocpp_port = 1\nhttp_port = 2\nheartbeat_interval = 3\n")
    parser = __import__("argparse").ArgumentParser()
    cli._add_settings_flags(parser)
    args = parser.parse_args(["--config", str(path), "--ocpp-port", "10"])
    settings = cli.load_settings(args, {"CSMS_OCPP_PORT": "20", "CSMS_HTTP_PORT": "21"})
    assert (settings.ocpp_port, settings.http_port, settings.heartbeat_interval) == (10, 21, 3)
    assert settings.ping_interval == Settings().ping_interval
    # The file may also be named by CSMS_CONFIG.
    args = parser.parse_args([])
    assert cli.load_settings(args, {"CSMS_CONFIG": str(path)}).ocpp_port == 1


def test_csms_config_prints_the_effective_settings_without_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import tomllib

    from csms import cli

    for name in ("CSMS_API_TOKEN", "CSMS_DATABASE", "CSMS_CONFIG", "CSMS_OCPP_PORT"):
        monkeypatch.delenv(name, raising=False)
    path = _config(
        tmp_path,
        'api_token = "s3cret-token"\n'
        'database = "postgresql+asyncpg://csms:hunter2@db:5432/csms"\nocpp_port = 9100\n',
    )
    assert cli.main(["config", "--config", str(path), "--http-port", "8181"]) == 0
    out = capsys.readouterr().out
    assert "s3cret-token" not in out and "hunter2" not in out
    printed = tomllib.loads(out)
    assert printed["api_token"] == "***"
    assert printed["database"] == "postgresql+asyncpg://csms:***@db:5432/csms"
    assert (printed["ocpp_port"], printed["http_port"]) == (9100, 8181)
    assert printed["unknown_charge_points"] == "pending"
    # What it prints is itself a valid configuration file (but for the masked secrets).
    del printed["api_token"], printed["database"]
    from csms.settings import from_file

    assert from_file(_config(tmp_path, cli._toml(printed)))["ocpp_port"] == 9100


def test_csms_serve_refuses_a_bad_config_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from csms import cli

    path = _config(tmp_path, "ocpp_prot = 9000\n")
    with pytest.raises(SystemExit) as exited:
        cli.main(["serve", "--config", str(path), "--ocpp-port", "0", "--http-port", "0"])
    assert exited.value.code == 2
    assert "ocpp_prot" in capsys.readouterr().err


def test_cap_dates_takes_profile_always_or_never() -> None:
    assert convert("cap_dates", " Always ") == "always"
    assert from_environment({"CSMS_CAP_DATES": "never"}) == {"cap_dates": "never"}
    with pytest.raises(ValueError, match="CSMS_CAP_DATES='sometimes': expected one of profile"):
        from_environment({"CSMS_CAP_DATES": "sometimes"})
