"""`x-agora-personal-data`: the lenient reader, and every finding of the strict check with its pointer."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from agora.errors import Finding
from registry.specs import normalize, validate_spec
from registry.specs.personal_data import (
    DEFAULT_RETENTION_DAYS,
    LegalBasis,
    OperationData,
    Subject,
    personal_data,
    personal_data_findings,
)

X = "x-agora-personal-data"
PLUGINS = "x-agora-plugins"
JWT = {"issuers": [{"issuer": "https://idp.example.gov", "audiences": ["benefits"]}]}
PERSON = "/paths/~1people~1{nir}"
ME = "/paths/~1me"


def _ok(description: str = "ok") -> dict[str, Any]:
    return {"200": {"description": description}}


BASE: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Benefits", "version": "1.0.0"},
    X: {
        "legal-bases": [
            {"id": "public-task", "title": "Public task (GDPR art. 6(1)(e))", "retention-days": 1825},
            {"id": "legal-obligation", "title": "Legal obligation"},
        ]
    },
    "paths": {
        "/people/{nir}": {
            # A path-level parameter: the operation has it as much as its own.
            "parameters": [{"name": "nir", "in": "path", "required": True, "schema": {"type": "string"}}],
            "get": {
                "operationId": "getPerson",
                "parameters": [
                    {"name": "X-Person-Id", "in": "header", "schema": {"type": "string"}},
                    {"name": "person", "in": "query", "schema": {"type": "string"}},
                ],
                X: {"subject": {"in": "path", "name": "nir"}, "categories": ["identity", "entitlements"]},
                "responses": _ok(),
            },
            "delete": {"operationId": "forgetPerson", "responses": {"204": {"description": "gone"}}},
        },
        "/me": {"get": {"operationId": "me", "responses": _ok()}},
    },
}


def _doc(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    doc.update(changes)
    return doc


def _get(doc: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = doc["paths"]["/people/{nir}"]["get"]
    return operation


def _findings(doc: dict[str, Any]) -> list[Finding]:
    assert validate_spec(doc) == [], "the extension's check comes on top of a valid spec"
    return personal_data_findings(doc, normalize(doc))


def _where(doc: dict[str, Any]) -> dict[str, str]:
    found = _findings(doc)
    assert all(f.rule == "personal-data" for f in found)
    return {f.location: f.message for f in found}


# The reader -----------------------------------------------------------------------------------------


def test_reader_gives_operations_legal_bases_and_categories() -> None:
    declared = personal_data(normalize(_doc()))
    assert declared is not None
    assert declared.operations == {
        "getPerson": OperationData(Subject("path", "nir"), ("identity", "entitlements"))
    }
    assert declared.legal_bases == (
        LegalBasis("public-task", "Public task (GDPR art. 6(1)(e))", 1825),
        LegalBasis("legal-obligation", "Legal obligation", DEFAULT_RETENTION_DAYS),
    )
    assert declared.legal_basis("legal-obligation") == declared.legal_bases[1]
    assert declared.legal_basis("consent") is None
    assert declared.categories == ("entitlements", "identity")


def test_reader_says_none_when_no_operation_declares() -> None:
    doc = _doc()
    del _get(doc)[X]
    assert personal_data(normalize(doc)) is None  # legal bases alone are no personal data
    doc[X] = "nonsense"
    assert personal_data(normalize(doc)) is None


def test_reader_inherits_the_document_subject_and_honours_false() -> None:
    doc = _doc()
    doc[X]["subject"] = {"in": "jwt-claim", "name": "national_id"}
    doc[X]["categories"] = ["tax status", " tax status ", "", 3]  # stripped, deduplicated, junk skipped
    doc["paths"]["/people/{nir}"]["delete"][X] = False
    declared = personal_data(normalize(doc))
    assert declared is not None
    assert declared.operations == {
        "getPerson": OperationData(Subject("path", "nir"), ("identity", "entitlements")),
        "me": OperationData(Subject("jwt-claim", "national_id"), ("tax status",)),
    }


def test_reader_takes_a_path_item_declaration_for_each_operation_under_it() -> None:
    doc = _doc()
    del _get(doc)[X]
    doc["paths"]["/people/{nir}"][X] = {"subject": {"in": "path", "name": "nir"}, "categories": ["identity"]}
    declared = personal_data(normalize(doc))
    assert declared is not None
    assert set(declared.operations) == {"getPerson", "forgetPerson"}


def test_reader_skips_what_is_malformed() -> None:
    doc = _doc()
    doc[X]["legal-bases"].append({"id": "bad-days", "title": "x", "retention-days": 0})
    doc[X]["legal-bases"].append({"title": "no id"})
    doc["paths"]["/me"]["get"][X] = {"subject": {"in": "cookie", "name": "sid"}, "categories": ["x"]}
    declared = personal_data(normalize(doc))
    assert declared is not None
    assert set(declared.operations) == {"getPerson"}
    assert declared.legal_basis("bad-days") == LegalBasis("bad-days", "x", DEFAULT_RETENTION_DAYS)
    assert [b.id for b in declared.legal_bases] == ["public-task", "legal-obligation", "bad-days"]


# The check ------------------------------------------------------------------------------------------


def test_a_correct_declaration_has_no_finding() -> None:
    assert _findings(_doc()) == []


def test_a_spec_without_the_extension_has_no_finding() -> None:
    doc = _doc()
    del doc[X]
    del _get(doc)[X]
    assert _findings(doc) == []


@pytest.mark.parametrize(
    ("subject", "ok"),
    [
        ({"in": "path", "name": "nir"}, True),  # a path-item parameter
        ({"in": "query", "name": "person"}, True),
        ({"in": "header", "name": "x-person-id"}, True),  # header names ignore case
        ({"in": "jwt-claim", "name": "sub"}, True),  # a claim is no parameter (the jwt plugin: below)
        ({"in": "path", "name": "person"}, False),  # a query parameter, not a path one
        ({"in": "query", "name": "nir"}, False),
        ({"in": "header", "name": "X-Nir"}, False),
    ],
)
def test_the_subject_must_be_a_parameter_the_operation_has(subject: dict[str, str], ok: bool) -> None:
    doc = _doc()
    _get(doc)[X]["subject"] = subject
    _get(doc)[PLUGINS] = {"jwt": JWT}
    where = _where(doc)
    if ok:
        assert where == {}
    else:
        assert where == {
            f"{PERSON}/get/{X}/subject/name": (
                f"GET /people/{{nir}} has no {subject['in']} parameter {subject['name']!r}"
            )
        }


def test_a_jwt_claim_subject_needs_the_jwt_plugin_on_its_operation() -> None:
    """Without the jwt plugin no token is verified, so the claim is never there: every call would go
    unrecorded. The operation runs the document's x-agora-plugins and the nearest of its own and its
    path item's."""
    doc = _doc()
    _get(doc)[X]["subject"] = {"in": "jwt-claim", "name": "national_id"}
    message = (
        "GET /people/{nir} runs no jwt plugin (x-agora-plugins), so a jwt-claim subject could never be "
        "read and no call would be recorded"
    )
    assert _where(doc) == {f"{PERSON}/get/{X}/subject/in": message}
    doc["paths"]["/me"]["get"][PLUGINS] = {"jwt": JWT}  # another operation's plugin is not this one's
    assert _where(doc) == {f"{PERSON}/get/{X}/subject/in": message}
    for level in ("document", "path item", "operation"):
        with_jwt = copy.deepcopy(doc)
        item = with_jwt["paths"]["/people/{nir}"]
        node = {"document": with_jwt, "path item": item, "operation": item["get"]}[level]
        node[PLUGINS] = [{"name": "jwt", "config": JWT}]
        assert _where(with_jwt) == {}, level
    # An operation-level list without jwt does not hide the document's (the snapshot merges them).
    doc[PLUGINS] = {"jwt": JWT}
    _get(doc)[PLUGINS] = {"cors": {}}
    assert _where(doc) == {}


