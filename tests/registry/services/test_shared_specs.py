"""The real government specs in tests/data/specs: valid ones publish; invalid ones are refused at the location
the manifest names, and publish with accept_findings."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from agora.errors import SpecInvalid
from registry.services import agencies, apis
from registry.unit_of_work import change
from tests.conftest import GOVERNMENT_SPECS

# Where each invalid spec's defect is, as a JSON Pointer (the manifest writes locations loosely).
EXPECTED_LOCATION = {
    # "parameter postKeys": the first parameter of GET /api/Posts, whose default '' is not an array.
    "gov.bc.ca__news__1.0.json": "/paths/~1api~1Posts/get/parameters/0/default '' is not of type 'array'",
    # "schema {"type": "number", "default": null}": a parameter schema with a null default.
    "gov.bc.ca__router__2.0.0.json": "/schema/default None for not nullable",
    "bundes-klinik-atlas.de__klinikatlas__1.0.0.yaml": "/paths/~1searchresults~1/get/responses/200/content/"
    "application~1json/schema/properties/sortings/properties/fields/items/properties/options/items/"
    "properties/value/type",
    "urssaf.fr__tiers-de-prestation__1.29.1.json": "/properties/nomUsage/pattern",
    "impactco2.fr__impactco2__1.0.0.json": "/paths/~1chauffage/get/parameters/2",
    "enseignementsup-recherche.gouv.fr__statut-etudiant__1.0.0.json": (
        "/components/schemas/BodySchema/properties/dateNaissance/type"
    ),
}


def _manifest() -> list[dict[str, str]]:
    with (GOVERNMENT_SPECS / "MANIFEST.tsv").open() as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


MANIFEST = _manifest()


def _publish(sessions: sessionmaker[Session], row: dict[str, str], *, accept: bool) -> apis.PublishResult:
    path: Path = GOVERNMENT_SPECS / row["file"]
    with change(sessions) as session:
        slug = row["provider"].replace(".", "-")
        if not any(a.slug == slug for a in agencies.list_agencies(session)):
            agencies.create_agency(session, slug=slug, name=row["provider"], actor="t")
        return apis.publish(
            session,
            agency_slug=slug,
            spec=path.read_bytes(),
            filename=path.name,
            upstream=None,
            accept_findings=accept,
            actor="t",
        )


@pytest.mark.parametrize("row", MANIFEST, ids=[r["file"] for r in MANIFEST])
def test_shared_spec(sessions: sessionmaker[Session], row: dict[str, str]) -> None:
    if row["validator result"] == "valid":
        result = _publish(sessions, row, accept=False)
        assert result.findings == []
    else:
        with pytest.raises(SpecInvalid) as refused:
            _publish(sessions, row, accept=False)
        expected = EXPECTED_LOCATION[row["file"]]
        described = [f"{f.location} {f.message}" for f in refused.value.findings]
        assert any(expected in d for d in described), described
        result = _publish(sessions, row, accept=True)
        assert result.version.findings
    assert len(result.version.normalized["operations"]) == int(row["operations count"])


def test_the_manifest_is_there() -> None:
    assert len(MANIFEST) == 23
    assert {r["file"] for r in MANIFEST if r["validator result"] != "valid"} == set(EXPECTED_LOCATION)
