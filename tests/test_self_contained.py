"""A clone alone is enough: the suite's collection, run in a copy of the repository's files in a folder
with nothing beside it, has no error, imports the copy's own modules and reads nothing outside the copy.

Collection only, so it stays fast; it catches module-level reads of a sibling folder (what
`../shared/specs` was) and paths that climb out of the repository. The copy holds what `git ls-files`
lists plus new files not yet committed (not ignored ones): the working tree a commit would carry.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.collection_probe import REPORT_ENV
from tests.conftest import REPO

# Where the interpreter itself may look while collecting: the system, not the project.
SYSTEM = ("/proc/", "/sys/", "/dev/", "/etc/", "/usr/")
# No cache written into the copy; the probe reports what the collection touched.
PLUGINS = ("-p", "no:cacheprovider", "-p", "tests.collection_probe")


def _repository_files() -> list[str]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO,
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        pytest.skip(f"not a git checkout, so no list of the repository's files: {error}")
    return [name for name in os.fsdecode(listed).split("\0") if name and (REPO / name).is_file()]


def _alone_copy(tmp_path: Path) -> Path:
    # The copy's parent holds nothing else: `<copy>/../anything` does not exist.
    copy = tmp_path / "alone" / "agora"
    for name in _repository_files():
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target, follow_symlinks=False)
    return copy


def _inside(path: str, folder: Path) -> bool:
    return Path(path).is_relative_to(folder)


def test_collection_from_a_copy_with_nothing_beside_it(tmp_path: Path) -> None:
    copy = _alone_copy(tmp_path)
    report_path = tmp_path / "collection.json"
    # This interpreter: the venv, where agora is installed editable from REPO. The copy's own packages must
    # win, through pytest's `pythonpath = ["."]`, over the editable finder that points back at REPO.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "PYTHONPATH"))}
    env |= {REPORT_ENV: str(report_path), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", *PLUGINS],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(report_path.read_text())

    assert report["errors"] == []
    assert Path(report["rootdir"]) == copy.resolve()
    assert report["count"] > 1000, "the whole suite is collected"
    root = copy.resolve()
    assert [item for item in report["items"] if not _inside(item, root)] == []
    elsewhere = {name: file for name, file in report["modules"].items() if not _inside(file, root)}
    assert elsewhere == {}, "the copy's modules, not the checkout's, are imported"
    escaped = [
        path
        for path in report["touched"]
        if not _inside(path, root) and not path.startswith(SYSTEM) and path != str(report_path)
    ]
    assert escaped == [], "collection read outside the repository"
