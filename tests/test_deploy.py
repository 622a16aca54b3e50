"""The deployment files (README "Deployment"): deploy/compose.yaml, the Dockerfile and the
systemd unit say what they must. Building the image needs a Docker engine; without one that
test is skipped."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_compose_file_runs_the_csms_on_postgresql() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"db", "csms"}
    assert services["db"]["image"].startswith("postgres:")
    csms = services["csms"]
    assert csms["build"]["context"] == ".."
    assert (ROOT / "deploy" / csms["build"]["context"] / csms["build"]["dockerfile"]).is_file()
    assert csms["depends_on"]["db"]["condition"] == "service_healthy"
    assert csms["environment"]["CSMS_DATABASE"].startswith("postgresql+asyncpg://")
    assert "@db:5432/" in csms["environment"]["CSMS_DATABASE"]
    assert {"9000:9000", "8080:8080"} <= set(csms["ports"])
    assert set(compose["volumes"]) == {"db", "data"}


def test_dockerfile_is_multi_stage_non_root_with_healthcheck_and_volume() -> None:
    lines = [
        line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines() if line.strip()
    ]
    assert sum(line.startswith("FROM ") for line in lines) == 2
    assert any(line.startswith("COPY --from=build ") for line in lines)
    assert "USER csms" in lines
    assert "VOLUME /var/lib/csms" in lines
    healthcheck = next(i for i, line in enumerate(lines) if line.startswith("HEALTHCHECK"))
    assert "/health" in lines[healthcheck + 1]
    assert 'ENTRYPOINT ["csms"]' in lines
    assert "CSMS_HOST=0.0.0.0 \\" in lines


def test_systemd_unit_runs_csms_serve_with_a_config_file() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read_string((ROOT / "deploy" / "csms.service").read_text())
    service = unit["Service"]
    assert service["ExecStart"].startswith("/opt/csms/bin/csms serve --config ")
    assert service["User"] == "csms"
    assert service["KillSignal"] == "SIGTERM"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def _docker_answers() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    return subprocess.run([docker, "info"], capture_output=True, timeout=30).returncode == 0


@pytest.mark.skipif(not _docker_answers(), reason="no Docker engine answers on this machine")
def test_image_builds() -> None:  # pragma: no cover - needs a Docker engine
    built = subprocess.run(
        ["docker", "build", "-t", "csms-test", str(ROOT)], capture_output=True, timeout=900
    )
    assert built.returncode == 0, built.stderr.decode()
