"""request-size-limiting's config: Kong's fields, units and defaults; the shared-context key is the one
the gateway's proxy reads."""

from __future__ import annotations

from typing import Any

import pytest

from agora.errors import InvalidInput
from gateway.config.model import PluginConfig
from gateway.pipeline.forward import BODY_LIMIT
from gateway.pipeline.plugin_host import PluginRegistry
from plugins.request_size_limiting import handler


def instantiate(config: dict[str, Any]) -> Any:
    registry = PluginRegistry()
    registry.register("request-size-limiting", handler)
    return registry.instantiate(PluginConfig("request-size-limiting", config), "test").instance


def test_every_field_has_a_type_a_default_and_a_description() -> None:
    fields = {field: rules for entry in handler.Schema for field, rules in entry.items()}
    assert set(fields) == {"allowed_payload_size", "size_unit", "require_content_length"}
    assert all({"type", "default", "description"} <= set(rules) for rules in fields.values())
    assert (handler.priority, handler.version) == (951, "1.0.0")


@pytest.mark.parametrize(
    ("config", "limit"),
    [
        ({}, 128 * 1024 * 1024),  # Kong's default: 128 megabytes
        ({"allowed_payload_size": 10, "size_unit": "kilobytes"}, 10_240),
        ({"allowed_payload_size": 500, "size_unit": "bytes"}, 500),
        ({"allowed_payload_size": 0, "size_unit": "bytes"}, 0),  # no body at all
    ],
)
def test_units(config: dict[str, Any], limit: int) -> None:
    assert instantiate(config).limit == limit


def test_the_streaming_limit_goes_where_the_proxy_reads_it() -> None:
    assert handler.CTX_MAX_BODY_BYTES == BODY_LIMIT


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"allowed_payload_size": -1}, "must not be negative"),
        ({"size_unit": "gigabytes"}, "must be one of"),
        ({"allowed_payload_size": 1.5}, "must be of type integer"),
        ({"max_bytes": 10}, "unknown field"),
    ],
)
def test_bad_configs_are_refused(config: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        instantiate(config)
