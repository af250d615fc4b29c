"""What an agency may not put in `x-agora-plugins` (issue 14, items 4 and 6; registry/plugin_policy.py).

Item 4: every URL a plugin's config holds passes the upstreams' address check (a jwt `jwks_uri` at the
metadata address made the gateway fetch it for an anonymous caller), and which Redis counts calls is the
operator's setting. Item 6: key-auth `hide_credentials: false` let an agency's upstream harvest keys that
work on every other agency's APIs. Each is refused at publication, even with `accept_findings`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from registry.compile.plugins import plugin_list, service_plugins
from registry.models import AccessLevel
from tests.registry.admin.conftest import World


def _spec(plugins: Any, *, at_operation: bool = False) -> str:
    operation: dict[str, Any] = {"operationId": "x", "responses": {"200": {"description": "ok"}}}
    doc: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": "Probe", "version": "1.0.0"},
        "paths": {"/x": {"get": operation}},
    }
    (operation if at_operation else doc)["x-agora-plugins"] = plugins
    return json.dumps(doc)


def _publish(world: World, plugins: Any, **kwargs: bool) -> Any:
    body = {"spec": _spec(plugins, **kwargs), "upstream": "https://api.example.gov", "api": "probe"}
    body["accept_findings"] = True
    return world.client.post("/admin/agencies/cadastre/apis", headers=world.admin_a, json=body)


JWT_METADATA = {"issuers": [{"issuer": "https://id.example.gov", "jwks_uri": "http://169.254.169.254/keys"}]}
REFUSED = [
    ({"jwt": JWT_METADATA}, "/x-agora-plugins/jwt/issuers/0/jwks_uri"),
    ({"jwt": {"issuers": [{"issuer": "http://169.254.169.254"}]}}, "/x-agora-plugins/jwt/issuers/0/issuer"),
    (
        [{"name": "jwt", "config": {"issuers": [{"issuer": "http://[::ffff:10.0.0.1]"}]}}],
        "/x-agora-plugins/0",
    ),
    ({"rate-limiting": {"redis_url": "redis://10.0.0.5:6379"}}, "/x-agora-plugins/rate-limiting/redis_url"),
    ({"rate-limiting": {"redis_url": "rediss://redis.example.gov"}}, "redis_url"),  # any Redis at all
    ({"usage-metering": {"http_endpoint": "https://collector.example.org"}}, "http_endpoint"),
    ({"access-control": {"portal_url": "http://127.0.0.1:8002"}}, "portal_url"),
    ({"key-auth": {"hide_credentials": False}}, "/x-agora-plugins/key-auth/hide_credentials"),
    # Compiled from x-agora-personal-data only (issue 16): an entry of its own could log nothing, or the
    # wrong parameter, or (empty) make every gateway refuse the snapshot.
    ({"personal-data-log": {}}, "/x-agora-plugins/personal-data-log"),
    (
        [{"name": "personal-data-log", "config": {"subject": {"in": "query", "name": "q"}}}],
        "/x-agora-plugins/0/name",
    ),
]


@pytest.mark.parametrize(("plugins", "where"), REFUSED)
def test_plugin_configs_reaching_beyond_the_api_are_refused(world: World, plugins: Any, where: str) -> None:
    response = _publish(world, plugins)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"].endswith("/spec-refused")
    assert any(where in f["location"] for f in problem["findings"]), problem
    apis = world.client.get("/admin/apis?agency=cadastre", headers=world.admin_a).json()
    assert "probe" not in [a["slug"] for a in apis], "nothing of a refused publication is stored"


def test_operation_level_configs_are_checked_too(world: World) -> None:
    response = _publish(world, {"jwt": JWT_METADATA}, at_operation=True)
    assert response.status_code == 422
    assert response.json()["findings"][0]["location"].startswith("/paths/~1x/get/x-agora-plugins/jwt")


def test_public_plugin_urls_and_hidden_keys_are_accepted(world: World) -> None:
    plugins = {
        "jwt": {"issuers": [{"issuer": "https://id.example.gov", "audiences": ["https://api.example.gov"]}]},
        "key-auth": {"key_names": ["apikey"], "hide_credentials": True},
    }
    assert _publish(world, plugins).status_code == 201


def test_a_key_auth_entry_without_hide_credentials_still_hides_keys() -> None:
    """The spec's entry replaces the default one whole: it must not fall back to the plugin's default."""
    extensions = {"x-agora-plugins": {"key-auth": {"key_names": ["token"]}}}
    (key_auth,) = [p for p in service_plugins(AccessLevel.KEY, extensions) if p["name"] == "key-auth"]
    assert key_auth["config"] == {"key_names": ["token"], "hide_credentials": True}
    (route,) = plugin_list([{"name": "key-auth", "config": {}}])
    assert route["config"]["hide_credentials"] is True


def test_personal_data_log_is_refused_at_operations_and_never_compiled_from_x_agora_plugins(
    world: World,
) -> None:
    response = _publish(world, {"personal-data-log": {}}, at_operation=True)
    assert response.status_code == 422
    (finding,) = response.json()["findings"]
    assert finding["location"] == "/paths/~1x/get/x-agora-plugins/personal-data-log"
    assert "x-agora-personal-data" in finding["message"]
    # A spec stored before the rule: its entry is not compiled (the declaration is the only source).
    entries = [{"name": "personal-data-log", "config": {}}, {"name": "cors", "config": {}}]
    assert [p["name"] for p in plugin_list(entries)] == ["cors"]
    extensions = {"x-agora-plugins": {"personal-data-log": {}}}
    assert "personal-data-log" not in [p["name"] for p in service_plugins(AccessLevel.RESTRICTED, extensions)]
