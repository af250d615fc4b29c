"""personal-data-log in the snapshot: on exactly the routes whose operation declares personal data, with
the declaration's subject, categories and the API's legal bases; nothing anywhere else, and snapshots of
specs without a declaration keep their content."""

from __future__ import annotations

import copy
import json
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from registry.compile.snapshot import compile_snapshot
from registry.models import AccessLevel
from registry.services import apis
from registry.unit_of_work import change
from tests.registry import factories

_OK = {"200": {"description": "ok"}}
SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Entitlements", "version": "1.0.0"},
    "x-agora-personal-data": {
        "legal-bases": [
            {"id": "public-task", "title": "Public task"},  # the default retention: 5 years
            {"id": "legal-obligation", "title": "Legal obligation", "retention-days": 1095},
        ],
    },
    "paths": {
        "/beneficiaries/{nir}/entitlements": {
            "parameters": [{"name": "nir", "in": "path", "required": True, "schema": {"type": "string"}}],
            "get": {
                "operationId": "getEntitlements",
                "responses": _OK,
                "x-agora-personal-data": {
                    "subject": {"in": "path", "name": "nir"},
                    "categories": ["identity", "entitlements"],
                },
            },
            "delete": {"operationId": "forgetEntitlements", "responses": _OK},
        },
        "/household": {
            "get": {
                "operationId": "getHousehold",
                "parameters": [
                    {"name": "X-Subject", "in": "header", "required": True, "schema": {"type": "string"}}
                ],
                "responses": _OK,
                "x-agora-personal-data": {
                    "subject": {"in": "header", "name": "X-Subject"},
                    "categories": ["family situation"],
                },
            }
        },
        "/offices": {"get": {"operationId": "listOffices", "responses": _OK}},
    },
}


def _publish(sessions: sessionmaker[Session], spec: dict[str, Any], api: str = "entitlements") -> None:
    with change(sessions) as session:
        if api == "entitlements":
            factories.agency(session, "benefits")
        apis.publish(
            session, agency_slug="benefits", spec=json.dumps(spec), upstream=None, api_slug=api,
            access_level=AccessLevel.RESTRICTED, actor="t",
        )  # fmt: skip


def _routes(sessions: sessionmaker[Session], api: str = "entitlements") -> dict[str, dict[str, Any]]:
    with sessions() as session:
        doc = compile_snapshot(session)
    (service,) = [s for s in doc["services"] if s["api"] == api]
    assert "personal-data-log" not in [p["name"] for p in service["plugins"]]  # never service-wide
    return {r["operation_id"]: r for r in service["routes"]}


def _logged(route: dict[str, Any]) -> dict[str, Any] | None:
    found = [p for p in route["plugins"] if p["name"] == "personal-data-log"]
    assert len(found) <= 1
    return found[0]["config"] if found else None


def test_exactly_the_declared_operations_log(sessions: sessionmaker[Session]) -> None:
    _publish(sessions, SPEC)
    routes = _routes(sessions)
    bases = {"public-task": 1825, "legal-obligation": 1095}
    assert _logged(routes["getEntitlements"]) == {
        "subject": {"in": "path", "name": "nir"},
        "categories": ["identity", "entitlements"],
        "legal_bases": bases,
    }
    assert _logged(routes["getHousehold"]) == {
        "subject": {"in": "header", "name": "X-Subject"},
        "categories": ["family situation"],
        "legal_bases": bases,
    }
    assert _logged(routes["forgetEntitlements"]) is None and _logged(routes["listOffices"]) is None


def test_a_document_level_subject_covers_every_operation_but_those_opting_out(
    sessions: sessionmaker[Session],
) -> None:
    spec = copy.deepcopy(SPEC)
    spec["x-agora-personal-data"]["subject"] = {"in": "query", "name": "nir"}
    spec["x-agora-personal-data"]["categories"] = ["identity"]
    offices = spec["paths"]["/offices"]["get"]
    offices["parameters"] = [{"name": "nir", "in": "query", "schema": {"type": "string"}}]
    spec["paths"]["/beneficiaries/{nir}/entitlements"]["delete"]["x-agora-personal-data"] = False
    _publish(sessions, spec)
    routes = _routes(sessions)
    assert _logged(routes["listOffices"]) == {
        "subject": {"in": "query", "name": "nir"},
        "categories": ["identity"],
        "legal_bases": {"public-task": 1825, "legal-obligation": 1095},
    }
    assert _logged(routes["getEntitlements"])["subject"] == {"in": "path", "name": "nir"}  # type: ignore[index]
    assert _logged(routes["forgetEntitlements"]) is None


def test_a_spec_without_personal_data_compiles_as_before(sessions: sessionmaker[Session]) -> None:
    plain = copy.deepcopy(SPEC)
    del plain["x-agora-personal-data"]
    for item in plain["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict):
                operation.pop("x-agora-personal-data", None)
    _publish(sessions, plain)
    routes = _routes(sessions)
    assert all(_logged(r) is None for r in routes.values())
    assert all(r["plugins"] == [] for r in routes.values())
