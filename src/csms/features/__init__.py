"""CSMS behaviour, one module per OCPP 1.6 feature profile, joined in one route table."""

from csms.features.context import Handler
from csms.features.core.handlers import ROUTES as CORE_ROUTES
from csms.features.firmware.diagnostics import ROUTES as DIAGNOSTICS_ROUTES
from csms.features.firmware.firmware import ROUTES as FIRMWARE_ROUTES

ROUTES: dict[str, Handler] = {**CORE_ROUTES, **FIRMWARE_ROUTES, **DIAGNOSTICS_ROUTES}

__all__ = ["ROUTES"]
