"""Plugin reference pages come from the plugins' schemas."""

from __future__ import annotations

from devportal.build.plugin_docs import describe_plugins, schema_fields


def test_fields_with_types_defaults_and_nested_records() -> None:
    schema = (
        {"key_names": {"type": "array", "default": ["apikey"], "description": "Headers to read"}},
        {"limits": {"type": "record", "fields": ({"day": {"type": "integer", "required": True}},)}},
    )
    rows = schema_fields(schema)
    assert rows[0] == {
        "name": "key_names",
        "type": "array",
        "default": '["apikey"]',
        "required": False,
        "description": "Headers to read",
    }
    assert rows[2]["name"] == "limits.day" and rows[2]["required"] is True


def test_describes_the_plugins_a_package_holds() -> None:
    plugins = describe_plugins("tests.gateway.integration.gateway_test_plugins")
    tagger = next(p for p in plugins if p["name"] == "tagger")
    assert tagger["version"] == "1.0.0" and tagger["priority"] == 10
    assert [f["name"] for f in tagger["fields"]] == ["tag", "log_file", "log_delay"]
    assert "Exercises every phase" in tagger["doc"]
