"""Version strings: agencies write "1.0", "v2" or "1.6.2.5"; the registry stores semver."""

from __future__ import annotations

import re

import semver

from agora.errors import InvalidInput

__all__ = ["coerce_semver"]

_LOOSE = re.compile(r"^[vV]?(\d+)(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:[.-](.+))?$")


def coerce_semver(raw: str) -> semver.Version:
    """Strict semver passes through; loose forms are completed ("1.0" -> 1.0.0, "3.x.x" -> 3.0.0,
    "1.6.2.5" -> 1.6.2+5, keeping the extra part as build metadata so nothing is lost)."""
    text = raw.strip()
    if semver.Version.is_valid(text):
        return semver.Version.parse(text)
    match = _LOOSE.match(text)
    if match is None:
        raise InvalidInput(
            f"version {raw!r} is not semantic versioning; pass an explicit version such as 1.0.0"
        )
    major, minor, patch, rest = match.groups()

    def number(part: str | None) -> int:
        return int(part) if part and part.isdigit() else 0

    build = re.sub(r"[^0-9A-Za-z.-]", "-", rest) if rest else None
    return semver.Version(number(major), number(minor), number(patch), build=build)
