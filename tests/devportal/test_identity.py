"""The portal's identity: defaults for the demo, a deployment's TOML file, colours checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from agora.errors import InvalidInput
from devportal.chrome import static_footer, static_header
from devportal.identity import IDENTITY_ENV, Identity, _cached, load_identity, theme_css


def test_a_deployment_names_its_service_colours_and_footer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "identity.toml"
    path.write_text(
        'name = "API.gouv.example"\nowner = "Republic of Example"\nprimary = "#000091"\n'
        'logo = "/logo.svg"\n[[footer]]\nlabel = "Mentions légales"\nhref = "/legal/"\n'
    )
    monkeypatch.setenv(IDENTITY_ENV, str(path))
    _cached.cache_clear()
    identity = load_identity()
    assert identity.name == "API.gouv.example" and identity.primary == "#000091"
    header, footer = static_header(identity), static_footer(identity)
    assert "Republic of Example" in header and 'src="/logo.svg"' in header
    assert "Mentions légales" in footer and "Accessibility" not in footer
    assert "--portal-primary: #000091" in theme_css(identity)
    # The static header keeps the signed-in entries for the script to show.
    assert 'data-role="agency-admin" hidden' in header and "Sign in" in header


def test_a_colour_that_is_not_one_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "identity.toml"
    path.write_text('primary = "blue"\n')
    monkeypatch.setenv(IDENTITY_ENV, str(path))
    _cached.cache_clear()
    with pytest.raises(InvalidInput, match="primary must be a colour"):
        load_identity()
    _cached.cache_clear()


def test_defaults_link_the_statements_and_open_data() -> None:
    footer = static_footer(Identity())
    for href in ("/legal/", "/accessibility/", "mailto:", "/transparency/"):
        assert href in footer
