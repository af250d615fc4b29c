"""Verification links are signed, bound to the account, and expire."""

from __future__ import annotations

import pytest

from agora.errors import InvalidInput
from devportal.web.verification import check_token, make_token


def test_round_trip_and_tampering() -> None:
    token = make_token("secret", 7, "a@example.org")
    assert check_token("secret", token) == (7, "a@example.org")
    with pytest.raises(InvalidInput, match="not valid"):
        check_token("other secret", token)


def test_expired_link() -> None:
    token = make_token("secret", 7, "a@example.org")
    with pytest.raises(InvalidInput, match="expired"):
        check_token("secret", token, max_age=-1)
