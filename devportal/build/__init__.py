"""`agora portal build`: the registry rendered as a static mkdocs-material site.

catalog.load_catalogue(session)     registry -> plain data (agencies, APIs, versions, plans, status)
pages.source_files(...)             data -> Markdown pages and files, each with its inputs' hash
incremental.sync(...)               writes only the files whose hash changed
site_config.mkdocs_config(...)      the generated mkdocs.yml
mkdocs build (in-process, strict)   -> a staging directory, swapped in when it succeeded
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config
from mkdocs.exceptions import MkDocsException
from sqlalchemy.orm import Session

from agora.errors import AgoraError
from devportal.build.assets import asset_files
from devportal.build.catalog import load_catalogue
from devportal.build.csp import write_hashes
from devportal.build.incremental import SyncReport, sync
from devportal.build.pages import source_files, theme_files
from devportal.build.plugin_docs import describe_plugins
from devportal.build.site_config import mkdocs_config, nav
from devportal.identity import load_identity

__all__ = ["BuildFailed", "BuildResult", "build_portal"]


class BuildFailed(AgoraError):
    slug, title = "portal-build-failed", "The portal could not be built"


@dataclass(frozen=True, slots=True)
class BuildResult:
    sync: SyncReport
    site: Path
    html_rebuilt: bool
    seconds: float


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _run_mkdocs(config_file: Path, site: Path) -> None:
    staging = site.with_name(site.name + ".next")
    shutil.rmtree(staging, ignore_errors=True)
    collect = _Collect()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(collect)
    try:
        config = load_config(config_file=str(config_file), site_dir=str(staging))
        mkdocs_build(config)
    except (MkDocsException, SystemExit) as exc:
        detail = "; ".join(collect.messages[:5]) or str(exc)
        raise BuildFailed(f"mkdocs refused the generated site: {detail}") from exc
    finally:
        logger.removeHandler(collect)
    write_hashes(staging)
    # Swap in whole: the server keeps serving the previous site until the new one is complete.
    old = site.with_name(site.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if site.exists():
        site.rename(old)
    staging.rename(site)
    shutil.rmtree(old, ignore_errors=True)


def build_portal(
    session: Session,
    *,
    out: Path,
    gateway_url: str,
    portal_url: str,
    plugins_package: str = "plugins",
    force: bool = False,
) -> BuildResult:
    started = time.perf_counter()
    src, site = out / "src", out / "site"
    catalogue = load_catalogue(session, gateway_url=gateway_url)
    plugins = describe_plugins(plugins_package)
    identity = load_identity()
    files = [*source_files(catalogue, plugins, identity), *theme_files(identity)]
    report = sync(src / "docs", files, asset_files(), src / ".manifest.json")
    config_file = src / "mkdocs.yml"
    config_text = mkdocs_config(
        src, site, nav_items=nav(catalogue, plugins), site_url=portal_url, site_name=identity.name
    )
    config_changed = not config_file.exists() or config_file.read_text() != config_text
    if config_changed:
        config_file.write_text(config_text)
    rebuild = force or report.changed or config_changed or not site.exists()
    if rebuild:
        _run_mkdocs(config_file, site)
    return BuildResult(report, site, rebuild, time.perf_counter() - started)
