"""Finding the grant that lets an application call an API."""

from __future__ import annotations

from plugins.access_control.grants import find_grant


def test_find_grant_by_agency_and_api() -> None:
    app = {"grants": [{"api": "cadastre/addresses", "plan": "gold"}, {"api": "meteo/warnings", "plan": "p"}]}
    assert find_grant(app, "meteo", "warnings") == {"api": "meteo/warnings", "plan": "p"}
    assert find_grant(app, "meteo", "addresses") is None
    assert find_grant(app, "cadastre", "warnings") is None
    assert find_grant({"grants": []}, "meteo", "warnings") is None
    assert find_grant({}, "meteo", "warnings") is None
    assert find_grant(None, "meteo", "warnings") is None
