"""The personal-data example spec: accepted by the registry as written, and declaring what the demo needs."""

from __future__ import annotations

import copy
from typing import Any

from examples.catalog import by_api_slug
from registry import specs
from registry.specs.personal_data import (
    LegalBasis,
    OperationData,
    Subject,
    personal_data,
    personal_data_findings,
)

DECLARED = "/paths/~1beneficiaries~1{nir}~1entitlements/get/x-agora-personal-data"


def _document() -> dict[str, Any]:
    example = by_api_slug("entitlements")
    return specs.load_spec(example.spec_text(), example.spec_file)


def test_registry_finds_nothing_to_report() -> None:
    doc = _document()
    assert specs.spec_kind(doc) == "openapi-3.1"
    assert specs.validate_spec(doc) == []
    assert personal_data_findings(doc, specs.normalize(doc)) == []


def test_declares_one_operation_with_personal_data_on_two_legal_bases() -> None:
    declared = personal_data(specs.normalize(_document()))
    assert declared is not None
    assert dict(declared.operations) == {
        "getBeneficiaryEntitlements": OperationData(
            Subject("path", "nir"), ("identity", "family situation", "benefit entitlements")
        )
    }
    assert [(b.id, b.retention_days) for b in declared.legal_bases] == [
        ("public-task", 1825),
        ("legal-obligation", 1095),
    ]
    basis = declared.legal_basis("public-task")
    assert isinstance(basis, LegalBasis) and basis.title.startswith("Public task (GDPR art. 6(1)(e))")


def test_a_subject_the_operation_does_not_have_is_found_where_it_is_named() -> None:
    # The check compares the file's lower-case methods with normalize()'s upper-case ones: a mismatch
    # there would report the correct declaration as wrong, and miss this one.
    doc = copy.deepcopy(_document())
    operation = doc["paths"]["/beneficiaries/{nir}/entitlements"]["get"]
    operation["x-agora-personal-data"]["subject"]["name"] = "person"
    findings = personal_data_findings(doc, specs.normalize(doc))
    assert [(f.location, f.message) for f in findings] == [
        (f"{DECLARED}/subject/name", "GET /beneficiaries/{nir}/entitlements has no path parameter 'person'")
    ]


def test_the_catalogue_entry_is_restricted_as_personal_data_requires() -> None:
    example = by_api_slug("entitlements")
    assert (example.agency.slug, example.access, example.port) == ("benefits", "restricted", 9104)
    assert "personal-data" in example.tags
