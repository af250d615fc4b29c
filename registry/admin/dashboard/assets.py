"""The UI's static files: its own script and style, and Chart.js. Chart.js is not vendored twice: it is
the copy the portal installs from npm (devportal/package.json, `make devportal-assets`), served from
this origin, never from a CDN. Without it the pages still show every figure, in tables."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

__all__ = ["CHART_JS", "routes"]

_STATIC = Path(__file__).parent / "static"
_REPO = Path(__file__).resolve().parents[3]
CHART_JS = _REPO / "devportal" / "node_modules" / "chart.js" / "dist" / "chart.umd.min.js"
_FILES = {
    "dashboard.js": (_STATIC / "dashboard.js", "text/javascript"),
    "dashboard.css": (_STATIC / "dashboard.css", "text/css"),
    "chart.umd.min.js": (CHART_JS, "text/javascript"),
}


def static_file(request: Request) -> Response:
    found = _FILES.get(request.path_params["name"])
    if found is None or not found[0].is_file():
        return Response("not found", status_code=404, media_type="text/plain")
    path, media_type = found
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": "max-age=300"})


routes = [Route("/admin/ui/static/{name}", static_file, methods=["GET"])]
