"""request-validator's config: Kong-style schema with defaults and descriptions; the body is read only
where the operation takes one."""

from __future__ import annotations

from typing import Any

import pytest

from agora.errors import InvalidInput
from gateway.pipeline.plugin_host import apply_schema
from plugins.request_validator import handler
from plugins.request_validator.schema import Schema


def plugin(**fields: Any) -> handler.Plugin:
    return handler.Plugin(apply_schema(Schema, fields, "t"))


def test_every_field_has_a_type_default_and_description() -> None:
    for entry in Schema:
        for name, rules in entry.items():
            assert rules["type"] and rules["description"] and "default" in rules, name
    assert apply_schema(Schema, {}, "t") == {"max_body_bytes": 1048576, "openapi": "3.0", "parameters": [],
                                             "body": None}  # fmt: skip
    assert handler.priority == 999 and handler.version == "1.0.0"


def test_body_is_read_only_where_there_is_one_to_check() -> None:
    assert plugin().body_limit == 0
    body = {"required": True, "content": {"application/json": {"type": "object"}}}
    assert plugin(body=body, max_body_bytes=4096).body_limit == 4096


@pytest.mark.parametrize(
    "fields",
    [
        {"openapi": "2.0"},
        {"parameters": [{"name": "x", "in": "body"}]},
        {"parameters": [{"in": "query"}]},
        {"max_body_bytes": "1MB"},
    ],
)
def test_refused_configs(fields: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        plugin(**fields)
