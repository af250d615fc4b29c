"""The types of the gateway, in one place: ASGI callables and the small protocols the pieces share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["ASGIApp", "Headers", "Message", "Receive", "Scope", "Send"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Raw header pairs as ASGI carries them: lower-case names, latin-1 bytes, order and repeats kept.
Headers = list[tuple[bytes, bytes]]
