"""registry/services/personal_data_labels.py `basis_label`: how every page names a legal basis (the
console's pending requests, the citizen's and the agency's access lists)."""

from __future__ import annotations

from registry.services.personal_data_labels import VersionLabels, basis_label


def test_a_legal_basis_is_named_by_its_title_then_its_id() -> None:
    assert basis_label("public-task", "Public task") == "Public task (public-task)"
    assert (
        basis_label("consent", None) == "consent"
    )  # no version declares it now: the id it was recorded with
    assert basis_label("consent", "") == "consent"
    labels = VersionLabels("Benefits office", "Entitlements", legal_bases={"public-task": "Public task"})
    assert labels.legal_basis("public-task") == basis_label("public-task", "Public task")
    assert labels.legal_basis("consent") == "consent"
