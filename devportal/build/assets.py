"""Browser assets copied into the site at build time: Swagger UI and Chart.js from the npm packages
pinned in devportal/package-lock.json (`make devportal-assets`), and the portal's own CSS and JS.
Nothing is loaded from a CDN."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from agora.errors import Unavailable

__all__ = ["NODE_MODULES", "asset_files", "file_digest"]

NODE_MODULES = Path(os.environ.get("AGORA_PORTAL_NODE_MODULES", Path(__file__).parents[1] / "node_modules"))
_STATIC = Path(__file__).parent / "static"
_CHROME = (
    Path(__file__).parents[1] / "chrome" / "static"
)  # the header and footer shared with the account pages

# site path -> path under node_modules
_VENDOR = {
    "assets/vendor/swagger-ui/swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "assets/vendor/swagger-ui/swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
    "assets/vendor/swagger-ui/LICENSE": "swagger-ui-dist/LICENSE",
    "assets/vendor/chart.js/chart.umd.min.js": "chart.js/dist/chart.umd.min.js",
    "assets/vendor/chart.js/LICENSE.md": "chart.js/LICENSE.md",
}


def asset_files() -> dict[str, Path]:
    """Site path -> source file. Unavailable (exit 7) when the npm packages are not installed."""
    files = {site: NODE_MODULES / source for site, source in _VENDOR.items()}
    missing = [str(p) for p in files.values() if not p.is_file()]
    if missing:
        raise Unavailable(f"portal assets missing ({missing[0]}...): run `make devportal-assets`")
    for folder in (_STATIC, _CHROME):
        files.update({f"assets/portal/{p.name}": p for p in sorted(folder.iterdir()) if p.is_file()})
    return files


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
