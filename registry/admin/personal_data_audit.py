"""Admin route: the accesses to personal data through an agency's APIs, for its audits and complaints.

    GET /admin/agencies/{agency}/personal-data/accesses       JSON (or CSV with Accept: text/csv)
    GET /admin/agencies/{agency}/personal-data/accesses.csv   CSV

Only the agency's admins and platform admins (authz.require_personal_data_reader). Filters are query
parameters (`from`, `to`, `organisation`, `application`, `api`, `limit`). To answer one person's
complaint the caller sends that person's identifier in the `Agora-Data-Subject` header, never in the
URL: URLs end up in access logs, proxies and browser histories, headers do not. Such a lookup is
written to the audit trail (who looked up whom, by pseudonym, and how many rows came back).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from agora.errors import InvalidInput
from agora.pseudonyms import key_ring
from registry.admin.authz import require_personal_data_reader
from registry.admin.context import context, principal
from registry.services import agencies
from registry.services.personal_data_complaints import accesses_of_person
from registry.services.personal_data_export import to_csv, to_json
from registry.services.personal_data_queries import (
    MAX_ROWS,
    Accesses,
    AccessFilter,
    agency_accesses,
    parse_filter,
)
from registry.unit_of_work import change, read

__all__ = ["SUBJECT_HEADER", "routes"]

SUBJECT_HEADER = "agora-data-subject"
_IN_URL = ("identifier", "subject", "data_subject", "data-subject")
_PRIVATE = {"Cache-Control": "no-store", "Vary": "Accept, Agora-Data-Subject"}


def _limit(raw: str | None) -> int:
    if raw is None:
        return MAX_ROWS
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_ROWS:
        raise InvalidInput(f"limit must be an integer from 1 to {MAX_ROWS}, not {raw[:20]!r}")
    return int(raw)


def _wants_csv(request: Request) -> bool:
    if request.url.path.endswith(".csv"):
        return True
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept


def list_accesses(request: Request) -> Response:  # sync: Starlette runs it in its thread pool
    who = principal(request)
    ctx = context(request)
    with read(ctx.sessions) as session:
        agency = agencies.get_agency(session, request.path_params["agency"])
        require_personal_data_reader(who, agency.id, agency.slug)
        named = [name for name in _IN_URL if name in request.query_params]
        if named:
            raise InvalidInput(
                f"the data subject's identifier goes in the Agora-Data-Subject header, never in the URL "
                f"(query parameter {named[0]!r})"
            )
        filters = parse_filter(request.query_params, names=("organisation", "application", "api"))
        limit = _limit(request.query_params.get("limit"))
        identifier = request.headers.get(SUBJECT_HEADER)
        if identifier is None:
            return _answer(
                request, agency.slug, agency_accesses(session, agency.slug, filters, limit=limit), filters
            )
    # One person's accesses: a write, as the look-up goes to the audit trail with them (a value the
    # trail cannot hold is a 422, and nothing is written).
    ring = key_ring(platform_hmac_key=ctx.settings.hmac_key)
    with change(ctx.sessions) as session:
        agency = agencies.get_agency(session, request.path_params["agency"])
        found = accesses_of_person(
            session, agency, identifier, ring=ring, actor=who.actor, filters=filters, limit=limit
        )
        return _answer(request, agency.slug, found, filters)


def _answer(request: Request, slug: str, found: Accesses, filters: AccessFilter) -> Response:
    headers = {**_PRIVATE, "Agora-Truncated": "true" if found.truncated else "false"}
    if _wants_csv(request):
        headers["Content-Disposition"] = f'attachment; filename="agora-personal-data-{slug}.csv"'
        return Response(to_csv(found.rows), media_type="text/csv; charset=utf-8", headers=headers)
    return Response(to_json(found, filters), media_type="application/json", headers=headers)


routes = [
    Route("/admin/agencies/{agency}/personal-data/accesses", list_accesses, methods=["GET"]),
    Route("/admin/agencies/{agency}/personal-data/accesses.csv", list_accesses, methods=["GET"]),
]
