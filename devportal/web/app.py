"""Builds the portal's Starlette application: account pages first, then the built site."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from agora.access_log import drop_query_strings, redact_relayed_paths
from agora.errors import AgoraError
from agora.settings import Settings, load_settings
from devportal.web import (
    relay,
    routes_access,
    routes_apps,
    routes_auth,
    routes_chrome,
    routes_citizen,
    routes_console,
    routes_console_personal_data,
    routes_oidc,
    routes_reset,
    routes_transparency,
    routes_usage,
)
from devportal.web.accounts import SESSION_HOURS
from devportal.web.citizen_oidc import CitizenOidc, citizen_oidc_from_env
from devportal.web.context import PortalContext
from devportal.web.errors import agora_error, http_error, unexpected_error
from devportal.web.headers import SecurityHeaders
from devportal.web.mailer import Mailer, mailer_from_env
from devportal.web.oidc_client import OidcClient
from devportal.web.site import SiteFiles
from registry.db import make_engine, make_sessionmaker

__all__ = ["PORTAL_DIR_ENV", "create_app", "create_portal_app"]

PORTAL_DIR_ENV = "AGORA_PORTAL_DIR"
_STATIC = Path(__file__).parent / "static"


def create_portal_app(
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    site_dir: Path,
    mailer: Mailer,
    oidc: OidcClient | None = None,
    citizen: CitizenOidc | None = None,
    lifespan: Any = None,
    relay_transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    # The access log keeps neither a verification link's token (a query) nor what a relayed call's
    # path carries past its API's prefix (a person's identifier, for an operation with personal data).
    drop_query_strings()
    redact_relayed_paths(relay.PREFIX)
    ctx = PortalContext(
        settings=settings,
        sessions=sessions,
        mailer=mailer,
        site_dir=site_dir,
        oidc=oidc,
        citizen=citizen,
        relay_transport=relay_transport,
    )
    routes = [
        *routes_auth.routes,
        *routes_reset.routes,
        *routes_apps.routes,
        *routes_access.routes,
        *routes_usage.routes,
        *routes_transparency.routes,  # public: open figures and uptime badges
        *routes_console.routes,
        *routes_console_personal_data.routes,
        *routes_citizen.routes,  # a citizen's own accesses to their data, signed in by the federation
        *routes_oidc.routes,
        *routes_chrome.routes,  # the shared header's state, CSS and script
        *relay.routes,
        Mount("/account/static", app=StaticFiles(directory=_STATIC), name="account-static"),
        Mount("/", app=SiteFiles(site_dir), name="site"),
    ]
    middleware = [
        Middleware(
            SecurityHeaders,
            site_dir=site_dir,
            gateway_url=settings.gateway_url,
            oidc_issuer=oidc.issuer if oidc is not None else None,
        ),
        Middleware(
            SessionMiddleware,
            secret_key=settings.session_secret,
            session_cookie="agora_portal",
            max_age=SESSION_HOURS * 3600,
            same_site="lax",
            https_only=ctx.secure_cookies,
        ),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={AgoraError: agora_error, HTTPException: http_error, Exception: unexpected_error},
        lifespan=lifespan,
    )
    app.state.portal = ctx
    return app


def create_app() -> Starlette:
    """Factory for `agora portal serve` (uvicorn --factory): settings from the environment; the site
    is (re)built from the registry in the background (see `devportal.rebuild`)."""
    from devportal.rebuild import rebuild_lifespan

    settings = load_settings()
    out = Path(os.environ.get(PORTAL_DIR_ENV) or Path.cwd() / "var" / "portal")
    sessions = make_sessionmaker(make_engine(settings.database_url))
    return create_portal_app(
        settings,
        sessions,
        site_dir=out / "site",
        mailer=mailer_from_env(out.parent / "outbox"),
        oidc=routes_oidc.oidc_client_from_env(),
        citizen=citizen_oidc_from_env(),
        lifespan=rebuild_lifespan(settings, sessions, out),
    )
