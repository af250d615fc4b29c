"""The demo identity federation citizens sign in with: what `agora run` starts next to the portal.

A real OpenID Provider (node's oidc-provider, `examples/identity/provider.mjs`) on 127.0.0.1:8003,
standing where FranceConnect stands in a real deployment. Its people (`examples/identity/citizens.json`)
are the benefits register's beneficiaries; each signs in with the one demo password and carries a
`national_id` claim, their NIR, which the portal's "Who accessed my data" page takes as the person's
identifier. Node is optional: without it (or its packages, which `make env` installs) `agora run` says so
and serves everything else.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = [
    "CLIENT_ID",
    "IDENTITY_DIR",
    "PORT",
    "SECRET_ENV",
    "SUBJECT_CLAIM",
    "Citizen",
    "citizens",
    "command",
    "demo_password",
    "issuer",
    "portal_env",
    "unavailable",
]

IDENTITY_DIR = Path(__file__).resolve().parent / "identity"
PORT = 8003
CLIENT_ID = "agora-citizens"
SUBJECT_CLAIM = "national_id"
# The client secret reaches the provider through its environment: a command line is readable by any
# local user (`ps`).
SECRET_ENV = "AGORA_CITIZEN_OIDC_CLIENT_SECRET"


@dataclass(frozen=True, slots=True)
class Citizen:
    login: str
    given_name: str
    family_name: str
    birthdate: str
    national_id: str


@cache
def _accounts() -> tuple[str, tuple[Citizen, ...]]:
    raw = json.loads((IDENTITY_DIR / "citizens.json").read_text(encoding="utf-8"))
    return raw["password"], tuple(Citizen(**person) for person in raw["citizens"])


def citizens() -> tuple[Citizen, ...]:
    return _accounts()[1]


def demo_password() -> str:
    return _accounts()[0]


def issuer(port: int = PORT) -> str:
    return f"http://127.0.0.1:{port}"


def unavailable() -> str | None:
    """Why the provider cannot start here, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed (Node.js 18 or later runs it)"
    if not (IDENTITY_DIR / "node_modules" / "oidc-provider").is_dir():
        return f"its packages are not installed (`make env`, or `npm ci` in {IDENTITY_DIR})"
    return None


def command(port: int = PORT, portal_url: str = "http://127.0.0.1:8002") -> list[str]:
    """The provider's command line; the client secret goes in its environment under SECRET_ENV."""
    node = shutil.which("node") or "node"
    return [node, str(IDENTITY_DIR / "provider.mjs"), str(port), portal_url]


def portal_env(secret: str, port: int = PORT) -> dict[str, str]:
    """The settings that point the portal's citizen sign-in at this provider."""
    return {
        "AGORA_CITIZEN_OIDC_ISSUER": issuer(port),
        "AGORA_CITIZEN_OIDC_CLIENT_ID": CLIENT_ID,
        SECRET_ENV: secret,
        "AGORA_CITIZEN_OIDC_SUBJECT_CLAIM": SUBJECT_CLAIM,
    }
