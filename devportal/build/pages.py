"""The site's source: every Markdown page and file, each with the hash of its inputs and a function
that renders it. `incremental` renders only those whose hash changed since the last build."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devportal.build.operations import operation_view
from devportal.build.render import html_environment, markdown_environment
from devportal.build.specfiles import console_spec, spec_downloads
from devportal.chrome import static_footer, static_header
from devportal.identity import Identity, theme_css

__all__ = ["CODE_DIGEST", "TEMPLATE_VERSION", "SourceFile", "source_files", "theme_files"]

TEMPLATE_VERSION = "1"  # part of every hash: bump it, or change a template, and every page is rebuilt

# The code that turns data into Markdown is an input of every page too: a fix in a sample or in the
# escaping must reach pages whose data did not change.
_RENDERING_CODE = ("escape.py", "operations.py", "render.py", "samples.py", "specfiles.py", "pages.py")
CODE_DIGEST = hashlib.sha256(
    b"".join((Path(__file__).parent / name).read_bytes() for name in _RENDERING_CODE)
).hexdigest()


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: str  # relative to the docs directory, "/"-separated
    digest: str
    render: Callable[[], str]


def _digest(*inputs: Any) -> str:
    blob = json.dumps(
        [TEMPLATE_VERSION, CODE_DIGEST, *inputs], sort_keys=True, default=str, ensure_ascii=False
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def _template_digest(name: str) -> str:
    env = markdown_environment()
    assert env.loader is not None
    source, _, _ = env.loader.get_source(env, name)
    return hashlib.sha256(source.encode()).hexdigest()


def _markdown(path: str, template: str, **context: Any) -> SourceFile:
    def render() -> str:
        return markdown_environment().get_template(template).render(**context)

    return SourceFile(path, _digest(_template_digest(template), context), render)


def _version_files(
    api: dict[str, Any], v: dict[str, Any], gateway_url: str, identity: Identity
) -> Iterator[SourceFile]:
    base = f"{api['agency']}/{api['slug']}/{v['slug']}"
    base_url = gateway_url + v["prefix"]
    keyed = api["access"] != "open"
    inputs = {k: val for k, val in api.items() if k != "versions"}

    def ops() -> list[dict[str, Any]]:
        declared = (v.get("personal_data") or {}).get("operations", {})
        views = [
            operation_view(
                op,
                gateway_url=gateway_url,
                prefix=v["prefix"],
                keyed=keyed,
                personal_data=declared.get(op.get("operation_id")),
            )
            for op in v["normalized"]["operations"]
        ]
        seen: dict[str, int] = {}
        for view in views:  # anchors must be unique on the page
            count = seen.get(view["anchor"], 0)
            seen[view["anchor"]] = count + 1
            if count:
                view["anchor"] += f"-{count + 1}"
        return views

    def render_page() -> str:
        template = markdown_environment().get_template("version.md.j2")
        return template.render(api=api, v=v, ops=ops(), base_url=base_url)

    yield SourceFile(
        f"{base}/index.md", _digest(_template_digest("version.md.j2"), inputs, v, gateway_url), render_page
    )
    spec_inputs = _digest(v["spec_text"], base_url)
    for name, text in _lazy_downloads(v, base_url).items():
        yield SourceFile(f"{base}/{name}", spec_inputs, text)
    yield SourceFile(
        f"{base}/console-openapi.json",
        _digest(v["spec_text"], base_url, keyed),
        lambda: console_spec(v["spec_text"], base_url=base_url, keyed=keyed),
    )
    context = {
        "title": api["title"],
        "version": v["version"],
        "base_url": base_url,
        "keyed": keyed,
        "api_page": f"/{api['agency']}/{api['slug']}/",
        "agency_name": api["agency_name"],
        "header": static_header(identity),
        "footer": static_footer(identity),
    }

    def render_console() -> str:
        return html_environment().get_template("console.html.j2").render(root="../../../", **context)

    yield SourceFile(f"{base}/console.html", _digest("console", context), render_console)


def _lazy_downloads(v: dict[str, Any], base_url: str) -> dict[str, Callable[[], str]]:
    cache: dict[str, str] = {}

    def get(name: str) -> Callable[[], str]:
        def render() -> str:
            if not cache:
                cache.update(spec_downloads(v["spec_text"], base_url))
            return cache[name]

        return render

    return {"openapi.json": get("openapi.json"), "openapi.yaml": get("openapi.yaml")}


MAX_SUMMARY = 240


def _summary(description: str) -> str:
    """The first paragraph of a description, for the catalogue's card (rendered as inline Markdown)."""
    first = description.strip().split("\n\n", 1)[0]
    first = " ".join(first.split())
    return first if len(first) <= MAX_SUMMARY else first[: MAX_SUMMARY - 1].rsplit(" ", 1)[0] + "…"


def source_files(
    catalogue: dict[str, Any], plugins: list[dict[str, Any]], identity: Identity | None = None
) -> Iterator[SourceFile]:
    identity = identity or Identity()
    gateway_url = catalogue["gateway_url"]
    apis = catalogue["apis"]
    summaries = [
        {
            "agency": a["agency"],
            "agency_name": a["agency_name"],
            "slug": a["slug"],
            "title": a["title"],
            "access": a["access"],
            "tags": a["tags"],
            "summary": _summary(a.get("description") or ""),
            "latest": {k: a["latest"][k] for k in ("version", "slug", "status")},
        }
        for a in apis
    ]
    tags = sorted({t for a in apis for t in a["tags"]})
    yield _markdown("index.md", "index.md.j2", apis=summaries, agencies=catalogue["agencies"], tags=tags)
    yield _markdown("getting-started.md", "getting-started.md.j2", gateway_url=gateway_url)
    for agency in catalogue["agencies"]:
        own = [s for s in summaries if s["agency"] == agency["slug"]]
        yield _markdown(f"{agency['slug']}/index.md", "agency.md.j2", agency=agency, apis=own)
    for api in apis:
        light = {**api, "versions": [{k: v[k] for k in _SUMMARY} for v in api["versions"]]}
        yield _markdown(f"{api['agency']}/{api['slug']}/index.md", "api.md.j2", api=light)
        history = {**light, "versions": [{k: v[k] for k in (*_SUMMARY, "changes")} for v in api["versions"]]}
        yield _markdown(f"{api['agency']}/{api['slug']}/changelog.md", "changelog.md.j2", api=history)
        for version in api["versions"]:
            yield from _version_files(api, version, gateway_url, identity)
    yield _markdown("accessibility.md", "accessibility.md.j2", identity=identity)
    yield _markdown("legal.md", "legal.md.j2", identity=identity)
    yield _markdown("plugins/index.md", "plugins.md.j2", plugins=plugins)
    for plugin in plugins:
        yield _markdown(f"plugins/{plugin['name']}.md", "plugin.md.j2", plugin=plugin)


_SUMMARY = ("version", "slug", "status", "published_at", "sunset", "changelog")


def theme_files(identity: Identity) -> list[SourceFile]:
    """The theme overrides, written next to the docs directory (`overrides/`, mkdocs' custom_dir), the
    identity's colours as a stylesheet of the site, and the theme's search-open rules for the toolbar
    inside the service header."""
    from devportal.build.search_css import search_open_css
    from devportal.build.theme import overrides

    def constant(text: str) -> Callable[[], str]:
        return lambda: text

    files = {f"../overrides/{path}": text for path, text in overrides(identity).items()}
    files["assets/portal/identity.css"] = theme_css(identity)
    files["assets/portal/search-open.css"] = search_open_css()
    return [SourceFile(path, _digest(text), constant(text)) for path, text in files.items()]
