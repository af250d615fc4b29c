"""Builds the admin Starlette application."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import BaseRoute

from agora.access_log import drop_query_strings
from agora.errors import AgoraError
from agora.settings import Settings, load_settings
from registry.admin import (
    agencies,
    analytics,
    apis,
    applications,
    grants,
    metrics,
    personal_data_audit,
    plans,
    platform,
    usage,
)
from registry.admin.context import AdminContext
from registry.admin.dashboard import ui_routes
from registry.admin.headers import SecurityHeaders
from registry.admin.personal_data_ingest import routes as personal_data_ingest_routes
from registry.admin.problems import agora_error_handler, http_error_handler, unexpected_error_handler
from registry.analytics.scheduler import Scheduler
from registry.db import make_engine, make_sessionmaker

__all__ = ["ROUTES", "create_admin_app", "create_app"]

# The admin API, every route documented in openapi.yaml (a test keeps both in step).
ROUTES: list[BaseRoute] = [*platform.routes, *agencies.routes, *apis.routes, *plans.routes, *grants.routes]
ROUTES += applications.routes
ROUTES += usage.routes + personal_data_ingest_routes
ROUTES += analytics.routes + metrics.routes
ROUTES += personal_data_audit.routes


def create_admin_app(
    settings: Settings, sessions: sessionmaker[Session], *, scheduler: Scheduler | None = None
) -> Starlette:
    """`scheduler`: the analytics jobs to run while the app runs (the served app has one; tests may not)."""

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if scheduler is None:
            yield
            return
        async with scheduler.running():
            yield

    app = Starlette(
        routes=[*ROUTES, *ui_routes],  # the dashboard (server-rendered pages): not part of the API document
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(
                SessionMiddleware,
                secret_key=settings.session_secret,
                session_cookie="agora_admin",
                max_age=8 * 3600,
                path="/admin/ui",
                same_site="strict",
                https_only=os.environ.get("AGORA_ADMIN_URL", "").startswith("https://"),
            ),
        ],
        exception_handlers={
            AgoraError: agora_error_handler,
            HTTPException: http_error_handler,
            Exception: unexpected_error_handler,
        },
        lifespan=lifespan,
    )
    app.state.agora = AdminContext(settings=settings, sessions=sessions)
    app.state.scheduler = scheduler
    return app


def create_app() -> Starlette:
    """Factory for `uvicorn --factory registry.admin.app:create_app` (settings from the environment)."""
    drop_query_strings()  # the access log must not keep what a caller put in a URL
    settings = load_settings()
    sessions = make_sessionmaker(make_engine(settings.database_url))
    return create_admin_app(settings, sessions, scheduler=Scheduler(sessions))
