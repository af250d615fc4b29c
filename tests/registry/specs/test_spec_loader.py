"""load_spec: JSON and YAML in, a JSON-compatible mapping out, or SpecUnparsable with a position."""

from __future__ import annotations

import json

import pytest

from agora.errors import SpecTooLarge, SpecUnparsable
from agora.settings import SpecLimits
from registry.specs import dump_json, dump_yaml, load_spec

YAML_DOC = """\
openapi: 3.0.3
info:
  title: Addresses
  version: 1.0.0
paths:
  /addresses:
    get:
      responses:
        200:
          description: the list
x-published: 2024-01-31
"""


def test_yaml_is_parsed_into_json_compatible_values() -> None:
    doc = load_spec(YAML_DOC.encode(), "addresses.yaml")
    assert doc["info"] == {"title": "Addresses", "version": "1.0.0"}
    # An unquoted status code and a date stay what a JSON reader would see.
    assert list(doc["paths"]["/addresses"]["get"]["responses"]) == ["200"]
    assert doc["x-published"] == "2024-01-31"
    json.dumps(doc)


def test_json_is_detected_by_content_without_a_filename() -> None:
    doc = load_spec('\ufeff  {"swagger": "2.0", "paths": {}}')
    assert doc == {"swagger": "2.0", "paths": {}}


def test_yaml_suffix_reads_json_content_as_yaml() -> None:
    # Flow-style YAML is not JSON; the suffix says which reader the author meant.
    assert load_spec("{openapi: 3.1.0}", "spec.yml") == {"openapi": "3.1.0"}


def test_unparsable_json_reports_line_and_column() -> None:
    with pytest.raises(SpecUnparsable) as caught:
        load_spec(b'{\n  "openapi": "3.0.0",\n  "info" {}\n}', "spec.json")
    assert (caught.value.line, caught.value.column) == (3, 10)
    assert "invalid JSON" in caught.value.detail
    assert caught.value.problem()["line"] == 3


def test_unparsable_yaml_reports_line_and_column() -> None:
    text = "openapi: 3.0.0\ninfo:\n  title: x\n   version: 1\n"
    with pytest.raises(SpecUnparsable) as caught:
        load_spec(text, "spec.yaml")
    assert (caught.value.line, caught.value.column) == (4, 11)
    assert "invalid YAML" in caught.value.detail


def test_unclosed_yaml_flow_sequence_reports_where_the_parser_stopped() -> None:
    with pytest.raises(SpecUnparsable) as caught:
        load_spec("tags: [a, b\nopenapi: 3.0.0\n")
    assert (caught.value.line, caught.value.column) == (2, 8)


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a string\n", "", "[1, 2]"])
def test_top_level_must_be_a_mapping(text: str) -> None:
    with pytest.raises(SpecUnparsable) as caught:
        load_spec(text)
    assert (caught.value.line, caught.value.column) == (1, 1)
    assert "mapping" in caught.value.detail


def test_non_utf8_bytes_are_unparsable_at_their_position() -> None:
    with pytest.raises(SpecUnparsable) as caught:
        load_spec(b"openapi: 3.0.0\ntitle: caf\xe9\n")
    assert (caught.value.line, caught.value.column) == (2, 11)


def test_yaml_alias_bomb_is_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    with pytest.raises(SpecTooLarge, match="expands to more than"):
        load_spec("\n".join(lines))


def test_a_large_string_aliased_many_times_is_refused_by_its_expanded_size() -> None:
    """Issue 14, item 7: 104 KB of YAML that is 100 MB to every consumer of the document."""
    text = "s: &s '" + "x" * 100_000 + "'\nl: [" + ", ".join(["*s"] * 1000) + "]\n"
    with pytest.raises(SpecTooLarge, match="AGORA_SPEC_MAX_EXPANDED_BYTES"):
        load_spec(text)
    assert load_spec(text, limits=SpecLimits(max_expanded_bytes=200_000_000))["l"][999] == "x" * 100_000


@pytest.mark.parametrize("text", ["x: &a [*a]\n", "a: &a {b: {c: *a}}\n"])
def test_a_self_referential_alias_is_unparsable_not_a_crash(text: str) -> None:
    """Issue 14, item 15: it recursed until RecursionError, a 500 and a traceback."""
    with pytest.raises(SpecUnparsable, match="self-referential"):
        load_spec(text)


def test_the_file_size_and_operation_count_are_capped() -> None:
    """Issue 14, item 17: configurable (agora/settings.py SpecLimits), named in the refusal."""
    paths = {f"/p{i}": {"get": {"responses": {"200": {"description": "ok"}}}} for i in range(30)}
    doc = json.dumps({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": paths})
    with pytest.raises(SpecTooLarge, match="AGORA_SPEC_MAX_BYTES"):
        load_spec(doc, limits=SpecLimits(max_bytes=100))
    with pytest.raises(SpecTooLarge, match=r"30 operations.*AGORA_SPEC_MAX_OPERATIONS"):
        load_spec(doc, limits=SpecLimits(max_operations=29))
    assert len(load_spec(doc, limits=SpecLimits(max_operations=30))["paths"]) == 30


def test_dumps_round_trip() -> None:
    doc = load_spec(YAML_DOC)
    assert load_spec(dump_json(doc), "spec.json") == doc
    assert load_spec(dump_yaml(doc), "spec.yaml") == doc
