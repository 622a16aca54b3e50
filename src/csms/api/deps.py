"""What the API routers get from the application."""

from __future__ import annotations

from fastapi import Request

from csms.features.context import Services


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services
