"""Settings from environment variables, with embedded defaults for a laptop.

Secrets (the HMAC key behind credential digests, the session secret) are generated on first run and
kept in the state directory, outside the repository, readable by the owner only. Environment
variables override them so production can take them from a secret store.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from agora.addresses import allowed_hosts_from_env

__all__ = ["Settings", "SpecLimits", "load_settings"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SpecLimits:
    """How large a spec the registry accepts (issue 14, items 7 and 17). A spec past one is refused
    with 422 / exit 3 before validation. The defaults are ten times the largest real spec we know
    (about 300 KB, 300 operations) and keep a publication within seconds and a few hundred MB."""

    max_bytes: int = 5 * 1024 * 1024  # AGORA_SPEC_MAX_BYTES: the file as uploaded
    max_expanded_bytes: int = 20 * 1024 * 1024  # AGORA_SPEC_MAX_EXPANDED_BYTES: after YAML aliases
    max_operations: int = 5_000  # AGORA_SPEC_MAX_OPERATIONS: path x method pairs

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SpecLimits:
        defaults = cls()
        return cls(
            max_bytes=_positive(env, "AGORA_SPEC_MAX_BYTES", defaults.max_bytes),
            max_expanded_bytes=_positive(env, "AGORA_SPEC_MAX_EXPANDED_BYTES", defaults.max_expanded_bytes),
            max_operations=_positive(env, "AGORA_SPEC_MAX_OPERATIONS", defaults.max_operations),
        )


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a whole number") from None
    if value <= 0:
        raise ValueError(f"{name}={raw!r} must be positive")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    database_url: str
    redis_url: str | None
    state_dir: Path
    hmac_key: bytes
    session_secret: str
    gateway_url: str
    portal_url: str
    allowed_upstream_hosts: tuple[str, ...]
    spec_limits: SpecLimits = SpecLimits()
    # AGORA_ADMIN_MAX_BODY_BYTES: the admin API refuses larger bodies (413) before reading them; a spec
    # at its byte limit, escaped inside a JSON body, fits.
    admin_max_body_bytes: int = 16 * 1024 * 1024


def _default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "agora"


def _load_or_create_secrets(state_dir: Path) -> dict[str, str]:
    path = state_dir / "secrets.json"
    if path.exists():
        stored: dict[str, str] = json.loads(path.read_text())
        return stored
    state_dir.mkdir(parents=True, exist_ok=True)
    generated = {"hmac_key": secrets.token_hex(32), "session_secret": secrets.token_urlsafe(32)}
    # Created with 0600 from the start: a umask-default file would be world-readable for a moment.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(generated, handle)
    return generated


def load_settings() -> Settings:
    env = os.environ
    state_dir = Path(env.get("AGORA_STATE_DIR") or _default_state_dir())
    hmac_hex = env.get("AGORA_HMAC_KEY")
    session_secret = env.get("AGORA_SESSION_SECRET")
    if not hmac_hex or not session_secret:
        stored = _load_or_create_secrets(state_dir)
        hmac_hex = hmac_hex or stored["hmac_key"]
        session_secret = session_secret or stored["session_secret"]
    default_db = "sqlite:///" + str(Path.cwd() / "var" / "agora.db")
    return Settings(
        database_url=env.get("AGORA_DATABASE_URL") or default_db,
        redis_url=env.get("AGORA_REDIS_URL") or None,
        state_dir=state_dir,
        hmac_key=bytes.fromhex(hmac_hex),
        session_secret=session_secret,
        gateway_url=env.get("AGORA_GATEWAY_URL", "http://127.0.0.1:8000"),
        portal_url=env.get("AGORA_PORTAL_URL", "http://127.0.0.1:8002"),
        allowed_upstream_hosts=allowed_hosts_from_env(env),
        spec_limits=SpecLimits.from_env(env),
        admin_max_body_bytes=_positive(env, "AGORA_ADMIN_MAX_BODY_BYTES", 16 * 1024 * 1024),
    )
