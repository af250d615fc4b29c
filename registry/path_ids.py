"""Integer ids in URL paths (`{grant_id:int}`), shared by the admin API and the portal.

Starlette's `int` convertor accepts any run of digits; the ids are SQL INTEGER columns, so a larger
value names no row, and would reach the database only to overflow SQLite's driver (a 500 before
`unit_of_work` caught it) or PostgreSQL's column. Refusing it at the door says which parameter was
wrong and touches nothing.
"""

from __future__ import annotations

from starlette.requests import Request

from agora.errors import InvalidInput

__all__ = ["MAX_ID", "path_id"]

MAX_ID = 2**31 - 1


def path_id(request: Request, name: str) -> int:
    """An integer path parameter (`{name:int}`), refused with 422 when no row could have it."""
    value = int(request.path_params[name])
    if not 0 <= value <= MAX_ID:
        raise InvalidInput(f"{name} {value} is out of range (0 to {MAX_ID})")
    return value