def test_an_inherited_jwt_claim_subject_is_checked_on_every_operation() -> None:
    doc = _doc()
    doc[X]["subject"] = {"in": "jwt-claim", "name": "national_id"}
    doc[X]["categories"] = ["identity"]
    del _get(doc)[X]
    doc["paths"]["/me"]["get"][PLUGINS] = {"jwt": JWT}
    assert [(f.location, f.message) for f in _findings(doc)] == [
        (f"/{X}/subject/in", f"{op} runs no jwt plugin (x-agora-plugins), so a jwt-claim subject could "
                             "never be read and no call would be recorded")
        for op in ("DELETE /people/{nir}", "GET /people/{nir}")
    ]  # fmt: skip


def test_a_subject_that_is_not_well_formed() -> None:
    doc = _doc()
    _get(doc)[X]["subject"] = {"in": "cookie", "name": "", "where": "x"}
    assert _where(doc) == {
        f"{PERSON}/get/{X}/subject/in": "in must be one of path, query, header, jwt-claim",
        f"{PERSON}/get/{X}/subject/name": "name must be a non-empty string",
        f"{PERSON}/get/{X}/subject/where": "unknown field 'where' (known: in, name)",
    }
    _get(doc)[X]["subject"] = "nir"
    assert _where(doc) == {f"{PERSON}/get/{X}/subject": "subject is an object: {in, name}"}


