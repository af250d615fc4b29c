"""The built site as static files; while the first build has not finished, a page that says so."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from devportal.web.types import Receive, Scope, Send

__all__ = ["SiteFiles"]

# Python before 3.13 knows no type for .yaml; the spec downloads are served as RFC 9512 YAML.
mimetypes.add_type("application/yaml", ".yaml")
mimetypes.add_type("application/yaml", ".yml")

_BUILDING = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">'
    "<title>Agora developer portal</title></head><body><main><h1>The portal is being built</h1>"
    "<p>This page reloads in a few seconds.</p></main></body></html>"
)


class SiteFiles:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.files = StaticFiles(directory=directory, html=True, check_dir=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.directory.is_dir():
            await HTMLResponse(_BUILDING, status_code=503, headers={"Retry-After": "5"})(scope, receive, send)
            return
        await self.files(scope, receive, send)
