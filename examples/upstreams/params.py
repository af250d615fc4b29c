"""Parse path and query parameters, turning bad input into 422 problems that name the parameter."""

from __future__ import annotations

from starlette.requests import Request

from examples.upstreams.problems import Problem

__all__ = ["path_int", "query_choice", "query_int", "query_text"]


def _as_int(name: str, raw: str, minimum: int, maximum: int | None) -> int:
    # Plain decimal digits with an optional sign only: int() alone would also accept " 7", "7_0"
    # and Arabic-Indic digits.
    stripped = raw[1:] if raw[:1] in "+-" else raw
    if not stripped.isascii() or not stripped.isdigit():
        raise Problem(422, f"{name} must be an integer.", errors=[{"name": name, "reason": "not an integer"}])
    value = int(raw)
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"at least {minimum}" if maximum is None else f"between {minimum} and {maximum}"
        raise Problem(422, f"{name} must be {bounds}.", errors=[{"name": name, "reason": f"not {bounds}"}])
    return value


def query_int(request: Request, name: str, *, default: int, minimum: int, maximum: int | None = None) -> int:
    raw = request.query_params.get(name)
    return default if raw is None else _as_int(name, raw, minimum, maximum)


def path_int(request: Request, name: str, *, minimum: int, maximum: int | None = None) -> int:
    return _as_int(name, str(request.path_params[name]), minimum, maximum)


def query_text(request: Request, name: str, *, max_length: int = 200) -> str | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if len(raw) > max_length:
        reason = f"longer than {max_length} characters"
        raise Problem(422, f"{name} is {reason}.", errors=[{"name": name, "reason": reason}])
    return raw


def query_choice(request: Request, name: str, choices: tuple[str, ...]) -> str | None:
    raw = request.query_params.get(name)
    if raw is not None and raw not in choices:
        reason = "one of " + ", ".join(choices)
        raise Problem(422, f"{name} must be {reason}.", errors=[{"name": name, "reason": f"not {reason}"}])
    return raw
