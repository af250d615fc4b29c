"""API5:2023 Broken Function Level Authorization: every admin route, for every role.

The routes come from the admin API's own OpenAPI document, so a route added there without a decision
here fails `test_every_documented_operation_has_an_access_class`. Each operation is called as: no token,
a wrong token, a platform admin, ops, an agency admin on its own agency's objects and on another
agency's. Allowed means neither 401 nor 403 nor a 5xx (a 404, 409 or 422 about the object or body is
the function answering); refused means 401 without a valid token, 403 with one.
tests/registry/admin/test_rbac.py checks the effects of the same rules (what each role sees and
changes); this is the exhaustive matrix.
"""

from __future__ import annotations

from typing import Any

import pytest

from registry.admin.context import openapi_document
from tests.registry.admin.conftest import World

SPEC = (
    '{"openapi": "3.0.3", "info": {"title": "Probe", "version": "1.0.0"}, "paths": {"/x": {"get": '
    '{"operationId": "x", "responses": {"200": {"description": "ok"}}}}}}'
)

# operationId -> access class
ACCESS = {
    "getOpenApi": "public",
    "getStatus": "public",
    "whoAmI": "read-scoped",
    "listAgencies": "read-scoped",
    "listApis": "read-scoped",
    "listPlans": "read-scoped",
    "listGrants": "read-scoped",
    "listAuditEvents": "read-scoped",
    "getUsageAnalytics": "read-scoped",
    "exportUsageAnalytics": "read-scoped",
    "getTopApplications": "read-scoped",
    "getUpstreamHealth": "read-scoped",
    "getAgency": "read-agency",
    "getApi": "read-agency",
    "getVersion": "read-agency",
    "getVersionSpec": "read-agency",
    "getPlan": "read-agency",
    "getConfig": "read-platform",
    "getMetrics": "read-platform",
    "publishApi": "write-agency",
    "releaseVersion": "write-agency",
    "deprecateVersion": "write-agency",
    "retireVersion": "write-agency",
    "createPlan": "write-agency",
    "updatePlan": "write-agency",
    "decideGrant": "write-agency",
    "createAgency": "write-platform",
    "ingestUsage": "write-platform",
    "ingestPersonalDataAccesses": "write-platform",
    "createApplication": "write-platform",
    "updateApplication": "write-platform",
    "requestAccess": "write-platform",
    # Who read which person's data: the agency's own admins and platform admins, not ops.
    "listPersonalDataAccesses": "read-personal-data",
    "exportPersonalDataAccesses": "read-personal-data",
}

# role -> access class -> allowed?
ALLOWED = {
    "platform-admin": {
        "read-scoped",
        "read-agency",
        "read-platform",
        "write-agency",
        "write-platform",
        "read-personal-data",
    },
    "ops": {"read-scoped", "read-agency", "read-platform"},
    "agency-admin (own agency)": {"read-scoped", "read-agency", "write-agency", "read-personal-data"},
    "agency-admin (other agency)": {"read-scoped"},  # listings show only its own agencies' objects
}

BODIES: dict[str, Any] = {
    "createAgency": {"slug": "newcomer", "name": "Newcomer"},
    "publishApi": {"spec": SPEC, "upstream": "https://api.example.gov", "api": "probe"},
    "deprecateVersion": {},
    "createPlan": {"slug": "new-plan", "name": "New", "limits": {"day": 5}},
    "updatePlan": {"name": "Renamed"},
    "decideGrant": {"state": "approved"},
    "ingestUsage": {"records": []},
    "ingestPersonalDataAccesses": {"records": []},
    "createApplication": {"developer": "dev@example.org", "name": "Probe", "plan": "free"},
    "updateApplication": {"organisation": "Probe Ltd"},
    "requestAccess": {"application": "no-such-app", "api": "cadastre/addresses", "plan": "free"},
}


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path, item in openapi_document()["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "patch", "put", "delete"):
                found.append((method.upper(), path, operation))
    return found


def test_every_documented_operation_has_an_access_class() -> None:
    documented = {operation["operationId"] for _, _, operation in _operations()}
    assert documented == set(ACCESS), "decide who may call a new route: add it to ACCESS"
    public = {
        operation["operationId"] for _, _, operation in _operations() if operation.get("security") == []
    }
    assert public == {k for k, v in ACCESS.items() if v == "public"}


def _request(world: World, operation: dict[str, Any], path: str, own: bool) -> tuple[str, dict[str, Any]]:
    agency, api, plan = (
        ("cadastre", "addresses", "cadastre-gold") if own else ("meteo", "warnings", "meteo-gold")
    )
    grant = world.grant_a if own else world.grant_b
    url = (
        path.replace("{agency}", agency)
        .replace("{api}", api)
        .replace("{version}", "1.0.0")
        .replace("{plan}", plan)
        .replace("{grant_id}", str(grant))
    )
    names = {p.get("name") for p in operation.get("parameters", []) if isinstance(p, dict)}
    refs = {str(p.get("$ref", "")).rsplit("/", 1)[-1] for p in operation.get("parameters", [])}
    if "agency" in names or "filterAgency" in refs:
        url += f"?agency={agency}"
    body = BODIES.get(operation["operationId"])
    if operation["operationId"] == "createPlan":
        body = {**body, "agency": agency}
    return url, {"json": body} if body is not None else {}


def _headers(world: World, role: str) -> dict[str, str]:
    return {
        "platform-admin": world.platform,
        "ops": world.ops,
        "agency-admin (own agency)": world.admin_a,
        "agency-admin (other agency)": world.admin_a,
    }[role]


@pytest.mark.parametrize("role", [*ALLOWED, "no token", "wrong token"])
def test_every_route_for_every_role(world: World, role: str) -> None:
    failures = []
    for method, path, operation in _operations():
        name = operation["operationId"]
        kind = ACCESS[name]
        own = role != "agency-admin (other agency)"
        url, extra = _request(world, operation, path, own)
        if role == "no token":
            headers: dict[str, str] = {}
        elif role == "wrong token":
            headers = {"Authorization": "Bearer agoradm_00000000_" + "x" * 43}
        else:
            headers = _headers(world, role)
        status = world.client.request(method, url, headers=headers, **extra).status_code
        if kind == "public":
            expected_ok = True
        elif role in ("no token", "wrong token"):
            expected_ok = False
        else:
            expected_ok = kind in ALLOWED[role]
            if role == "agency-admin (other agency)" and "agency=" in url:
                expected_ok = False  # naming another agency in a listing's filter is 403, not an empty list
        if status >= 500:
            failures.append(f"{method} {url}: {status}")
        elif expected_ok and status in (401, 403):
            failures.append(f"{method} {url}: {status}, but {role} may call {name}")
        elif not expected_ok:
            wanted = 401 if role in ("no token", "wrong token") else 403
            if status != wanted:
                failures.append(f"{method} {url}: {status}, wanted {wanted} for {role}")
    assert not failures, "\n".join(failures)
