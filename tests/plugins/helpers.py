"""Builders shared by the plugins' tests: real keys under a test platform key, consumers, snapshots
with plugin entries, and a migrated SQLite registry to meter into."""

from __future__ import annotations

import os
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from registry.db import make_engine, make_sessionmaker
from registry.models import UsageRecord
from registry.secrets import new_secret

HERE = Path(__file__).resolve().parent
INTEGRATION = HERE.parent / "gateway" / "integration"
sys.path.insert(0, str(INTEGRATION))
from gateway_harness import REPO, route, service, snapshot  # noqa: E402  (the gateway tests' builders)

__all__ = [
    "HMAC_HEX",
    "HMAC_KEY",
    "consumer",
    "count_records",
    "credential",
    "platform_env",
    "records",
    "route",
    "service",
    "snapshot",
    "sqlite_copy",
]

HMAC_HEX = "5a" * 32
HMAC_KEY = bytes.fromhex(HMAC_HEX)


def platform_env(state_dir: Path, **extra: str) -> dict[str, str]:
    """A gateway's environment: the test platform key, and the probe plugins (tests/plugins/probe_plugins)
    discovered beside the real ones."""
    return {
        "AGORA_HMAC_KEY": HMAC_HEX,
        "AGORA_STATE_DIR": str(state_dir),
        "PYTHONPATH": os.pathsep.join([str(HERE), str(INTEGRATION), str(REPO)]),
        "AGORA_GATEWAY_PLUGIN_PACKAGES": "plugins,probe_plugins",
        **extra,
    }


def credential(
    cid: str, *, expires_in: timedelta | None = None, sandbox: bool = False
) -> tuple[str, dict[str, Any]]:
    """(the key a client sends, the snapshot's credential entry), as the registry issues them."""
    secret = new_secret(HMAC_KEY)
    expires = (datetime.now(UTC) + expires_in).isoformat() if expires_in is not None else None
    entry = {
        "id": cid,
        "prefix": secret.prefix,
        "digest": secret.digest,
        "expires_at": expires,
        "sandbox": sandbox,
    }
    return secret.value, entry


def consumer(
    cid: str, username: str, credentials: list[dict[str, Any]], *, plan: str = "free", grants: list[str] = ()
) -> dict[str, Any]:
    return {
        "id": cid,
        "username": username,
        "developer": f"{username}@example.org",
        "plan": plan,
        "credentials": credentials,
        "grants": [{"api": api, "plan": f"{api.replace('/', '-')}-plan"} for api in grants],
    }


def sqlite_copy(template: Path, where: Path) -> str:
    """A migrated registry database of one's own (copied from the session's migrated template)."""
    path = where / "registry.db"
    shutil.copy(template, path)
    return f"sqlite:///{path}"


def records(url: str) -> list[UsageRecord]:
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            return list(session.scalars(select(UsageRecord).order_by(UsageRecord.id)))
    finally:
        engine.dispose()


def count_records(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(UsageRecord)) or 0)
    finally:
        engine.dispose()
