"""`agora api publish` refusing hostile specs in one line with exit 3, and bad versions naming the flag
(issue 14, items 7, 15, 16, 17)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.agora.test_cli import Agora


def _cli(tmp_path: Path) -> Agora:
    agora = Agora(tmp_path, f"sqlite:///{tmp_path / 'agora.db'}")
    agora("db", "upgrade")
    agora("agency", "create", "dwd", "--name", "DWD")
    return agora


def test_hostile_specs_exit_3_in_one_line(tmp_path: Path) -> None:
    agora = _cli(tmp_path)
    head = "openapi: 3.0.3\ninfo: {title: Probe, version: 1.0.0}\npaths: {}\n"
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(head + "x-s: &s '" + "x" * 100_000 + "'\nx-l: [" + ", ".join(["*s"] * 1000) + "]\n")
    loop = tmp_path / "loop.yaml"
    loop.write_text(head + "x: &a [*a]\n")
    for spec, words in ((bomb, "AGORA_SPEC_MAX_EXPANDED_BYTES"), (loop, "self-referential")):
        done = agora("api", "publish", str(spec), "--agency", "dwd", code=3)
        assert words in done.stderr and "Traceback" not in done.stderr
        done = agora("api", "check", str(spec), code=3)
        assert words in done.stderr


def test_operation_cap_is_a_setting(tmp_path: Path) -> None:
    agora = _cli(tmp_path)
    paths = {f"/p{i}": {"get": {"responses": {"200": {"description": "ok"}}}} for i in range(12)}
    spec = tmp_path / "many.json"
    spec.write_text(
        json.dumps({"openapi": "3.0.3", "info": {"title": "M", "version": "1.0.0"}, "paths": paths})
    )
    agora.env["AGORA_SPEC_MAX_OPERATIONS"] = "10"
    done = agora("api", "publish", str(spec), "--agency", "dwd", code=3)
    assert "12 operations" in done.stderr and "AGORA_SPEC_MAX_OPERATIONS" in done.stderr


def test_a_version_that_is_not_semver_names_the_flag(tmp_path: Path) -> None:
    agora = _cli(tmp_path)
    spec = tmp_path / "ok.json"
    spec.write_text(json.dumps({"openapi": "3.0.3", "info": {"title": "V", "version": "1.0.0"}, "paths": {}}))
    done = agora("api", "publish", str(spec), "--agency", "dwd", "--version", "1.0.0-../../x", code=2)
    assert "--version '1.0.0-../../x' is not semantic versioning" in done.stderr
    assert "dwd/" not in agora("api", "list").stdout, "nothing stored"