def test_missing_subject_and_categories() -> None:
    doc = _doc()
    _get(doc)[X] = {}
    assert _where(doc) == {
        f"{PERSON}/get/{X}": "names no subject: say where the person's identifier is",
    }
    _get(doc)[X] = {"subject": {"in": "path", "name": "nir"}}
    assert _where(doc) == {f"{PERSON}/get/{X}": "names no categories of data returned"}


@pytest.mark.parametrize(
    ("categories", "location", "message"),
    [
        ([], "categories", "categories must be a non-empty list of strings"),
        ("identity", "categories", "categories must be a non-empty list of strings"),
        (["identity", " "], "categories/1", "a category is a non-empty string"),
        (["identity", 7], "categories/1", "a category is a non-empty string"),
    ],
)
def test_categories_must_be_a_list_of_names(categories: Any, location: str, message: str) -> None:
    doc = _doc()
    _get(doc)[X]["categories"] = categories
    assert _where(doc) == {f"{PERSON}/get/{X}/{location}": message}


def test_unknown_keys_at_every_level() -> None:
    doc = _doc()
    doc[X]["retention"] = 3
    doc[X]["legal-bases"][0]["article"] = "6"
    _get(doc)[X]["purpose"] = "audit"
    assert _where(doc) == {
        f"/{X}/retention": "unknown field 'retention' (known: legal-bases, subject, categories)",
        f"/{X}/legal-bases/0/article": "unknown field 'article' (known: id, title, retention-days)",
        f"{PERSON}/get/{X}/purpose": "unknown field 'purpose' (known: subject, categories)",
    }


def test_legal_bases_are_required_once_an_operation_declares() -> None:
    doc = _doc()
    del doc[X]
    assert _where(doc) == {
        f"/{X}/legal-bases": "an API with personal data declares its legal bases",
    }
    doc[X] = {"legal-bases": []}
    assert [(f.location, f.message) for f in _findings(doc)] == [
        (f"/{X}/legal-bases", "an API with personal data declares its legal bases"),
        (f"/{X}/legal-bases", "legal-bases must be a non-empty list"),
    ]


@pytest.mark.parametrize(
    ("basis", "location", "message"),
    [
        ("public-task", "", "a legal basis is an object with an id and a title"),
        (
            {"id": "Public Task", "title": "x"},
            "/id",
            "id must be a slug (lower-case letters, digits, dashes)",
        ),
        ({"id": "public-task", "title": "again"}, "/id", "legal basis 'public-task' is declared twice"),
        ({"id": "consent"}, "/title", "title must be a non-empty string"),
        ({"id": "consent", "title": " "}, "/title", "title must be a non-empty string"),
        (
            {"id": "consent", "title": "x", "retention-days": 0},
            "/retention-days",
            "retention-days must be a whole number from 1 to 36500",
        ),
        (
            {"id": "consent", "title": "x", "retention-days": 36501},
            "/retention-days",
            "retention-days must be a whole number from 1 to 36500",
        ),
        (
            {"id": "consent", "title": "x", "retention-days": True},
            "/retention-days",
            "retention-days must be a whole number from 1 to 36500",
        ),
        (
            {"id": "consent", "title": "x", "retention-days": "365"},
            "/retention-days",
            "retention-days must be a whole number from 1 to 36500",
        ),
    ],
)
def test_each_legal_basis_is_checked(basis: Any, location: str, message: str) -> None:
    doc = _doc()
    doc[X]["legal-bases"].append(basis)
    assert _where(doc) == {f"/{X}/legal-bases/2{location}": message}


