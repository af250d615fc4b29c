"""The load test's callers, added to the registry `make run` serves (the one `agora run` seeded):

    developers  DEVELOPERS developers, each with an application on the `standard` plan and a key; every
                other one also holds an approved grant for the restricted API (meteo/warnings)
    over_limit  OVER_LIMIT applications on a tiny plan (`loadtest-tiny`: 2 calls a second, 30 a minute),
                which the load test drives past their limits on purpose

Their keys (secrets, shown once by the registry) are kept in `var/loadtest/keys.json`, readable by the
owner only, and reused by the next run while the registry still holds them; otherwise new keys are
issued. Idempotent: developers, applications, plans and grants are created once.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy import select

__all__ = ["DEVELOPERS", "KEYS_FILE", "OVER_LIMIT", "TINY_LIMITS", "seed_callers"]

DEVELOPERS = 40
OVER_LIMIT = 3
KEYS_FILE = Path("var") / "loadtest" / "keys.json"
TINY_LIMITS: dict[str, int | None] = {"second": 2, "minute": 30, "hour": None, "day": None, "month": None}
RESTRICTED = ("meteo", "warnings")
ACTOR = "loadtests:seed"


def _stored_keys_valid(session: Any, keys: dict[str, Any]) -> bool:
    from registry.models import Credential
    from registry.secrets import prefix_of

    wanted = [k["key"] for k in keys.get("developers", [])] + list(keys.get("over_limit", []))
    prefixes = {prefix_of(key) for key in wanted}
    if len(wanted) != DEVELOPERS + OVER_LIMIT or None in prefixes:
        return False
    live = session.scalars(
        select(Credential.prefix).where(Credential.prefix.in_(prefixes), Credential.revoked_at.is_(None))
    ).all()
    return len(set(live)) == len(prefixes)


def _application(session: Any, email: str, plan: Any) -> Any:
    from registry.models import Application, Developer
    from registry.services import applications

    developer = session.scalar(select(Developer).where(Developer.email == email))
    if developer is None:
        developer = applications.create_developer(session, email=email, verified=True, actor=ACTOR)
    app = session.scalar(select(Application).where(Application.developer_id == developer.id))
    if app is None:
        app = applications.create_application(
            session, developer=developer, name="loadtest-app", plan=plan, actor=ACTOR
        )
    return app


def seed_callers(path: Path = KEYS_FILE) -> dict[str, Any]:
    """Adds the callers to the registry of `load_settings()` and returns their keys (also in `path`)."""
    from agora.errors import NotFound
    from agora.settings import load_settings
    from registry.db import make_engine, make_sessionmaker
    from registry.models import AccessGrant, GrantState
    from registry.services import apis, applications, grants, plans
    from registry.unit_of_work import change, read

    settings = load_settings()
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    try:
        stored: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
        with read(sessions) as session:
            if stored and _stored_keys_valid(session, stored):
                return stored
        with change(sessions) as session:
            try:
                tiny = plans.get_plan(session, "loadtest-tiny")
            except NotFound:
                tiny = plans.create_plan(
                    session, slug="loadtest-tiny", name="Load test (tiny)", limits=TINY_LIMITS, actor=ACTOR
                )
            standard, partners = (
                plans.get_plan(session, "standard"),
                plans.get_plan(session, "meteo-partners"),
            )
            restricted = apis.get_api(session, *RESTRICTED)
            developers = []
            for n in range(DEVELOPERS):
                app = _application(session, f"loadtest-{n:02d}@agora.example", standard)
                granted = n % 2 == 0
                held = session.scalar(
                    select(AccessGrant).where(
                        AccessGrant.application_id == app.id, AccessGrant.api_id == restricted.id
                    )
                )
                if granted and (held is None or held.state is not GrantState.APPROVED):
                    grant = grants.request_access(
                        session, application=app, api=restricted, plan=partners, actor=ACTOR
                    )
                    grants.decide(session, grant, GrantState.APPROVED, reason="load test", actor=ACTOR)
                _, key = applications.issue_key(session, app, hmac_key=settings.hmac_key, actor=ACTOR)
                developers.append({"key": key, "granted": granted})
            over_limit = []
            for n in range(OVER_LIMIT):
                app = _application(session, f"loadtest-tiny-{n}@agora.example", tiny)
                _, key = applications.issue_key(session, app, hmac_key=settings.hmac_key, actor=ACTOR)
                over_limit.append(key)
        keys = {"developers": developers, "over_limit": over_limit}
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(keys, handle, indent=1)
        return keys
    finally:
        engine.dispose()
