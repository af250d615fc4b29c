"""One asyncio event loop per plugin server, in its own thread, for plugins' async phases.

kong-pdk runs each event in a thread of its own and calls the phase method synchronously. Agora's
async phases (rate-limiting's Redis policy, jwt's JWKS cache) keep clients bound to the loop they
were created on, so every event's coroutine runs on this one long-lived loop rather than on a fresh
`asyncio.run` loop per event. PDK calls inside a coroutine block that loop for one RPC round trip;
the event threads themselves only wait for their coroutine's result.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any

__all__ = ["run"]

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def _running_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="agora-kong-loop", daemon=True).start()
            _loop = loop
        return _loop


def run(coroutine: Coroutine[Any, Any, Any], timeout: float | None = None) -> Any:
    """The coroutine's result (or its exception), run on the server's loop."""
    return asyncio.run_coroutine_threadsafe(coroutine, _running_loop()).result(timeout)
