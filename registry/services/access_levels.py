"""Which access level an API may have: one that returns personal data is `restricted` (issue 16).

Every caller of such an API must hold a grant the agency approved, with a purpose and a legal basis;
`open` (no key at all) and `key` (any application) would let data about a person be read without
either. The rule holds both ways: a spec declaring personal data is refused on an `open` or `key`
API (a draft too); an API whose live versions (published or deprecated) declare it cannot be moved
to `open` or `key`; and a draft declaring it is released only on a restricted API (drafts cannot be
retired, so they do not hold the level back). Only publication changes an API's level, so the
checks live there and in release.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agora.errors import InvalidInput
from registry.models import AccessLevel, Api, ApiVersion, VersionStatus
from registry.specs.personal_data import personal_data

__all__ = ["RULE", "check_release", "level_for_publication"]

RULE = "an API that returns personal data may only have access level 'restricted'"


def _declaring_operation(normalized: Mapping[str, Any]) -> str | None:
    """The first operation (by id) declaring personal data, for a refusal to name; None when none does."""
    declared = personal_data(normalized)
    return min(declared.operations) if declared is not None else None


def level_for_publication(
    api: Api | None, requested: AccessLevel | None, normalized: Mapping[str, Any], *, ref: str
) -> AccessLevel:
    """The level `api` (None: about to be created) has once this spec is published with `requested`.

    A new API defaults to `restricted` when its spec declares personal data, `key` otherwise. Raises
    InvalidInput, before anything is written, when the result would break the rule."""
    operation = _declaring_operation(normalized)
    if api is None:
        default = AccessLevel.RESTRICTED if operation is not None else AccessLevel.KEY
        level = requested or default
    else:
        level = requested or api.access_level
    if level is AccessLevel.RESTRICTED:
        return level
    if operation is not None:
        raise InvalidInput(
            f"{ref}: {RULE}, not {level.value!r}: this spec declares personal data (operation "
            f"{operation!r}); publish it with access level 'restricted'"
        )
    if api is not None and level is not api.access_level:
        # Levels already stored obey the rule, so the other versions matter only when the level changes
        # (which spares reading every version's document on each publication).
        for version in sorted(api.versions, key=lambda v: v.id):
            if version.status not in (VersionStatus.PUBLISHED, VersionStatus.DEPRECATED):
                continue
            operation = _declaring_operation(version.normalized)
            if operation is not None:
                raise InvalidInput(
                    f"{ref}: {RULE}, not {level.value!r}: version {version.version} "
                    f"({version.status.value}) declares personal data (operation {operation!r}); "
                    "retire it before opening the API"
                )
    return level


def check_release(row: ApiVersion) -> None:
    """A draft declaring personal data is released only on a restricted API: the API may have been
    opened since the draft was stored."""
    level = row.api.access_level
    if level is AccessLevel.RESTRICTED:
        return
    operation = _declaring_operation(row.normalized)
    if operation is not None:
        raise InvalidInput(
            f"{row.api.agency.slug}/{row.api.slug}: {RULE}, not {level.value!r}: version {row.version} "
            f"declares personal data (operation {operation!r})"
        )
