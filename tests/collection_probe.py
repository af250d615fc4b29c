"""A pytest plugin for tests/test_self_contained.py: loaded with `-p tests.collection_probe` into a
collection run in a copy of the repository, it writes what the run touched to the JSON file named by
$AGORA_COLLECTION_REPORT.

It records the rootdir, each collected test's file, collection errors, the files of the modules imported
and every path opened or listed (an audit hook), leaving out the interpreter's own trees (the venv, the
standard library): the test decides which of them escape the copy.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

REPORT_ENV = "AGORA_COLLECTION_REPORT"
_INTERPRETER = tuple({str(Path(p).resolve()) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)})
_touched: set[str] = set()
_errors: list[str] = []


def _outside_interpreter(path: str) -> bool:
    return not any(path == root or path.startswith(root + os.sep) for root in _INTERPRETER)


def _audit(event: str, args: tuple[Any, ...]) -> None:
    # `open` is also raised for file descriptors; only names tell where a read went.
    named = bool(args) and isinstance(args[0], str | bytes | os.PathLike)
    if event in ("open", "os.listdir", "os.scandir") and named:
        path = os.path.abspath(os.fsdecode(args[0]))
        if _outside_interpreter(path):
            _touched.add(path)


def pytest_configure(config: pytest.Config) -> None:
    sys.addaudithook(_audit)  # cannot be removed: the process ends with the collection


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _errors.append(f"{report.nodeid}: {report.longreprtext.strip().splitlines()[-1:]}")


def pytest_collection_finish(session: pytest.Session) -> None:
    modules = {
        name: str(Path(file).resolve())
        for name, module in list(sys.modules.items())
        if (file := getattr(module, "__file__", None)) and _outside_interpreter(str(Path(file).resolve()))
    }
    report = {
        "rootdir": str(session.config.rootpath.resolve()),
        "items": sorted({str(item.path.resolve()) for item in session.items}),
        "count": len(session.items),
        "errors": _errors,
        "modules": modules,
        "touched": sorted(_touched),
    }
    Path(os.environ[REPORT_ENV]).write_text(json.dumps(report, indent=1))
