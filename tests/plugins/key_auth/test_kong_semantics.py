"""key-auth where Kong 3.9's key-auth (kong/plugins/key-auth/handler.lua) defines the behaviour:
hide_credentials clears the header and the query argument of the name the key was found under, and
`anonymous` (Kong's "logical OR") leaves alone a request another plugin authenticated."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from gateway.pipeline.plugin_host import apply_schema
from plugins.key_auth import handler
from tests.plugins.fake_kong import Answered, FakeKong
from tests.plugins.helpers import HMAC_HEX, consumer, credential


@pytest.fixture(autouse=True)
def platform_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGORA_HMAC_KEY", HMAC_HEX)


def plugin(**config: Any) -> handler.Plugin:
    return handler.Plugin(apply_schema(handler.Schema, config, "key-auth"))


def run(kong: FakeKong, **config: Any) -> None:
    asyncio.run(plugin(**config).access(kong))


def keyed() -> tuple[str, dict[str, tuple[dict[str, Any], dict[str, Any]]], dict[str, Any]]:
    key, entry = credential("cred-acme")
    app = consumer("app-acme", "acme", [entry])
    return key, {entry["prefix"]: (app, entry)}, app


def test_hide_credentials_clears_the_header_and_the_query_argument_of_that_name() -> None:
    key, found, app = keyed()
    # The key in the header; a stale copy of the same name in the query goes too, as in Kong.
    kong = FakeKong(headers={"apikey": key}, query="apikey=old&lang=en%20GB&apikey=x", credentials=found)
    run(kong, key_names=["apikey"], hide_credentials=True, key_in_query=False)
    assert kong.consumer == app
    assert "apikey" not in kong.upstream_headers
    assert kong.upstream_query == "lang=en%20GB"  # the other arguments exactly as sent
    # The key in the query; a header of the same name is cleared too.
    kong = FakeKong(headers={"apikey": "ignored"}, query=f"apikey={key}&page=2", credentials=found)
    run(kong, key_names=["apikey"], hide_credentials=True, key_in_header=False)
    assert kong.consumer == app and "apikey" not in kong.upstream_headers and kong.upstream_query == "page=2"


def test_without_hide_credentials_nothing_is_removed() -> None:
    key, found, _ = keyed()
    kong = FakeKong(headers={"apikey": key}, query="apikey=other", credentials=found)
    run(kong, key_names=["apikey"])
    assert kong.upstream_headers["apikey"] == key and kong.upstream_query == "apikey=other"


def test_anonymous_does_not_replace_a_consumer_another_plugin_authenticated() -> None:
    guest = consumer("app-guest", "guest", [])
    jwt_app, jwt_credential = consumer("app-jwt", "jwt-app", []), {"id": "jwt-cred"}
    kong = FakeKong(headers={"apikey": "wrong"}, consumers=[guest])
    kong.client.authenticate(jwt_app, jwt_credential)  # e.g. jwt (priority 1450) ran first
    run(kong, key_names=["apikey"], anonymous="guest")
    assert (kong.consumer, kong.credential) == (jwt_app, jwt_credential)
    # Nobody authenticated: the anonymous consumer, as before.
    kong = FakeKong(headers={"apikey": "wrong"}, consumers=[guest])
    run(kong, key_names=["apikey"], anonymous="guest")
    assert (kong.consumer, kong.credential) == (guest, None)


def test_without_anonymous_a_failed_key_is_refused_whoever_ran_before() -> None:
    kong = FakeKong(headers={"apikey": "wrong"})
    kong.client.authenticate(consumer("app-jwt", "jwt-app", []), {"id": "jwt-cred"})
    with pytest.raises(Answered) as answered:
        run(kong, key_names=["apikey"])  # Kong's "logical AND"
    assert answered.value.status == 401
