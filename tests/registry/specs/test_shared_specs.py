"""The real government specs in tests/data/specs, checked against their MANIFEST.tsv."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from functools import cache
from typing import Any

import pytest

from agora.errors import Finding
from registry.specs import load_spec, normalize, validate_spec
from registry.specs.pointer import MISSING, lookup
from tests.conftest import GOVERNMENT_SPECS

SPECS = GOVERNMENT_SPECS
MANIFEST = SPECS / "MANIFEST.tsv"
INVALID = re.compile(r"INVALID: (?P<message>.*) \[at (?P<location>.*)\]")

# Where each invalid spec's defect really is, as a JSON Pointer, read from the validator's report and
# the file (the manifest writes locations loosely: `paths//searchresults//get/...`, `parameter
# postKeys`, `schema {...}`, or a suffix). The message must be the manifest's.
EXPECTED_POINTERS = {
    "bundes-klinik-atlas.de__klinikatlas__1.0.0.yaml": (
        "/paths/~1searchresults~1/get/responses/200/content/application~1json/schema/properties/sortings"
        "/properties/fields/items/properties/options/items/properties/value/type"
    ),
    "enseignementsup-recherche.gouv.fr__statut-etudiant__1.0.0.json": (
        "/components/schemas/BodySchema/properties/dateNaissance/type"
    ),
    "gov.bc.ca__news__1.0.json": "/paths/~1api~1Posts/get/parameters/0/default",
    "gov.bc.ca__router__2.0.0.json": (
        "/paths/~1truck~1directions.{outputFormat}/get/parameters/10/schema/default"
    ),
    "impactco2.fr__impactco2__1.0.0.json": "/paths/~1chauffage/get/parameters/2",
    "urssaf.fr__tiers-de-prestation__1.29.1.json": (
        "/definitions/InputParticulierDTO/properties/nomUsage/pattern"
    ),
}


def _manifest() -> list[dict[str, str]]:
    with MANIFEST.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


ROWS = _manifest()
VALID = [row["file"] for row in ROWS if row["validator result"] == "valid"]
INVALID_ROWS = [row for row in ROWS if row["validator result"] != "valid"]


@cache
def _doc(name: str) -> dict[str, Any]:
    path = SPECS / name
    return load_spec(path.read_bytes(), path.name)


@cache
def _findings(name: str) -> tuple[Finding, ...]:
    return tuple(validate_spec(_doc(name)))


def test_manifest_lists_every_spec_file() -> None:
    on_disk = {path.name for path in SPECS.iterdir() if path.suffix in (".json", ".yaml", ".yml")}
    assert on_disk == {row["file"] for row in ROWS}
    assert len(ROWS) == 23


def test_every_spec_is_the_published_file_with_its_source_and_licence() -> None:
    """Vendored byte for byte: a spec's defects are what the tests check, so nobody edits one to pass."""
    for row in ROWS:
        assert hashlib.sha256((SPECS / row["file"]).read_bytes()).hexdigest() == row["sha256"], row["file"]
        blob = f"https://github.com/{row['source repo']}/blob/{row['source commit']}/{row['source path']}"
        assert row["source"] == blob
        assert row["publisher"] and row["licence"] and row["redistribution"], row["file"]


def test_every_invalid_spec_has_an_expected_pointer() -> None:
    assert {row["file"] for row in INVALID_ROWS} == set(EXPECTED_POINTERS)


@pytest.mark.parametrize("name", VALID)
def test_valid_spec_has_no_finding(name: str) -> None:
    assert _findings(name) == ()


@pytest.mark.parametrize("row", INVALID_ROWS, ids=lambda row: row["file"])
def test_invalid_spec_reports_the_manifest_defect_where_it_is(row: dict[str, str]) -> None:
    reported = INVALID.fullmatch(row["validator result"])
    assert reported is not None
    expected = Finding(EXPECTED_POINTERS[row["file"]], reported["message"])
    findings = _findings(row["file"])
    assert any((f.location, f.message) == (expected.location, expected.message) for f in findings), findings
    # The pointer resolves in the document, and every finding is located somewhere real.
    for finding in findings:
        assert lookup(_doc(row["file"]), finding.location) is not MISSING, finding


def test_manifest_locations_agree_with_the_pointers() -> None:
    """The loose manifest notations name the same place as our pointers."""
    news = _doc("gov.bc.ca__news__1.0.json")
    assert lookup(news, "/paths/~1api~1Posts/get/parameters/0")["name"] == "postKeys"
    router = _doc("gov.bc.ca__router__2.0.0.json")
    schema = lookup(router, "/paths/~1truck~1directions.{outputFormat}/get/parameters/10/schema")
    assert schema == json.loads('{"type": "number", "default": null}')
    for row in INVALID_ROWS:
        location = INVALID.fullmatch(row["validator result"])["location"]  # type: ignore[index]
        if "/" in location and "{" not in location:
            # `paths//searchresults//get/...` is the pointer with `~1` written as `/`.
            loose = EXPECTED_POINTERS[row["file"]].replace("~1", "/").lstrip("/")
            assert loose.endswith(location), (loose, location)


def test_findings_are_sorted_and_unique() -> None:
    for row in INVALID_ROWS:
        findings = list(_findings(row["file"]))
        assert findings == sorted(findings, key=lambda f: (f.location, f.message, f.rule))
        assert len(set(findings)) == len(findings)


def test_router_reports_every_null_default() -> None:
    findings = _findings("gov.bc.ca__router__2.0.0.json")
    not_nullable = [f for f in findings if f.message == "None for not nullable"]
    assert len(not_nullable) == json.dumps(_doc("gov.bc.ca__router__2.0.0.json")).count('"default": null')
    assert {f.rule for f in not_nullable} == {"default"}


def test_tiers_de_prestation_reports_each_bad_pattern() -> None:
    """The library stops at the first bad keyword of a schema; we report them all."""
    locations = {f.location for f in _findings("urssaf.fr__tiers-de-prestation__1.29.1.json")}
    prefix = "/definitions/InputParticulierDTO/properties/"
    assert {prefix + "nomNaissance/pattern", prefix + "nomUsage/pattern"} <= locations


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row["file"])
def test_every_spec_normalizes_with_the_manifest_operation_count(row: dict[str, str]) -> None:
    normalized = normalize(_doc(row["file"]))
    assert len(normalized["operations"]) == int(row["operations count"])
    assert normalized["title"] == row["api title"]
    ids = [op["operation_id"] for op in normalized["operations"]]
    assert len(set(ids)) == len(ids)
    # JSON-serialisable and deterministic.
    assert json.dumps(normalized, sort_keys=True) == json.dumps(normalize(_doc(row["file"])), sort_keys=True)
