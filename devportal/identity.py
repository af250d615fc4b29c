"""The identity of the government that deploys the portal: its name, logo, colours and footer links.

Every page kind (catalogue and API pages built by mkdocs, account pages, agency console, console,
transparency, errors) shows the same header and footer from it (devportal.chrome). Defaults suit the
demo; a deployment sets `AGORA_PORTAL_IDENTITY` to a TOML file, for example:

    name = "API.gouv.example"
    owner = "Republic of Example"
    logo = "https://www.example.gov/logo.svg"   # or a path the portal serves
    primary = "#000091"        # header and buttons; must keep 4.5:1 against white text
    link = "#000091"           # links on white
    contact = "mailto:api@example.gov"
    [[footer]]
    label = "Legal notice"
    href = "/legal/"
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from agora.errors import InvalidInput

__all__ = ["IDENTITY_ENV", "FooterLink", "Identity", "load_identity", "theme_css"]

IDENTITY_ENV = "AGORA_PORTAL_IDENTITY"
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True, slots=True)
class FooterLink:
    label: str
    href: str


DEFAULT_FOOTER = (
    FooterLink("Legal notice", "/legal/"),
    FooterLink("Accessibility: partially compliant", "/accessibility/"),
    FooterLink("Contact", "mailto:api@agora.example"),
    FooterLink("Open data and figures", "/transparency/"),
)


@dataclass(frozen=True, slots=True)
class Identity:
    name: str = "Agora developer portal"
    owner: str = "The Agora platform"
    tagline: str = "Public APIs of the agencies, in one place"
    logo: str | None = None
    primary: str = "#1f3a68"
    link: str = "#0b4ea2"
    contact: str = "mailto:api@agora.example"
    footer: tuple[FooterLink, ...] = field(default=DEFAULT_FOOTER)


def _colour(data: dict[str, Any], key: str, default: str) -> str:
    value = str(data.get(key, default))
    if not _COLOUR.match(value):
        raise InvalidInput(f"portal identity: {key} must be a colour like #1f3a68, not {value!r}")
    return value


def _from_file(path: Path) -> Identity:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput(f"portal identity: cannot read {path}: {exc}") from exc
    base = Identity()
    links = data.get("footer")
    footer = (
        tuple(FooterLink(str(link["label"]), str(link["href"])) for link in links)
        if isinstance(links, list)
        else base.footer
    )
    return Identity(
        name=str(data.get("name", base.name)),
        owner=str(data.get("owner", base.owner)),
        tagline=str(data.get("tagline", base.tagline)),
        logo=str(data["logo"]) if data.get("logo") else None,
        primary=_colour(data, "primary", base.primary),
        link=_colour(data, "link", base.link),
        contact=str(data.get("contact", base.contact)),
        footer=footer,
    )


@cache
def _cached(path: str | None) -> Identity:
    return _from_file(Path(path)) if path else Identity()


def load_identity() -> Identity:
    return _cached(os.environ.get(IDENTITY_ENV) or None)


def theme_css(identity: Identity) -> str:
    """The identity's colours as CSS custom properties, read by the portal's CSS and by the mkdocs
    theme's (Material's own variables are set from them, so the built pages take the same colours)."""
    return (
        ":root, [data-md-color-scheme] {\n"
        f"  --portal-primary: {identity.primary};\n"
        f"  --portal-link: {identity.link};\n"
        f"  --md-primary-fg-color: {identity.primary};\n"
        f"  --md-primary-fg-color--dark: {identity.primary};\n"
        f"  --md-accent-fg-color: {identity.link};\n"
        f"  --md-typeset-a-color: {identity.link};\n"
        "}\n"
    )
