"""The agency console's audit of accesses to personal data: an agency admin lists the accesses through
the agency's APIs (filters: period, organisation, application), downloads them as CSV, and looks up one
person's accesses to answer a complaint.

The lookup is a POST with the CSRF token: the identifier travels in the form body, never in a URL
(which access logs, proxies and the browser's history keep). Each lookup is counted per address
(`AGORA_PORTAL_LOOKUP_LIMIT`, throttle.py: looking up many people is enumeration, not complaints) and
written to the audit trail (registry/services/personal_data_complaints.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from agora.errors import Forbidden, InvalidInput
from agora.pseudonyms import key_ring
from devportal.web.accounts import require_developer
from devportal.web.context import context, in_thread
from devportal.web.csrf import check_csrf
from devportal.web.form_errors import GENERAL, FormErrors, sentence
from devportal.web.forms import form_fields
from devportal.web.templating import render
from devportal.web.throttle import attempt
from registry.models import Agency, Developer
from registry.services import accounts, agencies
from registry.services.personal_data_complaints import accesses_of_person
from registry.services.personal_data_export import to_csv
from registry.services.personal_data_queries import (
    Accesses,
    AccessFilter,
    Period,
    agency_accesses,
    agency_applications,
    organisations,
    parse_filter,
    subject_pseudonyms,
)
from registry.unit_of_work import change, read

__all__ = ["CHOICES_DAYS", "SHOWN", "routes"]

SHOWN = 200  # rows on the page; the CSV has them all (up to the queries' cap)
# The organisation and application choices are read from the chosen period's rows, or from the last
# CHOICES_DAYS days: an agency's log holds years of calls, too many to read whole on every view.
CHOICES_DAYS = 90
_FILTERS = ("from", "to", "organisation", "application")
_NO_STORE = {"Cache-Control": "no-store"}


def _admin_of(request: Request, session: Any) -> tuple[Developer, Agency]:
    developer = require_developer(request, session)
    agency = agencies.get_agency(session, request.path_params["agency"])
    if not accounts.is_agency_admin(session, developer, agency):
        raise Forbidden(f"you are not an admin of {agency.slug}")
    return developer, agency


def _filters(values: dict[str, str], errors: FormErrors) -> AccessFilter | None:
    try:
        return parse_filter(values, names=("organisation", "application"))
    except InvalidInput as exc:
        field = next((name for name in _FILTERS if exc.detail.startswith(name + " ")), GENERAL)
        errors[field] = sentence(exc.detail)
        return None


def _choices_period(filters: AccessFilter | None) -> Period:
    period = filters.period if filters is not None else Period()
    if period.start is not None:
        return period
    end = period.end or datetime.now(UTC)
    return Period(end - timedelta(days=CHOICES_DAYS), period.end)


def _choices(
    session: Any, agency: Agency, filters: AccessFilter | None, values: dict[str, str], found: Accesses
) -> tuple[list[str], list[tuple[str, str]]]:
    """The filter's choices in the window; a value already chosen stays offered, so the form always
    shows the filter that was applied (one chosen in another period, or in a link)."""
    period = _choices_period(filters)
    names = organisations(session, agency=agency.slug, period=period)
    apps = agency_applications(session, agency.slug, period=period)
    chosen = values.get("organisation", "")
    if chosen and chosen not in names:
        names = sorted([*names, chosen])
    chosen = values.get("application", "")
    if chosen and all(app_id != chosen for app_id, _ in apps):
        name = next((row.application_name for row in found.rows if row.application_id == chosen), "")
        apps = [*apps, (chosen, name)]
    return names, apps


def _page(
    request: Request,
    session: Any,
    developer: Developer,
    agency: Agency,
    *,
    values: dict[str, str],
    errors: FormErrors,
    found: Accesses,
    person: bool,
    filters: AccessFilter | None,
    status: int = 200,
) -> Response:
    query = {k: v for k, v in values.items() if k in _FILTERS and v}
    names, apps = _choices(session, agency, filters, values, found)
    response = render(
        request,
        "console_personal_data.html",
        status=422 if errors else status,
        user=developer,
        agency=agency,
        values=values,
        errors=errors,
        rows=found.rows[:SHOWN],
        more=found.truncated or len(found.rows) > SHOWN,
        person=person,
        organisations=names,
        applications=apps,
        choices_days=CHOICES_DAYS,
        query=urlencode(query),
    )
    response.headers.update(_NO_STORE)
    return response


def audit_page(request: Request) -> Response:  # sync: Starlette runs it in its thread pool (database)
    ctx = context(request)
    values = {name: request.query_params.get(name, "").strip() for name in _FILTERS}
    errors = FormErrors()
    with read(ctx.sessions) as session:
        developer, agency = _admin_of(request, session)
        filters = _filters(values, errors)
        found = (
            agency_accesses(session, agency.slug, filters, limit=SHOWN)
            if filters is not None
            else Accesses([], False)
        )
        return _page(request, session, developer, agency, values=values, errors=errors, found=found,
                     person=False, filters=filters)  # fmt: skip


def audit_csv(request: Request) -> Response:
    ctx = context(request)
    with read(ctx.sessions) as session:
        _, agency = _admin_of(request, session)
        filters = parse_filter(request.query_params, names=("organisation", "application"))
        found = agency_accesses(session, agency.slug, filters)
    return _csv(agency.slug, found)


def _csv(slug: str, found: Accesses) -> Response:
    headers = {**_NO_STORE, "Content-Disposition": f'attachment; filename="agora-personal-data-{slug}.csv"'}
    return Response(to_csv(found.rows), media_type="text/csv; charset=utf-8", headers=headers)


def _check_admin(request: Request) -> None:
    with read(context(request).sessions) as session:
        _admin_of(request, session)


async def lookup(request: Request) -> Response:
    await check_csrf(request)
    values = await form_fields(request, "identifier", "format", *_FILTERS)
    ctx = context(request)
    # Who may look people up is settled before the look-up counts: a developer or another agency's
    # admin gets 403 and uses up nobody's allowance (an admin's behind the same address included).
    await in_thread(_check_admin, request)
    refused = await attempt(request, "lookup")

    def answer(errors: FormErrors, filters: AccessFilter | None) -> Response:  # the form again, no rows
        with read(ctx.sessions) as session:
            developer, agency = _admin_of(request, session)
            return _page(request, session, developer, agency, values=values, errors=errors,
                         found=Accesses([], False), person=True, filters=filters)  # fmt: skip

    def work() -> Response:
        errors = FormErrors()
        if refused is not None:
            errors[GENERAL] = refused.detail.rstrip(".")
            page = answer(errors, None)
            page.status_code = 429
            page.headers["Retry-After"] = str(refused.retry_after)
            return page
        ring = key_ring(platform_hmac_key=ctx.settings.hmac_key)
        if not values["identifier"]:
            errors["identifier"] = "Enter the identifier the person gave"
        else:
            try:
                subject_pseudonyms(values["identifier"], ring)  # the identifier's checks, before any write
            except InvalidInput as exc:
                errors["identifier"] = sentence(exc.detail)
        filters = _filters(values, errors)
        if errors or filters is None:
            return answer(errors, filters)
        # A write: the audit event of the look-up commits with it, or nothing does (a value the audit
        # trail cannot hold is a 422, the database as it was).
        with change(ctx.sessions) as session:
            developer, agency = _admin_of(request, session)
            found = accesses_of_person(
                session,
                agency,
                values["identifier"],
                filters=filters,
                actor=f"portal:{developer.email}",
                ring=ring,
            )
            if values["format"] == "csv":
                return _csv(agency.slug, found)
            return _page(request, session, developer, agency, values=values, errors=errors, found=found,
                         person=True, filters=filters)  # fmt: skip

    return await in_thread(work)


routes = [
    Route("/agency-console/{agency}/personal-data", audit_page, methods=["GET"]),
    Route("/agency-console/{agency}/personal-data", lookup, methods=["POST"]),
    Route("/agency-console/{agency}/personal-data.csv", audit_csv, methods=["GET"]),
]
