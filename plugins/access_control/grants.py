"""Which grant lets an application call an API: the snapshot's `consumers[].grants` entries are
`{"api": "<agency>/<api>", "plan": "<plan slug>"}`, one per approved grant (covering every major)."""

from __future__ import annotations

from typing import Any

__all__ = ["find_grant", "grant_key"]


def grant_key(agency: str, api: str) -> str:
    return f"{agency}/{api}"


def find_grant(consumer: dict[str, Any] | None, agency: str, api: str) -> dict[str, Any] | None:
    if consumer is None:
        return None
    wanted = grant_key(agency, api)
    for grant in consumer.get("grants") or ():
        if isinstance(grant, dict) and grant.get("api") == wanted:
            return grant
    return None
