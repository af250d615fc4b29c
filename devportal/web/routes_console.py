"""The agency console: an agency admin sees the pending access requests for the agency's APIs (with,
for an API with personal data, the purpose and legal basis asked for, and the organisation the
application acts for), approves or refuses them with a reason (audited by the grants service; the
developer is emailed), and sees the traffic of the agency's APIs."""

from __future__ import annotations

from dataclasses import asdict

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from agora.errors import Forbidden, InvalidInput
from devportal.web.accounts import require_developer
from devportal.web.context import context, in_thread
from devportal.web.csrf import check_csrf
from devportal.web.forms import form_fields
from devportal.web.templating import flash, render
from registry.models import AccessGrant, GrantState
from registry.path_ids import path_id
from registry.services import accounts, agencies, grants, purposes, usage_stats
from registry.services.personal_data_labels import basis_label
from registry.unit_of_work import change, read

__all__ = ["routes"]

DAYS = 30
_DECISIONS = {"approve": GrantState.APPROVED, "refuse": GrantState.REFUSED, "revoke": GrantState.REVOKED}


def overview(request: Request) -> Response:
    ctx = context(request)
    with read(ctx.sessions) as session:
        developer = require_developer(request, session)
        admin_of = accounts.admin_agencies(session, developer)
        if not admin_of:
            raise Forbidden("the agency console is for agency admins; ask the platform team to add you")
        if len(admin_of) == 1:
            return RedirectResponse(f"/agency-console/{admin_of[0].slug}/", status_code=303)
        return render(request, "console_index.html", user=developer, agencies=admin_of)


def _basis_title(grant: AccessGrant) -> str:
    """The title the spec gives the grant's legal basis (the id alone if no served version has it)."""
    basis_id = str(grant.legal_basis)
    titles = {b.id: b.title for b in purposes.declared_legal_bases(grant.api) or ()}
    return basis_label(basis_id, titles.get(basis_id))


def agency_page(request: Request) -> Response:
    ctx = context(request)
    with read(ctx.sessions) as session:
        developer = require_developer(request, session)
        agency = agencies.get_agency(session, request.path_params["agency"])
        if not accounts.is_agency_admin(session, developer, agency):
            raise Forbidden(f"you are not an admin of {agency.slug}")
        scoped = grants.list_grants(session, agency_ids={agency.id})
        traffic = [asdict(r) for r in usage_stats.agency_traffic(session, agency.slug, days=DAYS)]
        pending = [g for g in scoped if g.state is GrantState.PENDING]
        return render(
            request,
            "console_agency.html",
            user=developer,
            agency=agency,
            pending=pending,
            legal_bases={g.id: _basis_title(g) for g in pending if g.legal_basis},
            decided=[g for g in reversed(scoped) if g.state is not GrantState.PENDING][:50],
            traffic=traffic,
            days=DAYS,
        )


async def decide(request: Request) -> Response:
    await check_csrf(request)
    grant_id = path_id(request, "grant_id")
    values = await form_fields(request, "decision", "reason")
    ctx = context(request)
    to = _DECISIONS.get(values["decision"])
    if to is None:
        raise InvalidInput("the decision is approve, refuse or revoke")

    def work() -> tuple[str, str, str, str]:
        with change(ctx.sessions) as session:
            developer = require_developer(request, session)
            grant = grants.get_grant(session, grant_id)
            if not accounts.is_agency_admin(session, developer, grant.api.agency):
                raise Forbidden("you are not an admin of the agency that publishes this API")
            grants.decide(
                session, grant, to, reason=values["reason"] or None, actor=f"portal:{developer.email}"
            )
            api = f"{grant.api.agency.slug}/{grant.api.slug}"
            return grant.application.developer.email, grant.application.name, api, grant.api.agency.slug

    email, app_name, api, agency = await in_thread(work)
    verb = {GrantState.APPROVED: "approved", GrantState.REFUSED: "refused", GrantState.REVOKED: "revoked"}[to]
    reason = f"\nReason given by the agency: {values['reason']}\n" if values["reason"] else ""
    await in_thread(
        ctx.mailer.send,
        email,
        f"Access to {api} {verb}",
        f"The agency has {verb} the access of your application {app_name} to {api}.\n{reason}\n"
        f"See your requests: {ctx.settings.portal_url.rstrip('/')}/account/access\n",
    )
    flash(request, f"Access of {app_name} to {api} {verb}; the developer has been emailed.")
    return RedirectResponse(f"/agency-console/{agency}/", status_code=303)


routes = [
    Route("/agency-console/", overview, methods=["GET"]),
    Route("/agency-console/{agency}/", agency_page, methods=["GET"]),
    Route("/agency-console/grants/{grant_id:int}", decide, methods=["POST"]),
]
