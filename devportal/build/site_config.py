"""The generated mkdocs.yml: mkdocs-material with its search, no CDN (fonts off), a nav grouped by
agency, breadcrumbs, the portal's identity and chrome as extra CSS and JavaScript, and only Markdown
extensions that agency text cannot abuse (no snippets, no raw includes)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import yaml

__all__ = ["mkdocs_config", "nav"]


def _t(text: str) -> str:
    return html.escape(" ".join(text.split()))  # mkdocs' templates print nav titles unescaped


def nav(catalogue: dict[str, Any], plugins: list[dict[str, Any]]) -> list[Any]:
    agencies: list[Any] = []
    for agency in catalogue["agencies"]:
        entries: list[Any] = [{"About": f"{agency['slug']}/index.md"}]
        for api in (a for a in catalogue["apis"] if a["agency"] == agency["slug"]):
            base = f"{api['agency']}/{api['slug']}"
            versions = [
                {_t(f"Version {v['version']}"): f"{base}/{v['slug']}/index.md"} for v in api["versions"]
            ]
            entries.append(
                {
                    _t(api["title"]): [
                        {"Overview": f"{base}/index.md"},
                        *versions,
                        {"Changelog": f"{base}/changelog.md"},
                    ]
                }
            )
        agencies.append({_t(agency["name"]): entries})
    plugin_pages = [{_t(p["name"]): f"plugins/{p['name']}.md"} for p in plugins]
    return [
        {"Catalogue": "index.md"},
        {"Getting started": "getting-started.md"},
        {"Agencies": agencies},
        {"Gateway plugins": [{"Overview": "plugins/index.md"}, *plugin_pages]},
        {"About this portal": [{"Accessibility": "accessibility.md"}, {"Legal notice": "legal.md"}]},
    ]


def mkdocs_config(
    src: Path, site: Path, *, nav_items: list[Any], site_url: str, site_name: str = "Agora developer portal"
) -> str:
    config = {
        "site_name": site_name,
        "site_url": site_url.rstrip("/") + "/",
        "docs_dir": str(src / "docs"),
        "site_dir": str(site),
        "use_directory_urls": True,
        "strict": True,  # a warning fails the build: broken links never reach developers
        "theme": {
            "name": "material",
            "custom_dir": str(src / "overrides"),
            "font": False,  # no Google Fonts: nothing is loaded from a CDN
            "language": "en",
            "features": [
                "navigation.indexes",
                "navigation.path",  # breadcrumbs above each page
                "content.code.copy",
                "content.tabs.link",
                "search.highlight",
            ],
        },
        "plugins": ["search"],
        "markdown_extensions": [
            "tables",
            "admonition",
            "attr_list",
            "pymdownx.details",
            "pymdownx.superfences",
            {"pymdownx.tabbed": {"alternate_style": True}},
            {"pymdownx.highlight": {"use_pygments": True, "guess_lang": False}},
            {"toc": {"permalink": True}},
        ],
        # The identity's colours, the service header and footer shared with the account pages, the
        # search dialog's open state in that header, then the catalogue's and pages' own styles.
        "extra_css": [
            "assets/portal/identity.css",
            "assets/portal/chrome.css",
            "assets/portal/search-open.css",
            "assets/portal/portal.css",
        ],
        "extra_javascript": ["assets/portal/account-state.js", "assets/portal/catalogue.js"],
        "validation": {"links": {"absolute_links": "ignore", "unrecognized_links": "warn"}},
        "nav": nav_items,
    }
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
