"""The feature packages (docs/architecture.md, "Layers"): one per profile, each exporting its
ROUTES, joined in features.ROUTES; and any module of them can be imported first (the plumbing
imports no feature package at import time)."""

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import csms.features

PACKAGES = sorted(info.name for info in pkgutil.iter_modules(csms.features.__path__) if info.ispkg)
MODULES = sorted(
    f"csms.features.{package}.{info.name}"
    for package in PACKAGES
    for info in pkgutil.iter_modules([str(Path(csms.features.__path__[0]) / package)])
)


def test_one_package_per_feature_profile() -> None:
    assert PACKAGES == [
        "core",
        "firmware",
        "load_management",
        "local_list",
        "remote_trigger",
        "reservation",
        "security",
        "smart_charging",
    ]


def test_each_package_exports_its_routes_and_the_table_joins_them() -> None:
    joined: dict[str, object] = {}
    for name in PACKAGES:
        package = importlib.import_module(f"csms.features.{name}")
        assert package.__doc__, name
        assert isinstance(package.ROUTES, dict), name
        joined.update(package.ROUTES)
    assert joined == csms.features.ROUTES


# Each module imported first in a fresh import state: every csms module is forgotten first.
_IMPORT_EACH_FIRST = """
import importlib, sys
for module in sys.argv[1:]:
    for name in [name for name in sys.modules if name == "csms" or name.startswith("csms.")]:
        del sys.modules[name]
    importlib.import_module(module)
"""


def test_any_feature_module_can_be_imported_first() -> None:
    # Any of them first imports csms.features first, which imports the plumbing, then every
    # package; what imports the features from outside comes first too.
    modules = ["csms.features.context", "csms.features.load_management.model", "csms.api"]
    modules += ["csms.files.http", "csms.app", MODULES[0]]
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_EACH_FIRST, *modules],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
