"""One unit of work: everything a command or request changes commits together, with the new snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from agora.errors import Unavailable
from registry import snapshots

__all__ = ["change", "read"]


@contextmanager
def change(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A writing unit of work. The gateway snapshot is recompiled before commit; any error rolls back all."""
    try:
        with factory.begin() as session:
            yield session
            snapshots.refresh(session)
    except OperationalError as exc:
        raise Unavailable(f"the registry database is unavailable: {exc.orig or exc}") from exc


@contextmanager
def read(factory: sessionmaker[Session]) -> Iterator[Session]:
    try:
        with factory() as session:
            yield session
    except OperationalError as exc:
        raise Unavailable(f"the registry database is unavailable: {exc.orig or exc}") from exc
