"""Reading form fields as plain strings."""

from __future__ import annotations

from starlette.requests import Request

__all__ = ["form_fields"]


async def form_fields(request: Request, *names: str) -> dict[str, str]:
    form = await request.form()
    out = {}
    for name in names:
        value = form.get(name)
        out[name] = value.strip() if isinstance(value, str) else ""
    return out
