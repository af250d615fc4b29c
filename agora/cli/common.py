"""What every command shares: settings, the session factory, the actor name, and output helpers."""

from __future__ import annotations

import getpass
import json
from functools import cache
from typing import Any

from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from agora.settings import Settings, load_settings
from registry.db import make_engine, make_sessionmaker

__all__ = ["actor", "console", "print_json", "sessions", "settings"]

console = Console()


@cache
def settings() -> Settings:
    return load_settings()


@cache
def sessions() -> sessionmaker[Session]:
    return make_sessionmaker(make_engine(settings().database_url))


def actor() -> str:
    # The CLI is the operator at the machine, acting with full rights; the trail still says who.
    return f"cli:{getpass.getuser()}"


def print_json(value: Any) -> None:
    console.print_json(json.dumps(value, default=str))
