"""The ops dashboard: server-rendered pages of the admin web UI under `/admin/ui/`.

    auth.py       sign-in with an admin token (posted once; the session keeps only its prefix), CSRF
    pages.py      the pages (Jinja2) and their security headers
    data.py       the JSON the pages poll every few seconds (the admin API's analytics functions)
    assets.py     the UI's own script and style, and Chart.js from the portal's vendored npm assets

These routes are the UI's internals, authenticated by the session cookie, not the admin API: they are
kept out of `ROUTES` and so out of the API document (registry/admin/openapi.yaml), whose routes are
bearer-token endpoints. An agency admin sees the same views limited to its agencies.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from registry.admin.dashboard import assets, auth, data, pages

__all__ = ["UI_PREFIX", "ui_routes"]

UI_PREFIX = "/admin/ui"

ui_routes: list[BaseRoute] = [*auth.routes, *pages.routes, *data.routes, *assets.routes]
