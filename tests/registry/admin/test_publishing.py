"""Publishing through the admin API: findings in the problem body, mass assignment ignored, audit trail."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import GOVERNMENT_SPECS
from tests.registry.admin.conftest import World
from tests.registry.factories import personal_data_spec

INVALID = GOVERNMENT_SPECS / "enseignementsup-recherche.gouv.fr__statut-etudiant__1.0.0.json"
VALID = GOVERNMENT_SPECS / "gov.bc.ca__mpcm__1.4.0.json"


def test_invalid_spec_gives_a_problem_listing_every_finding(world: World) -> None:
    response = world.client.post(
        "/admin/agencies/cadastre/apis", headers=world.admin_a, json={"spec": INVALID.read_text()}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("/spec-invalid") and body["status"] == 422
    locations = [f["location"] for f in body["findings"]]
    assert "/components/schemas/BodySchema/properties/dateNaissance/type" in locations
    assert str(len(locations)) in body["detail"]


def test_unparsable_spec_gives_line_and_column(world: World) -> None:
    response = world.client.post(
        "/admin/agencies/cadastre/apis", headers=world.admin_a, json={"spec": "openapi: 3.0.0\ninfo: [x\n"}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["type"].endswith("/spec-unparsable") and body["line"] == 3


def test_publish_ignores_fields_the_caller_may_not_set(world: World, sessions: sessionmaker[Session]) -> None:
    from registry.models import ApiVersion

    body = {
        "spec": VALID.read_text(),
        "upstream": "https://warnwetter.example.gov",
        "accept_findings": False,
        "status": "retired",  # not a publish field: ignored
        "findings": [{"location": "/", "message": "planted"}],
        "agency_id": 999,
    }
    response = world.client.post("/admin/agencies/cadastre/apis", headers=world.admin_a, json=body)
    assert response.status_code == 201, response.text
    result = response.json()
    assert result["version"]["status"] == "published" and result["findings"] == []
    assert result["api"]["agency"] == "cadastre"
    with sessions() as session:
        row = session.scalars(select(ApiVersion).order_by(ApiVersion.id.desc())).first()
        assert row is not None and row.findings == []


def test_malformed_bodies_are_422_problems(world: World) -> None:
    c = world.client
    for payload in ({"slug": "ok"}, {"slug": 5, "name": "x"}, {"slug": "UPPER", "name": "x"}):
        response = c.post("/admin/agencies", headers=world.platform, json=payload)
        assert response.status_code == 422, (payload, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    raw = c.post(
        "/admin/agencies", headers={**world.platform, "content-type": "application/json"}, content=b"{"
    )
    assert raw.status_code == 422 and "line 1" in raw.json()["detail"]
    assert c.post("/admin/agencies/nope/apis", headers=world.platform, json={"spec": "{}"}).status_code == 404
    wrong_method = c.delete("/admin/agencies", headers=world.platform)
    assert (
        wrong_method.status_code == 405 and wrong_method.headers["content-type"] == "application/problem+json"
    )


def test_every_change_is_audited_with_who_what_and_digests(world: World) -> None:
    c = world.client
    before = {e["id"] for e in c.get("/admin/audit?limit=1000", headers=world.platform).json()}
    c.post(
        "/admin/agencies/cadastre/apis/addresses/versions/1.0.0/deprecate",
        headers=world.admin_a,
        json={"sunset": "2999-01-01"},
    )
    c.patch("/admin/plans/cadastre-gold", headers=world.admin_a, json={"limits": {"day": 9}})
    c.post(
        f"/admin/grants/{world.grant_a}/decision",
        headers=world.admin_a,
        json={"state": "refused", "reason": "incomplete form"},
    )
    events = [
        e for e in c.get("/admin/audit?limit=1000", headers=world.platform).json() if e["id"] not in before
    ]
    assert [e["action"] for e in reversed(events)] == ["version.deprecate", "plan.update", "grant.refused"]
    for event in events:
        assert event["actor"] == "token:admin-a"
        assert event["before_digest"].startswith("sha256:") and event["after_digest"].startswith("sha256:")
        assert event["before_digest"] != event["after_digest"]
        assert event["at"]
    assert events[0]["detail"]["reason"] == "incomplete form"


def test_a_plan_says_whether_subscribing_needs_the_agency_s_approval(world: World) -> None:
    c = world.client
    created = c.post(
        "/admin/plans",
        headers=world.admin_a,
        json={
            "slug": "cadastre-partners",
            "name": "Partners",
            "agency": "cadastre",
            "approval_required": True,
            "limits": {"second": 5},
        },
    )
    assert created.status_code == 201 and created.json()["approval_required"] is True
    changed = c.patch(
        "/admin/plans/cadastre-partners", headers=world.admin_a, json={"approval_required": False}
    )
    assert changed.json()["approval_required"] is False
    assert c.get("/admin/plans/cadastre-partners", headers=world.admin_a).json()["approval_required"] is False


def test_a_wrong_personal_data_declaration_is_a_problem_with_its_pointer(world: World) -> None:
    body = {"spec": personal_data_spec(subject="person"), "api": "people", "accept_findings": True}
    response = world.client.post("/admin/agencies/cadastre/apis", headers=world.admin_a, json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/spec-refused")
    assert problem["findings"] == [
        {
            "location": "/paths/~1people~1{nir}/get/x-agora-personal-data/subject/name",
            "message": "GET /people/{nir} has no path parameter 'person'",
            "rule": "personal-data",
        }
    ]
    assert world.client.get("/admin/agencies/cadastre/apis/people", headers=world.admin_a).status_code == 404


def test_personal_data_keeps_an_api_restricted(world: World) -> None:
    c, url = world.client, "/admin/agencies/cadastre/apis"
    refused = c.post(url, headers=world.admin_a, json={"spec": personal_data_spec(), "access_level": "key"})
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["type"].endswith("/invalid-input")
    assert problem["detail"] == (
        "cadastre/entitlements: an API that returns personal data may only have access level 'restricted', "
        "not 'key': this spec declares personal data (operation 'getPerson'); publish it with access level "
        "'restricted'"
    )
    created = c.post(url, headers=world.admin_a, json={"spec": personal_data_spec()})
    assert created.status_code == 201, created.text
    assert created.json()["api"]["access_level"] == "restricted"
    # Opening it is refused while a version serves personal data.
    opened = c.post(
        url,
        headers=world.admin_a,
        json={"spec": personal_data_spec("2.0.0", declare=False), "access_level": "open"},
    )
    assert opened.status_code == 422 and opened.json()["type"].endswith("/invalid-input")
    assert "version 1.0.0 (published) declares personal data" in opened.json()["detail"]
    api = c.get(f"{url}/entitlements", headers=world.admin_a).json()
    assert api["access_level"] == "restricted" and [v["version"] for v in api["versions"]] == ["1.0.0"]
