"""Content Security Policy support for the generated site: mkdocs-material writes a few small inline
scripts; rather than allowing every inline script, the build lists the SHA-256 hash of each one and
the server allows exactly those (`script-src 'self' 'sha256-...'`)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

__all__ = ["CSP_FILE", "inline_script_hashes", "read_hashes", "write_hashes"]

CSP_FILE = ".csp.json"
_INLINE = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>(.*?)</script>", re.S)


def inline_script_hashes(site: Path) -> list[str]:
    hashes: set[str] = set()
    for page in site.rglob("*.html"):
        for body in _INLINE.findall(page.read_text(encoding="utf-8", errors="replace")):
            if body.strip():
                digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
                hashes.add(f"'sha256-{digest}'")
    return sorted(hashes)


def write_hashes(site: Path) -> list[str]:
    hashes = inline_script_hashes(site)
    (site / CSP_FILE).write_text(json.dumps({"script_hashes": hashes}))
    return hashes


def read_hashes(site: Path) -> list[str]:
    try:
        loaded = json.loads((site / CSP_FILE).read_text())
    except (OSError, ValueError):
        return []
    return [str(h) for h in loaded.get("script_hashes", [])]
