"""The 23 government specs in tests/data/specs, published with accept_findings: the portal builds in
under 60 seconds and mkdocs (strict: any warning fails the build) accepts every page."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from devportal.build import build_portal
from registry.services import agencies, apis
from registry.unit_of_work import change, read
from tests.conftest import GOVERNMENT_SPECS


def _publish_all(sessions: sessionmaker[Session]) -> int:
    with (GOVERNMENT_SPECS / "MANIFEST.tsv").open() as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    with change(sessions) as session:
        for row in rows:
            slug = row["provider"].replace(".", "-")
            if not any(a.slug == slug for a in agencies.list_agencies(session)):
                agencies.create_agency(session, slug=slug, name=row["provider"], actor="t")
            path = GOVERNMENT_SPECS / row["file"]
            apis.publish(
                session,
                agency_slug=slug,
                spec=path.read_bytes(),
                filename=path.name,
                upstream=None,
                accept_findings=True,
                actor="t",
            )
    return len(rows)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_all_shared_specs_build_quickly_without_warnings(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    count = _publish_all(sessions)
    assert count == 23
    started = time.perf_counter()
    with read(sessions) as session:
        result = build_portal(
            session, out=tmp_path, gateway_url="http://127.0.0.1:8000", portal_url="http://127.0.0.1:8002"
        )
    elapsed = time.perf_counter() - started
    assert elapsed < 60, f"portal build took {elapsed:.1f}s"
    pages = [p for p in result.site.rglob("index.html") if p.parent.name not in ("search", "changelog")]
    assert len([p for p in pages if len(p.relative_to(result.site).parts) == 4]) == 23  # one per version
    started = time.perf_counter()
    with read(sessions) as session:
        again = build_portal(
            session, out=tmp_path, gateway_url="http://127.0.0.1:8000", portal_url="http://127.0.0.1:8002"
        )
    assert again.sync.written == [] and time.perf_counter() - started < 10
