"""Which versions the gateway serves: the newest non-draft of each major, unless retired."""

from __future__ import annotations

from registry.models import ApiVersion, VersionStatus
from registry.versions import newest_by_major, served_versions

D, P, X, R = VersionStatus.DRAFT, VersionStatus.PUBLISHED, VersionStatus.DEPRECATED, VersionStatus.RETIRED


def _rows(*versions: tuple[str, VersionStatus]) -> list[ApiVersion]:
    return [ApiVersion(version=v, major=int(v.split(".")[0]), status=s) for v, s in versions]


def test_the_newest_non_draft_of_each_major_is_routed_retired_or_not() -> None:
    rows = _rows(("1.2.0", P), ("1.10.0", X), ("1.11.0", D), ("2.0.0", R), ("3.0.0-beta.1", D))
    newest = newest_by_major(rows)
    # 1.10.0 is newer than 1.2.0 as semver (not as text); a draft is routed for nobody.
    assert {m: r.version for m, r in newest.items()} == {1: "1.10.0", 2: "2.0.0"}


def test_served_versions_drop_retired_majors_and_come_newest_first() -> None:
    rows = _rows(("1.0.0", P), ("2.0.0", P), ("2.1.0", R), ("3.0.0", X), ("4.0.0", D))
    # Major 2's newest is retired: the gateway answers 410 for it, even though 2.0.0 is still published.
    assert [r.version for r in served_versions(rows)] == ["3.0.0", "1.0.0"]
    assert served_versions(_rows(("1.0.0", D), ("2.0.0", R))) == []
    assert served_versions([]) == []


def test_a_prerelease_is_older_than_its_release() -> None:
    rows = _rows(("2.0.0", P), ("2.0.0-rc.1", P))
    assert [r.version for r in served_versions(rows)] == ["2.0.0"]
