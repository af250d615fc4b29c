"""diff_specs: one test per change kind, with its breaking flag."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from registry.specs import Change, diff_specs, normalize, summarize

BASE: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Addresses", "version": "1.0.0"},
    "paths": {
        "/addresses/{id}": {
            "get": {
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "fields", "in": "query", "schema": {"type": "string"}},
                    {"name": "X-Tenant", "in": "header", "required": True, "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "id": {"type": "string"},
                                        "lines": {
                                            "type": "array",
                                            "items": {
                                                "type": "object",
                                                "properties": {"text": {"type": "string"}},
                                            },
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "404": {"description": "unknown"},
                },
            }
        },
        "/addresses": {
            "post": {
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["street"],
                                "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
                            }
                        }
                    }
                },
                "responses": {"201": {"description": "created"}},
            }
        },
    },
}


def _changes(edit: Any) -> list[Change]:
    new = copy.deepcopy(BASE)
    edit(new)
    return diff_specs(normalize(BASE), normalize(new))


def _get(doc: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = doc["paths"]["/addresses/{id}"]["get"]
    return op


def _post_schema(doc: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = doc["paths"]["/addresses"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ]
    return schema


def _only(changes: list[Change]) -> Change:
    assert len(changes) == 1, changes
    return changes[0]


def test_identical_specs_have_no_changes() -> None:
    assert diff_specs(normalize(BASE), normalize(copy.deepcopy(BASE))) == []
    assert summarize([]) == "No changes."


def test_operation_added_is_not_breaking() -> None:
    change = _only(
        _changes(lambda d: d["paths"]["/addresses"].update(get={"responses": {"200": {"description": ""}}}))
    )
    assert (change.kind, change.location, change.breaking) == ("operation-added", "GET /addresses", False)


def test_operation_removed_is_breaking() -> None:
    change = _only(_changes(lambda d: d["paths"].pop("/addresses")))
    assert (change.kind, change.location, change.breaking) == ("operation-removed", "POST /addresses", True)


def test_renaming_a_path_parameter_changes_nothing() -> None:
    def rename(doc: dict[str, Any]) -> None:
        item = doc["paths"].pop("/addresses/{id}")
        item["get"]["parameters"][0]["name"] = "addressId"
        doc["paths"]["/addresses/{addressId}"] = item

    assert _changes(rename) == []


def test_required_parameter_added_is_breaking() -> None:
    param = {"name": "lang", "in": "query", "required": True, "schema": {"type": "string"}}
    change = _only(_changes(lambda d: _get(d)["parameters"].append(param)))
    assert (change.kind, change.location, change.breaking) == (
        "parameter-added-required",
        "GET /addresses/{id} parameter query.lang",
        True,
    )


def test_optional_parameter_added_is_not_breaking() -> None:
    param = {"name": "lang", "in": "query", "schema": {"type": "string"}}
    change = _only(_changes(lambda d: _get(d)["parameters"].append(param)))
    assert (change.kind, change.breaking) == ("parameter-added-optional", False)


@pytest.mark.parametrize(("index", "breaking"), [(1, False), (2, True)])
def test_parameter_removed_is_breaking_only_when_it_was_required(index: int, breaking: bool) -> None:
    change = _only(_changes(lambda d: _get(d)["parameters"].pop(index)))
    assert (change.kind, change.breaking) == ("parameter-removed", breaking)


def test_parameter_became_required_is_breaking() -> None:
    change = _only(_changes(lambda d: _get(d)["parameters"][1].update(required=True)))
    assert (change.kind, change.location, change.breaking) == (
        "parameter-became-required",
        "GET /addresses/{id} parameter query.fields",
        True,
    )


def test_parameter_became_optional_is_not_breaking() -> None:
    change = _only(_changes(lambda d: _get(d)["parameters"][2].update(required=False)))
    assert (change.kind, change.breaking) == ("parameter-became-optional", False)


def test_parameter_type_changed_is_breaking() -> None:
    change = _only(
        _changes(
            lambda d: _get(d)["parameters"][1].update(schema={"type": "array", "items": {"type": "string"}})
        )
    )
    assert (change.kind, change.breaking) == ("parameter-type-changed", True)
    assert change.message == "query parameter 'fields' type changed from string to array[string]"


def test_request_body_became_required_is_breaking() -> None:
    change = _only(_changes(lambda d: d["paths"]["/addresses"]["post"]["requestBody"].update(required=True)))
    assert (change.kind, change.location, change.breaking) == (
        "request-body-became-required",
        "POST /addresses request-body",
        True,
    )


def test_required_request_property_added_is_breaking() -> None:
    change = _only(_changes(lambda d: _post_schema(d)["required"].append("city")))
    assert (change.kind, change.location, change.breaking) == (
        "request-property-became-required",
        "POST /addresses request-body city",
        True,
    )


def test_required_request_property_removed_is_not_breaking() -> None:
    change = _only(_changes(lambda d: _post_schema(d).pop("required")))
    assert (change.kind, change.breaking) == ("request-property-became-optional", False)


def test_response_code_added_is_not_breaking() -> None:
    change = _only(_changes(lambda d: _get(d)["responses"].update({"429": {"description": "slow down"}})))
    assert (change.kind, change.location, change.breaking) == (
        "response-added",
        "GET /addresses/{id} response 429",
        False,
    )


def test_response_code_removed_is_breaking() -> None:
    change = _only(_changes(lambda d: _get(d)["responses"].pop("404")))
    assert (change.kind, change.breaking) == ("response-removed", True)


def test_success_response_property_removed_is_breaking() -> None:
    def drop(doc: dict[str, Any]) -> None:
        schema = _get(doc)["responses"]["200"]["content"]["application/json"]["schema"]
        schema["properties"]["lines"]["items"]["properties"].pop("text")

    change = _only(_changes(drop))
    assert (change.kind, change.location, change.breaking) == (
        "response-property-removed",
        "GET /addresses/{id} response 200 lines[].text",
        True,
    )


def test_a_removed_parent_property_is_reported_once() -> None:
    def drop(doc: dict[str, Any]) -> None:
        _get(doc)["responses"]["200"]["content"]["application/json"]["schema"]["properties"].pop("lines")

    assert [c.location for c in _changes(drop)] == ["GET /addresses/{id} response 200 lines"]


def test_swagger_to_openapi_migration_of_the_same_api_is_not_a_change() -> None:
    swagger = {
        "swagger": "2.0",
        "info": {"title": "Addresses", "version": "1.0.0"},
        "paths": {
            "/addresses": {
                "post": {
                    "parameters": [
                        {
                            "name": "body",
                            "in": "body",
                            "schema": _post_schema(BASE),
                        }
                    ],
                    "responses": {"201": {"description": "created"}},
                }
            }
        },
    }
    openapi = copy.deepcopy(BASE)
    openapi["paths"].pop("/addresses/{id}")
    assert diff_specs(normalize(swagger), normalize(openapi)) == []


def test_changes_are_ordered_and_summarized() -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["paths"].pop("/addresses")
        _get(doc)["responses"]["429"] = {"description": "slow down"}
        _get(doc)["parameters"].pop(1)

    changes = _changes(edit)
    assert [c.kind for c in changes] == ["operation-removed", "parameter-removed", "response-added"]
    assert changes == _changes(edit)
    assert changes[0].as_dict() == {
        "kind": "operation-removed",
        "location": "POST /addresses",
        "message": "operation removed",
        "breaking": True,
    }
    assert summarize(changes) == (
        "3 changes (1 breaking). Breaking: POST /addresses: operation removed. "
        "Other: GET /addresses/{id} parameter query.fields: query parameter 'fields' removed; "
        "GET /addresses/{id} response 429: response 429 added."
    )


# Personal data (x-agora-personal-data): informational, never breaking --------------------------------

PD = "x-agora-personal-data"


def _with_personal_data() -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    doc[PD] = {"legal-bases": [{"id": "public-task", "title": "Public task", "retention-days": 1825}]}
    _get(doc)[PD] = {"subject": {"in": "path", "name": "id"}, "categories": ["identity", "address"]}
    return doc


def _pd_changes(edit: Any, before: dict[str, Any] | None = None) -> list[tuple[str, str, str, bool]]:
    old = before if before is not None else _with_personal_data()
    new = copy.deepcopy(old)
    edit(new)
    return [(c.kind, c.location, c.message, c.breaking) for c in diff_specs(normalize(old), normalize(new))]


def test_an_operation_starting_to_return_personal_data() -> None:
    def declare(doc: dict[str, Any]) -> None:
        doc.update(_with_personal_data())

    assert _pd_changes(declare, copy.deepcopy(BASE)) == [
        (
            "legal-basis-added",
            "legal basis public-task",
            "legal basis 'public-task' (Public task) added, accesses kept 1825 days",
            False,
        ),
        (
            "personal-data-added",
            "GET /addresses/{id} personal-data",
            "returns personal data (identity, address), the person identified by path parameter 'id'",
            False,
        ),
    ]


def test_an_operation_no_longer_returning_personal_data() -> None:
    def withdraw(doc: dict[str, Any]) -> None:
        _get(doc)[PD] = False

    # The legal bases are still written but nothing uses them: only the operation's change is listed.
    assert _pd_changes(withdraw) == [
        (
            "personal-data-removed",
            "GET /addresses/{id} personal-data",
            "no longer returns personal data",
            False,
        )
    ]


def test_categories_and_subject_changes() -> None:
    def change(doc: dict[str, Any]) -> None:
        _get(doc)[PD] = {"subject": {"in": "header", "name": "X-Tenant"}, "categories": ["identity", "tax"]}

    assert _pd_changes(change) == [
        (
            "personal-data-categories-changed",
            "GET /addresses/{id} personal-data",
            "personal data categories changed: added tax; removed address",
            False,
        ),
        (
            "personal-data-subject-changed",
            "GET /addresses/{id} personal-data",
            "the person is now identified by header 'X-Tenant' (was path parameter 'id')",
            False,
        ),
    ]


def test_an_added_operation_says_it_returns_personal_data() -> None:
    def add(doc: dict[str, Any]) -> None:
        doc["paths"]["/people"] = {
            "get": {
                "parameters": [{"name": "nir", "in": "query", "schema": {"type": "string"}}],
                PD: {"subject": {"in": "query", "name": "nir"}, "categories": ["identity"]},
                "responses": {"200": {"description": "ok"}},
            }
        }

    assert _pd_changes(add) == [
        ("operation-added", "GET /people", "operation added", False),
        (
            "personal-data-added",
            "GET /people personal-data",
            "returns personal data (identity), the person identified by query parameter 'nir'",
            False,
        ),
    ]


def test_legal_basis_changes_come_first() -> None:
    def change(doc: dict[str, Any]) -> None:
        doc[PD]["legal-bases"] = [
            {"id": "public-task", "title": "Public task (art. 6(1)(e))", "retention-days": 1095},
            {"id": "legal-obligation", "title": "Legal obligation"},
        ]
        _get(doc)[PD]["subject"] = {"in": "jwt-claim", "name": "sub"}

    assert _pd_changes(change) == [
        (
            "legal-basis-added",
            "legal basis legal-obligation",
            "legal basis 'legal-obligation' (Legal obligation) added, accesses kept 1825 days",
            False,
        ),
        (
            "legal-basis-changed",
            "legal basis public-task",
            "legal basis 'public-task' renamed from 'Public task' to 'Public task (art. 6(1)(e))'",
            False,
        ),
        (
            "legal-basis-changed",
            "legal basis public-task",
            "legal basis 'public-task': accesses kept 1095 days (was 1825)",
            False,
        ),
        (
            "personal-data-subject-changed",
            "GET /addresses/{id} personal-data",
            "the person is now identified by JWT claim 'sub' (was path parameter 'id')",
            False,
        ),
    ]

    with_consent = _with_personal_data()
    with_consent[PD]["legal-bases"].append({"id": "consent", "title": "Consent"})
    assert _pd_changes(lambda doc: doc[PD]["legal-bases"].pop(), with_consent) == [
        ("legal-basis-removed", "legal basis consent", "legal basis 'consent' (Consent) removed", False)
    ]


def test_the_summary_lists_personal_data_among_the_other_changes() -> None:
    old = copy.deepcopy(BASE)
    new = _with_personal_data()
    text = summarize(diff_specs(normalize(old), normalize(new)))
    assert text.startswith("2 changes (0 breaking). Other: legal basis public-task: legal basis")
    assert "GET /addresses/{id} personal-data: returns personal data (identity, address)" in text
