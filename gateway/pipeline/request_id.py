"""`X-Request-ID`: kept from the client when it is sane, generated otherwise; the pipeline returns it
on every answer."""

from __future__ import annotations

import os
import random
import re

from gateway.engine.http import Headers

__all__ = ["request_id_of"]

_SANE = re.compile(rb"[A-Za-z0-9._:@/+=-]{1,128}")


class _Ids:
    """Request ids: 128 random bits as 32 hex digits (a UUID4's shape), from a generator seeded from the
    kernel once per process.

    `uuid4()` reads the kernel's random source on every request, and that call releases the GIL: with a
    busy thread in the process (metering's flusher), the event loop then waits for it. An id needs to
    be unique and to say nothing (a counter would tell callers how busy the gateway is), not to be
    unguessable: clients choose their own ids anyway. A forked child reseeds, so workers never repeat
    each other's ids.
    """

    def __init__(self) -> None:
        self._random = random.Random()
        self.reseed()
        os.register_at_fork(after_in_child=self.reseed)

    def reseed(self) -> None:
        self._random.seed(os.urandom(32))

    def next(self) -> str:
        return f"{self._random.getrandbits(128):032x}"


_ids = _Ids()


def request_id_of(headers: Headers) -> str:
    """The client's `X-Request-ID` when it is sane, else a new one."""
    for name, value in headers:
        if name == b"x-request-id":
            if _SANE.fullmatch(value):
                return value.decode("ascii")
            break
    return _ids.next()
