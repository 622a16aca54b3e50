"""CSMS behaviour, one module per OCPP 1.6 feature profile, joined in one route table."""

from csms.features.context import Handler
from csms.features.core import ROUTES as CORE_ROUTES

ROUTES: dict[str, Handler] = {**CORE_ROUTES}

__all__ = ["ROUTES"]
