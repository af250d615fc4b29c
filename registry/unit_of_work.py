"""One unit of work: everything a command or request changes commits together, with the new snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from agora.errors import InvalidInput, Unavailable
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
    except DataError as exc:  # a value the column cannot hold (NUL in text, an integer out of range)
        raise InvalidInput(f"a value cannot be stored: {exc.orig or exc}") from exc
    except OverflowError as exc:  # SQLite's driver, for an integer past 64 bits (PostgreSQL: DataError)
        raise InvalidInput(f"a value cannot be stored: {exc}") from exc


@contextmanager
def read(factory: sessionmaker[Session]) -> Iterator[Session]:
    try:
        with factory() as session:
            yield session
    except OperationalError as exc:
        raise Unavailable(f"the registry database is unavailable: {exc.orig or exc}") from exc
    except DataError as exc:  # a lookup by a value the column cannot hold: nothing has it
        raise InvalidInput(f"a value cannot be looked up: {exc.orig or exc}") from exc
    except OverflowError as exc:  # SQLite's driver, for an integer past 64 bits
        raise InvalidInput(f"a value cannot be looked up: {exc}") from exc
