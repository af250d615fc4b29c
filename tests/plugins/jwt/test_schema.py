"""jwt's config: Kong-style schema with defaults and descriptions; what the plugin refuses to start with."""

from __future__ import annotations

from typing import Any

import pytest

from agora.errors import InvalidInput
from gateway.pipeline.plugin_host import apply_schema
from plugins.jwt import handler
from plugins.jwt.schema import Schema

ISSUERS = [{"issuer": "https://id.example", "audiences": ["https://api.example"]}]


def config(**fields: Any) -> dict[str, Any]:
    return apply_schema(Schema, {"issuers": ISSUERS, **fields}, "t")


def test_every_field_has_a_type_default_and_description() -> None:
    for entry in Schema:
        for name, rules in entry.items():
            assert rules["type"] and rules["description"], name
            assert "default" in rules or rules.get("required"), name
    filled = config()
    assert filled["algorithms"] == ["RS256", "ES256"] and filled["scopes_claim"] == "scope"
    assert filled["leeway"] == 30 and filled["jwks_cache_ttl"] == 300 and filled["consumer_claim"] is None
    assert handler.priority == 1450 and handler.version == "1.0.0"


@pytest.mark.parametrize(
    "fields",
    [
        {"issuers": []},
        {"issuers": [{"issuer": "https://id.example"}]},  # no audiences
        {"issuers": [{"issuer": "https://id.example", "audiences": []}]},
        {"issuers": [{"issuer": "https://id.example", "audiences": ["a"], "jwks_uri": "file:///etc/x"}]},
        {"algorithms": ["HS256"]},  # a shared secret checked against a public key: never
        {"algorithms": ["none"]},
        {"algorithms": []},
    ],
)
def test_refused_configs(fields: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        handler.Plugin(config(**fields))


def test_schema_refuses_unknown_fields_and_claims() -> None:
    for bad in ({"scopes_claim": "roles"}, {"leeway": "30"}, {"audience": "x"}):
        with pytest.raises(InvalidInput):
            config(**bad)
