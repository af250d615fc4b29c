"""Builds the admin Starlette application."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute

from agora.errors import AgoraError
from agora.settings import Settings, load_settings
from registry.admin import agencies, apis, grants, plans, platform, usage
from registry.admin.context import AdminContext
from registry.admin.problems import agora_error_handler, http_error_handler, unexpected_error_handler
from registry.db import make_engine, make_sessionmaker

__all__ = ["ROUTES", "create_admin_app", "create_app"]

ROUTES: list[BaseRoute] = [*platform.routes, *agencies.routes, *apis.routes, *plans.routes, *grants.routes]
ROUTES += usage.routes


def create_admin_app(settings: Settings, sessions: sessionmaker[Session]) -> Starlette:
    app = Starlette(
        routes=ROUTES,
        exception_handlers={
            AgoraError: agora_error_handler,
            HTTPException: http_error_handler,
            Exception: unexpected_error_handler,
        },
    )
    app.state.agora = AdminContext(settings=settings, sessions=sessions)
    return app


def create_app() -> Starlette:
    """Factory for `uvicorn --factory registry.admin.app:create_app` (settings from the environment)."""
    settings = load_settings()
    return create_admin_app(settings, make_sessionmaker(make_engine(settings.database_url)))
