"""Version strings: agencies write "1.0", "v2" or "1.6.2.5"; the registry stores semver."""

from __future__ import annotations

import re

import semver

from agora.errors import InvalidInput

__all__ = ["coerce_semver"]

# The extra part of a loose version must already be a dot-separated list of SemVer identifiers:
# anything else ("1.0.0-../../x") is refused, never rewritten into something the author did not write.
_LOOSE = re.compile(
    r"^[vV]?(\d+)(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:[.-]([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)


def coerce_semver(raw: str, *, what: str = "version") -> semver.Version:
    """Strict semver passes through; loose forms are completed ("1.0" -> 1.0.0, "3.x.x" -> 3.0.0,
    "1.6.2.5" -> 1.6.2+5, keeping the extra part as build metadata so nothing is lost). `what` names
    where the version came from in the refusal (`--version`, `info.version`)."""
    text = raw.strip()
    if semver.Version.is_valid(text):
        return semver.Version.parse(text)
    match = _LOOSE.match(text)
    if match is None:
        raise InvalidInput(f"{what} {raw!r} is not semantic versioning (e.g. 1.0.0 or 1.0.0-beta.1)")
    major, minor, patch, rest = match.groups()

    def number(part: str | None) -> int:
        return int(part) if part and part.isdigit() else 0

    return semver.Version(number(major), number(minor), number(patch), build=rest or None)
