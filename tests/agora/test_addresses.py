"""registry/addresses.py: the address check publication and the gateway share (issue 14, item 3)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from agora.addresses import (
    allowed_hosts_from_env,
    check_host,
    check_resolved,
    forbidden_reason,
    normalize_host,
)
from agora.errors import InvalidInput
from agora.settings import load_settings
from gateway.settings import GatewaySettings
from plugins.jwt.keys import JwksCache


@pytest.mark.parametrize(
    ("host", "normal"),
    [
        ("127.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("[::1]", "::1"),
        ("[::FFFF:127.0.0.1]", "::ffff:7f00:1"),
        ("API.Example.GOV.", "api.example.gov"),
    ],
)
def test_every_spelling_normalises_to_one(host: str, normal: str) -> None:
    assert normalize_host(host) == normal


@pytest.mark.parametrize(
    "host", ["\uff11\uff12\uff17.0.0.1", "127\u30020\u30020\u30021", "b\u00fccher.de", "a b", ""]
)
def test_non_ascii_and_malformed_hosts_are_refused(host: str) -> None:
    with pytest.raises(InvalidInput):
        normalize_host(host)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("169.254.169.254", "link-local"),
        ("100.100.100.200", "shared"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("192.0.2.1", ""),
        ("fd00::1", "private"),
        ("::ffff:10.0.0.1", "10.0.0.1, private"),
        ("64:ff9b::a9fe:a9fe", "169.254.169.254, link-local"),
        ("64:ff9b:1::1", "local-use NAT64"),
        ("2002:7f00:1::", "127.0.0.1, loopback"),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
    ],
)
def test_forbidden_addresses_say_what_they_are(address: str, kind: str) -> None:
    reason = forbidden_reason(ipaddress.ip_address(address))
    assert reason is not None and kind in reason


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "2606:2800:220:1::1", "64:ff9b::5db8:d822", "::ffff:8.8.8.8"]
)
def test_global_addresses_are_allowed(address: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) is None


def test_check_host_allows_what_the_operator_lists_in_any_spelling() -> None:
    assert check_host("127.1", ["127.0.0.1"]) == "127.0.0.1"
    assert check_host("svc.internal", ["SVC.internal."]) == "svc.internal"
    with pytest.raises(InvalidInput, match="loopback"):
        check_host("localhost", ["127.0.0.1"])
    with pytest.raises(InvalidInput, match="metadata"):
        check_host("metadata.google.internal.")


def test_check_resolved_judges_the_address_a_name_resolved_to() -> None:
    assert check_resolved("api.example.gov", "93.184.216.34") is None
    reason = check_resolved("rebind.example", "127.0.0.1")
    assert reason is not None and "loopback" in reason and "rebind.example" in reason
    assert check_resolved("rebind.example", "::ffff:169.254.169.254") is not None
    assert check_resolved("localhost", "127.0.0.1", ["localhost"]) is None, "the host is listed"
    assert check_resolved("upstreams.lan", "10.0.0.5", ["10.0.0.5"]) is None, "the address is listed"
    assert check_resolved("x.example", "not-an-ip") is not None


def test_the_operators_exceptions_are_read_one_way_by_every_process(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    raw = " 127.0.0.1, ,upstream.internal ,[::1],"
    expected = ("127.0.0.1", "upstream.internal", "[::1]")
    assert allowed_hosts_from_env({"AGORA_ALLOWED_UPSTREAM_HOSTS": raw}) == expected
    assert allowed_hosts_from_env({}) == allowed_hosts_from_env({"AGORA_ALLOWED_UPSTREAM_HOSTS": " , "}) == ()
    monkeypatch.setenv("AGORA_ALLOWED_UPSTREAM_HOSTS", raw)
    monkeypatch.setenv("AGORA_STATE_DIR", str(tmp_path))
    # The registry (publication), the gateway (connect time) and the jwt plugin (key fetches) agree.
    assert allowed_hosts_from_env() == expected
    assert load_settings().allowed_upstream_hosts == expected
    assert GatewaySettings.from_env().allowed_upstream_hosts == expected
    assert JwksCache().allowed_hosts() == expected