def test_the_document_value_must_be_an_object() -> None:
    doc = _doc(**{X: ["public-task"]})
    assert _where(doc) == {
        f"/{X}": f"{X} must be an object",
        f"/{X}/legal-bases": "an API with personal data declares its legal bases",
    }


def test_an_operation_value_is_an_object_or_false() -> None:
    doc = _doc()
    doc["paths"]["/me"]["get"][X] = "yes"
    assert _where(doc) == {f"{ME}/get/{X}": f"{X} must be an object or false"}


def test_false_opts_an_operation_out_of_the_document_subject() -> None:
    doc = _doc()
    doc[X]["subject"] = {"in": "path", "name": "nir"}
    doc[X]["categories"] = ["identity"]
    # /me has no `nir`: inheriting the document's subject is a finding that names the operation...
    assert _where(doc) == {f"/{X}/subject/name": "GET /me has no path parameter 'nir'"}
    # ...until it opts out.
    doc["paths"]["/me"]["get"][X] = False
    assert _where(doc) == {}
    declared = personal_data(normalize(doc))
    assert declared is not None and set(declared.operations) == {"getPerson", "forgetPerson"}


def test_an_inherited_subject_is_checked_for_every_operation() -> None:
    doc = _doc()
    doc[X]["subject"] = {"in": "query", "name": "person"}
    doc[X]["categories"] = ["identity"]
    del _get(doc)[X]
    found = _findings(doc)
    # Only GET /people/{nir} has the query parameter: the others are each named at the same pointer.
    assert [(f.location, f.message) for f in found] == [
        (f"/{X}/subject/name", "DELETE /people/{nir} has no query parameter 'person'"),
        (f"/{X}/subject/name", "GET /me has no query parameter 'person'"),
    ]


def test_a_path_item_declaration_is_located_at_the_path_item() -> None:
    doc = _doc()
    del _get(doc)[X]
    doc["paths"]["/people/{nir}"][X] = {"subject": {"in": "query", "name": "person"}, "categories": ["x"]}
    assert _where(doc) == {
        f"{PERSON}/{X}/subject/name": "DELETE /people/{nir} has no query parameter 'person'"
    }
    doc["paths"]["/people/{nir}"][X] = {"subject": {"in": "path", "name": "nir"}}
    assert _where(doc) == {f"{PERSON}/{X}": "names no categories of data returned"}


def test_document_categories_complete_an_operation_that_names_none() -> None:
    doc = _doc()
    doc[X]["categories"] = ["identity"]
    _get(doc)[X] = {"subject": {"in": "path", "name": "nir"}}
    assert _where(doc) == {}
    declared = personal_data(normalize(doc))
    assert declared is not None and declared.operations["getPerson"].categories == ("identity",)


def test_a_referenced_path_item_is_checked_where_it_lives() -> None:
    doc = _doc(openapi="3.1.0")
    item = doc["paths"].pop("/me")
    item["get"][X] = {"subject": {"in": "header", "name": "X-Citizen"}, "categories": ["identity"]}
    doc["components"] = {"pathItems": {"me": item}}
    doc["paths"]["/me"] = {"$ref": "#/components/pathItems/me"}
    assert _where(doc) == {
        f"/components/pathItems/me/get/{X}/subject/name": "GET /me has no header parameter 'X-Citizen'"
    }


def test_swagger_2_parameters_count_too() -> None:
    doc: dict[str, Any] = {
        "swagger": "2.0",
        "info": {"title": "Old", "version": "1.0.0"},
        X: {"legal-bases": [{"id": "public-task", "title": "Public task"}]},
        "paths": {
            "/people": {
                "get": {
                    "parameters": [{"name": "nir", "in": "query", "type": "string"}],
                    X: {"subject": {"in": "query", "name": "nir"}, "categories": ["identity"]},
                    "responses": _ok(),
                }
            }
        },
    }
    assert _where(doc) == {}
