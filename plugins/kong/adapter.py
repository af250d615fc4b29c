"""An Agora plugin class wrapped into the class kong-pdk serves: same phases, Kong's PDK translated.

kong-pdk calls `Plugin(config)` on `plugin.StartInstance` and `instance.<phase>(kong)` in a thread per
`plugin.HandleEvent`. A phase that raises never tells kong-pdk it returned, so Kong's request would
hang: every phase here catches everything and answers the gateway's 500 problem document instead
(`kong.response.exit(500, problem, {"Content-Type": "application/problem+json"})`), and logs why.

Before the access phase of a plugin that reads bodies (`body_limit`, request-validator), a declared
body over the limit is answered 413 as the gateway does (gateway/pipeline/body.py); Kong buffers the body
itself (`request_buffering: true` on the exported routes).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from agora.errors import AgoraError
from gateway.errors import PayloadTooLarge
from gateway.pipeline.plugin_host import PluginSpec

from . import loop
from .pdk import AfterExit, KongFacade
from .schema import agora_config
from .snapshot import SnapshotFile

__all__ = ["ERR_INTERNAL", "PHASES", "plugin_class"]

PHASES = ("access", "response", "log")  # Agora's phases; kong-pdk serves a phase the class defines
ERR_INTERNAL = "the gateway failed; quote the request id"  # gateway/problems.py's words
log = logging.getLogger("agora.kong")


def _answer_500(facade: KongFacade, phase: str) -> None:
    if facade.bridge.exited or phase == "log":
        return  # an answer stands; in the log phase the response is already sent
    try:
        facade.response.exit(
            500, AgoraError(ERR_INTERNAL).problem(), {"Content-Type": "application/problem+json"}
        )
    except Exception:
        log.exception("agora kong plugin: the 500 answer itself failed")


def _too_large(facade: KongFacade, limit: int) -> bool:
    declared = facade.request.get_header("content-length")
    if declared is None or not declared.strip().isdigit() or int(declared) <= limit:
        return False
    error = PayloadTooLarge(
        f"the request body ({int(declared)} bytes) exceeds this operation's limit of {limit}"
    )
    facade.response.exit(
        error.status, error.problem(facade.request.get_path()), {"Content-Type": "application/problem+json"}
    )
    return True


def _phase(spec: PluginSpec, name: str) -> Callable[[Any, Any], None]:
    def handler(self: Any, kong: Any) -> None:
        facade = KongFacade(kong, self.snapshots.current())
        try:
            limit = int(getattr(self.plugin, "body_limit", 0) or 0)
            if name == "access" and limit and _too_large(facade, limit):
                return
            result = getattr(self.plugin, name)(facade)
            if inspect.iscoroutine(result):  # an async phase, or a sync one that has to wait this time
                loop.run(result)
        except AfterExit:
            log.warning("agora-%s %s: a PDK call after kong.response.exit was dropped", spec.name, name)
        except Exception:
            log.exception("agora-%s %s phase failed; answering 500", spec.name, name)
            _answer_500(facade, name)

    handler.__name__ = name
    return handler


def plugin_class(spec: PluginSpec, snapshots: SnapshotFile) -> type:
    """The class kong-pdk instantiates: only the phases the Agora plugin has (kong-pdk reports
    a plugin's phases to Kong by looking for these methods)."""

    def __init__(self: Any, config: dict[str, Any]) -> None:
        self.snapshots = snapshots
        self.plugin = spec.plugin(agora_config(spec, config))

    namespace: dict[str, Any] = {"__init__": __init__, "__doc__": f"agora-{spec.name} for kong-pdk"}
    for phase in PHASES:
        if callable(getattr(spec.plugin, phase, None)):
            namespace[phase] = _phase(spec, phase)
    return type(f"Kong{spec.plugin.__name__}", (), namespace)
