"""The catalog the seeding code reads: complete, consistent, and pointing at real files and apps."""

from __future__ import annotations

import dataclasses
import importlib

import pytest
from starlette.applications import Starlette

from examples.catalog import EXAMPLES, Example, by_api_slug


def test_one_example_per_access_level_on_the_documented_ports() -> None:
    assert [(e.agency.slug, e.api_slug, e.access, e.port) for e in EXAMPLES] == [
        ("cadastre", "addresses", "open", 9101),
        ("commerce", "companies", "key", 9102),
        ("meteo", "warnings", "restricted", 9103),
        ("benefits", "entitlements", "restricted", 9104),  # personal data: restricted, as it must be
    ]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.api_slug)
def test_entry_points_at_a_spec_and_an_app(example: Example) -> None:
    assert example.spec_path.is_file()
    assert example.spec_text().startswith(("openapi: 3.0.3", "openapi: 3.1.0"))
    assert isinstance(importlib.import_module(example.upstream_module).create_app(), Starlette)
    assert example.upstream_url() == f"http://127.0.0.1:{example.port}"
    assert example.upstream_url("localhost", 100) == f"http://localhost:{example.port + 100}"
    assert example.agency.contact_email.endswith(".example.gov")
    assert example.agency.website.startswith("https://")
    assert example.tags and all(tag == tag.lower() for tag in example.tags)


def test_entries_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        EXAMPLES[0].port = 1  # type: ignore[misc]


def test_lookup_by_api_slug() -> None:
    assert by_api_slug("companies").agency.name == "Register of Companies"
    with pytest.raises(KeyError, match="known: addresses, companies, warnings, entitlements"):
        by_api_slug("parking")
