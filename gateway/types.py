"""The gateway's shared types, in one place (the engine's seam types, re-exported)."""

from __future__ import annotations

from gateway.engine.http import Headers

__all__ = ["Headers"]
