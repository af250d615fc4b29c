"""Writes the site source, touching only what changed.

A manifest (`.manifest.json` beside the docs directory) keeps, per file, the hash of its inputs;
a file whose inputs hash the same is neither rendered nor written, so its mtime tells what a rebuild
touched. Files no longer produced are removed.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from devportal.build.assets import file_digest
from devportal.build.pages import SourceFile

__all__ = ["SyncReport", "sync"]


@dataclass(slots=True)
class SyncReport:
    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.written or self.removed)


def _load(manifest: Path) -> dict[str, str]:
    try:
        loaded: dict[str, str] = json.loads(manifest.read_text())
        return loaded
    except (OSError, ValueError):
        return {}


def sync(docs: Path, pages: Iterable[SourceFile], assets: dict[str, Path], manifest: Path) -> SyncReport:
    previous = _load(manifest)
    current: dict[str, str] = {}
    report = SyncReport()
    for page in pages:
        current[page.path] = page.digest
        target = docs / page.path
        if previous.get(page.path) == page.digest and target.exists():
            report.unchanged += 1
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page.render(), encoding="utf-8")
        report.written.append(page.path)
    for site_path, source in assets.items():
        digest = file_digest(source)
        current[site_path] = digest
        target = docs / site_path
        if previous.get(site_path) == digest and target.exists():
            report.unchanged += 1
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        report.written.append(site_path)
    for stale in sorted(set(previous) - set(current)):
        (docs / stale).unlink(missing_ok=True)
        report.removed.append(stale)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps(current, sort_keys=True, indent=0))
    return report
