"""Admin routes about the platform itself: status, the caller, the audit trail, the compiled config."""

from __future__ import annotations

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from agora.errors import InvalidInput, NotFound, Unavailable
from registry import snapshots
from registry.admin.authz import require_read, scope
from registry.admin.context import context, openapi_document, principal
from registry.admin.views import audit_view, principal_view
from registry.models import Agency
from registry.services import audit
from registry.unit_of_work import read

__all__ = ["routes"]


def get_openapi(request: Request) -> JSONResponse:
    return JSONResponse(openapi_document())


def get_status(request: Request) -> JSONResponse:
    try:
        with read(context(request).sessions) as session:
            session.execute(text("SELECT 1"))
            latest = snapshots.latest(session)
    except Unavailable:
        raise
    return JSONResponse(
        {
            "status": "ok",
            "database": "ok",
            "config_revision": latest.revision if latest else None,
            "config_id": latest.id if latest else None,
        }
    )


def whoami(request: Request) -> JSONResponse:
    who = principal(request)
    slugs = None
    if who.agency_ids is not None:
        with read(context(request).sessions) as session:
            slugs = sorted(a.slug for a in session.query(Agency).filter(Agency.id.in_(who.agency_ids)))
    return JSONResponse(principal_view(who, slugs))


def list_audit(request: Request) -> JSONResponse:
    who = principal(request)
    raw = request.query_params.get("limit", "100")
    if not raw.isdigit() or not 1 <= int(raw) <= 1000:
        raise InvalidInput(f"limit must be an integer from 1 to 1000, not {raw!r}")
    with read(context(request).sessions) as session:
        events = audit.list_events(session, agency_ids=scope(who), limit=int(raw))
        return JSONResponse([audit_view(e) for e in events])


def get_config(request: Request) -> JSONResponse:
    who = principal(request)
    # The snapshot spans every agency (and holds credential digests): not for agency-scoped tokens.
    require_read(who, None, "the platform-wide gateway config")
    with read(context(request).sessions) as session:
        document = snapshots.load(session)
    if document is None:
        raise NotFound("no gateway config has been compiled yet")
    return JSONResponse(document)


routes = [
    Route("/admin/openapi.json", get_openapi, methods=["GET"]),
    Route("/admin/status", get_status, methods=["GET"]),
    Route("/admin/whoami", whoami, methods=["GET"]),
    Route("/admin/audit", list_audit, methods=["GET"]),
    Route("/admin/config", get_config, methods=["GET"]),
]
