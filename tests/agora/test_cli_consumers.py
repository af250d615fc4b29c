"""`agora app` and `agora grant` for personal data (issue 16), as real processes: an application's
organisation, and an access request's purpose and legal basis, refused in one line when missing."""

from __future__ import annotations

import json
from pathlib import Path

from tests.agora.test_cli import Agora
from tests.registry.factories import PERSONAL_DATA_SPEC


def test_organisation_purpose_and_legal_basis_from_the_command_line(tmp_path: Path) -> None:
    agora = Agora(tmp_path, f"sqlite:///{tmp_path / 'agora.db'}")  # each process costs a start-up
    spec = tmp_path / "family.yaml"
    spec.write_text(PERSONAL_DATA_SPEC)
    agora("db", "upgrade")
    agora("agency", "create", "civil", "--name", "Civil registry")
    agora("api", "publish", str(spec), "--agency", "civil", "--api", "family", "--access", "restricted")
    agora("plan", "create", "free", "--name", "Free", "--per-day", "1000")
    agora("developer", "create", "dev@example.org")
    long = agora("app", "create", "--developer", "dev@example.org", "--name", "x", "--plan", "free",
                 "--organisation", "o" * 201, code=2)  # fmt: skip
    assert "an organisation name has 200 characters at most (201 given)" in long.stderr
    app_id = agora(
        "app", "create", "--developer", "dev@example.org", "--name", "Housing", "--plan", "free",
        "--organisation", "Acme Housing Ltd",
    ).stdout.strip()  # fmt: skip

    missing = agora("grant", "request", app_id, "civil/family", "--plan", "free", code=2)
    assert missing.stderr.strip() == (
        "error: Family records returns personal data: say for what purpose your application reads it; "
        "choose the legal basis of the access to Family records: one of public-task, legal-obligation"
    )
    unknown = agora("grant", "request", app_id, "civil/family", "--plan", "free",
                    "--purpose", "Housing benefit checks", "--legal-basis", "consent", code=2)  # fmt: skip
    assert "declares no legal basis 'consent': choose one of public-task, legal-obligation" in unknown.stderr
    assert "civil/family" not in agora("grant", "list").stdout  # nothing was stored

    asked = agora("grant", "request", app_id, "civil/family", "--plan", "free",
                  "--purpose", "Housing benefit checks", "--legal-basis", "public-task")  # fmt: skip
    grant_id = asked.stdout.strip()
    listed = agora("grant", "list").stdout
    assert "public-task" in listed and "Housing benefit checks" in listed
    agora("grant", "decide", grant_id, "approved")
    agora("app", "organisation", app_id, "Acme Housing Cooperative")  # an operator's correction

    agora("config", "compile", "-o", str(tmp_path / "snapshot.json"))
    (consumer,) = json.loads((tmp_path / "snapshot.json").read_text())["consumers"]
    assert consumer["organisation"] == "Acme Housing Cooperative"
    assert consumer["grants"] == [
        {
            "api": "civil/family",
            "plan": "free",
            "purpose": "Housing benefit checks",
            "legal_basis": "public-task",
        }
    ]
