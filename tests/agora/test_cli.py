"""The `agora` command, run as a real process against a real database: one clear line on errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import GOVERNMENT_SPECS, REPO
from tests.registry.factories import personal_data_spec

VALID = GOVERNMENT_SPECS / "dwd.de__warnwetter__1.2.0.yaml"
INVALID = GOVERNMENT_SPECS / "impactco2.fr__impactco2__1.0.0.json"


class Agora:
    def __init__(self, tmp_path: Path, database_url: str) -> None:
        self.env = {
            **os.environ,
            "AGORA_DATABASE_URL": database_url,
            "AGORA_STATE_DIR": str(tmp_path / "state"),
            "COLUMNS": "200",
            # The code of this checkout, whichever one the environment's editable install points at.
            "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p),
        }
        self.cwd = tmp_path

    def __call__(self, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "agora", *args],
            env=self.env,
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == code, (args, done.stdout, done.stderr)
        if code:
            lines = done.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
        return done


@pytest.fixture
def agora(tmp_path: Path) -> Agora:
    """The CLI on a fresh SQLite file (start-up cost makes every process count; the next test also runs
    on PostgreSQL)."""
    return Agora(tmp_path, f"sqlite:///{tmp_path / 'agora.db'}")


def test_publish_lifecycle_and_compile_from_the_command_line(tmp_path: Path, database_url: str) -> None:
    agora = Agora(tmp_path, database_url)
    agora("db", "upgrade")
    agora("agency", "create", "dwd", "--name", "Deutscher Wetterdienst", "--contact", "api@dwd.example")
    assert "Deutscher Wetterdienst" in agora("agency", "list").stdout
    out = agora(
        "api",
        "publish",
        str(VALID),
        "--agency",
        "dwd",
        "--api",
        "warnwetter",
        "--upstream",
        "https://warnwetter.example.gov",
        "--access",
        "open",
    ).stdout
    assert "dwd/warnwetter 1.2.0 published (11 operations)" in out
    shown = json.loads(agora("api", "show", "dwd/warnwetter").stdout)
    assert shown["access_level"] == "open" and shown["versions"][0]["version"] == "1.2.0"
    agora("api", "deprecate", "dwd/warnwetter", "1.2.0", "--sunset", "2999-12-31")
    agora("plan", "create", "gold", "--name", "Gold", "--per-second", "10", "--per-day", "1000", "--approval")
    listed = agora("plan", "list").stdout
    assert "gold" in listed and "approval" in listed

    first = agora("config", "compile", "-o", str(tmp_path / "a.json"))
    second = agora("config", "compile", "-o", str(tmp_path / "b.json"))
    assert "(unchanged)" in second.stderr
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    snapshot = json.loads((tmp_path / "a.json").read_text())
    assert snapshot["id"] in first.stderr
    (service,) = snapshot["services"]
    assert service["prefix"] == "/dwd/warnwetter/v1" and service["status"] == "deprecated"
    assert service["sunset"] == "2999-12-31"

    kong = yaml.safe_load(agora("export", "kong").stdout)
    assert kong["_format_version"] == "3.0"
    assert [s["name"] for s in kong["services"]] == ["dwd.warnwetter.v1"]
    assert len(kong["services"][0]["routes"]) == 11
    # Written to a file: Kong's plugin environment lands beside it, naming exactly what the file uses.
    agora("export", "kong", "-o", str(tmp_path / "kong.yaml"), "--python-plugins")
    assert yaml.safe_load((tmp_path / "kong.yaml").read_text()) != kong
    env = (tmp_path / "kong.env").read_text()
    assert env.splitlines()[1] == "KONG_PLUGINS='bundled,agora-rate-limiting'"  # an open API: no key-auth

    agora("api", "retire", "dwd/warnwetter", "1.2.0")
    agora("api", "retire", "dwd/warnwetter", "1.2.0", code=6)  # already retired


def test_invalid_spec_is_refused_in_one_line_and_can_be_accepted(agora: Agora) -> None:
    agora("db", "upgrade")
    agora("agency", "create", "impactco2", "--name", "ADEME")
    refused = agora("api", "publish", str(INVALID), "--agency", "impactco2", code=3)
    assert "10 findings" in refused.stderr and "agora api check" in refused.stderr
    listed = agora("api", "check", str(INVALID), code=3)
    assert "/paths/~1chauffage/get/parameters/2: Unevaluated properties" in listed.stdout
    assert len(listed.stdout.strip().splitlines()) == 10
    assert "no findings" in agora("api", "check", str(VALID)).stdout
    assert "dwd" not in agora("api", "list").stdout and "impact" not in agora("api", "list").stdout.lower()
    accepted = agora("api", "publish", str(INVALID), "--agency", "impactco2", "--accept-findings").stdout
    assert "finding /paths/~1chauffage/get/parameters/2" in accepted


def test_errors_are_one_line_with_an_exit_code(agora: Agora, tmp_path: Path) -> None:
    agora("db", "upgrade")
    agora("agency", "create", "Bad Slug", "--name", "x", code=2)
    agora("api", "publish", str(VALID), "--agency", "nobody", code=5)
    agora("api", "publish", str(tmp_path / "missing.yaml"), "--agency", "nobody", code=2)
    broken = tmp_path / "broken.yaml"
    broken.write_text("openapi: 3.0.0\ninfo: [unclosed\n")
    agora("agency", "create", "a", "--name", "A")
    assert "line 3" in agora("api", "publish", str(broken), "--agency", "a", code=3).stderr
    agora("api", "show", "a", code=2)
    agora("agency", "create", code=2)


def test_personal_data_declarations_are_checked_and_keep_the_api_restricted(
    agora: Agora, tmp_path: Path
) -> None:
    agora("db", "upgrade")
    agora("agency", "create", "benefits", "--name", "Benefits")
    wrong, right = tmp_path / "wrong.json", tmp_path / "right.json"
    wrong.write_text(personal_data_spec(subject="person"))
    right.write_text(personal_data_spec())
    pointer = "/paths/~1people~1{nir}/get/x-agora-personal-data/subject/name"
    listed = agora("api", "check", str(wrong), code=3)
    assert listed.stdout.splitlines() == [f"{pointer}: GET /people/{{nir}} has no path parameter 'person'"]
    refused = agora("api", "publish", str(wrong), "--agency", "benefits", "--accept-findings", code=3)
    assert f"spec refused by platform policy: {pointer}" in refused.stderr
    keyed = agora("api", "publish", str(right), "--agency", "benefits", "--access", "key", code=2)
    assert "may only have access level 'restricted', not 'key'" in keyed.stderr
    agora("api", "publish", str(right), "--agency", "benefits")
    assert "benefits/entitlements" in agora("api", "list").stdout
    assert json.loads(agora("api", "show", "benefits/entitlements").stdout)["access_level"] == "restricted"
