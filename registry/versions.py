"""Versions: the strings agencies write ("1.0", "v2" or "1.6.2.5", stored as semver), and which versions
the gateway serves (the newest non-draft of each major; a retired one answers 410 Gone)."""

from __future__ import annotations

import re
from collections.abc import Iterable

import semver

from agora.errors import InvalidInput
from registry.models import ApiVersion, VersionStatus

__all__ = ["coerce_semver", "newest_by_major", "served_versions"]

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


def _semver(row: ApiVersion) -> semver.Version:
    return semver.Version.parse(row.version)


def newest_by_major(versions: Iterable[ApiVersion]) -> dict[int, ApiVersion]:
    """The newest non-draft version of each major: what the gateway routes under `/v{major}`, retired
    or not (a retired major answers 410 Gone and names its successor)."""
    newest: dict[int, ApiVersion] = {}
    for row in versions:
        if row.status is VersionStatus.DRAFT:
            continue
        kept = newest.get(row.major)
        if kept is None or _semver(row) > _semver(kept):
            newest[row.major] = row
    return newest


def served_versions(versions: Iterable[ApiVersion]) -> list[ApiVersion]:
    """The versions the gateway serves, newest first: the newest non-draft of each major unless retired.
    It takes the rows rather than the API so that each caller loads them as it needs (the snapshot all
    APIs' at once, the purpose rule one API's without their documents)."""
    live = [row for row in newest_by_major(versions).values() if row.status is not VersionStatus.RETIRED]
    return sorted(live, key=_semver, reverse=True)
