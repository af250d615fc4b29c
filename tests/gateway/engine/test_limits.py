"""Limits: defaults, validation, and AGORA_HTTP_* from the environment."""

from __future__ import annotations

import pytest

from gateway.engine.limits import ENV, Limits


def test_defaults() -> None:
    limits = Limits()
    assert (limits.head_timeout, limits.body_timeout, limits.keepalive_timeout) == (10.0, 30.0, 75.0)
    assert limits.send_timeout == 60.0
    assert (limits.max_requests, limits.max_url_bytes, limits.max_header_bytes, limits.max_headers) == (
        1000,
        8192,
        32768,
        100,
    )
    assert limits.tick == 1.0


@pytest.mark.parametrize(
    "given",
    [
        {"head_timeout": 0},
        {"body_timeout": -1},
        {"max_headers": 1.5},
        {"max_requests": True},
        {"max_url_bytes": "8"},
    ],
)
def test_invalid_values_are_refused(given: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="must be a"):
        Limits(**given)  # type: ignore[arg-type]


def test_from_env_reads_every_variable() -> None:
    environ = {
        "AGORA_HTTP_HEAD_TIMEOUT": "2.5",
        "AGORA_HTTP_BODY_TIMEOUT": "4",
        "AGORA_HTTP_KEEPALIVE_TIMEOUT": "6",
        "AGORA_HTTP_SEND_TIMEOUT": "8",
        "AGORA_HTTP_MAX_REQUESTS": "7",
        "AGORA_HTTP_MAX_URL_BYTES": "100",
        "AGORA_HTTP_MAX_HEADER_BYTES": "200",
        "AGORA_HTTP_MAX_HEADERS": "9",
    }
    assert set(environ) == set(ENV.values())
    assert Limits.from_env(environ) == Limits(
        head_timeout=2.5,
        body_timeout=4,
        keepalive_timeout=6,
        send_timeout=8,
        max_requests=7,
        max_url_bytes=100,
        max_header_bytes=200,
        max_headers=9,
    )
    assert Limits.from_env(environ).tick == 0.5


def test_from_env_ignores_unset_and_empty() -> None:
    assert Limits.from_env({"AGORA_HTTP_MAX_HEADERS": " "}) == Limits()


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("AGORA_HTTP_MAX_HEADERS", "ten"),
        ("AGORA_HTTP_MAX_HEADERS", "1.5"),
        ("AGORA_HTTP_HEAD_TIMEOUT", "0"),
        ("AGORA_HTTP_BODY_TIMEOUT", "nan"),
        ("AGORA_HTTP_KEEPALIVE_TIMEOUT", "inf"),
    ],
)
def test_from_env_names_the_bad_variable(name: str, raw: str) -> None:
    with pytest.raises(ValueError, match=f"^{name} must be a positive number, not '{raw}'$"):
        Limits.from_env({name: raw})
