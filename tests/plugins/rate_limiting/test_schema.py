"""rate-limiting's config: every field documented with a type and a default, the registry's configs
accepted as emitted, bad configs refused when the snapshot is loaded, the policy chosen by the
deployment when unset."""

from __future__ import annotations

from typing import Any

import pytest

from agora.errors import InvalidInput
from gateway.config.model import PluginConfig
from gateway.pipeline.plugin_host import PluginRegistry
from plugins.rate_limiting import handler
from plugins.rate_limiting.policies.local import LOCAL
from plugins.rate_limiting.policies.redis import RedisPolicy
from registry.compile.plugins import OPEN_LIMITS, service_plugins
from registry.models import AccessLevel


def instantiate(config: dict[str, Any]) -> Any:
    registry = PluginRegistry()
    registry.register("rate-limiting", handler)
    return registry.instantiate(PluginConfig("rate-limiting", config), "test").instance


def test_every_field_has_a_type_a_default_and_a_description() -> None:
    for entry in handler.Schema:
        for field, rules in entry.items():
            assert {"type", "default", "description"} <= set(rules), field
            assert len(rules["description"]) > 20, field
    assert (handler.priority, handler.version) == (910, "1.0.0")


@pytest.mark.parametrize("level", list(AccessLevel))
def test_the_registry_s_configs_are_accepted(level: AccessLevel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AGORA_REDIS_URL", raising=False)
    (entry,) = [p for p in service_plugins(level, {}) if p["name"] == "rate-limiting"]
    plugin = instantiate(entry["config"])
    assert plugin.policy is LOCAL
    if level is AccessLevel.OPEN:
        assert plugin.limit_by == "ip"
        assert plugin.explicit == {k: v for k, v in OPEN_LIMITS.items() if v is not None}
    else:
        assert plugin.limit_by == "consumer" and plugin.explicit == {}  # the plan decides


def test_period_fields_win_over_the_limits_map() -> None:
    plugin = instantiate({"minute": 5, "limits": {"minute": 50, "day": 1000, "hour": None}})
    assert plugin.explicit == {"minute": 5, "day": 1000}


def test_the_policy_follows_the_deployment_when_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGORA_REDIS_URL", "redis://127.0.0.1:6379/0")
    assert isinstance(instantiate({}).policy, RedisPolicy)
    assert instantiate({"policy": "local"}).policy is LOCAL
    monkeypatch.delenv("AGORA_REDIS_URL")
    assert instantiate({}).policy is LOCAL
    chosen = instantiate({"redis_url": "redis://127.0.0.1:6380/1", "redis_timeout": 250}).policy
    assert isinstance(chosen, RedisPolicy) and (chosen.url, chosen.timeout) == (
        "redis://127.0.0.1:6380/1",
        0.25,
    )
    with pytest.raises(InvalidInput, match="redis_url or AGORA_REDIS_URL"):
        instantiate({"policy": "redis"})


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"minute": 0}, "minute limit must be a positive integer"),
        ({"limits": {"hour": -1}}, "hour limit"),
        ({"limits": {"hour": True}}, "hour limit"),
        ({"limits": {"year": 10}}, "unknown period"),
        ({"minute": 1.5}, "must be of type integer"),
        ({"limit_by": "header"}, "needs header_name"),
        ({"limit_by": "path"}, "needs path"),
        ({"limit_by": "cookie"}, "must be one of"),
        ({"window": "rolling"}, "must be one of"),
        ({"policy": "cluster"}, "must be one of"),
        ({"error_code": 200}, "4xx or 5xx"),
        ({"redis_timeout": 0}, "redis_timeout"),
        ({"sync_rate": 1}, "unknown field"),
    ],
)
def test_bad_configs_are_refused(
    config: dict[str, Any], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AGORA_REDIS_URL", raising=False)
    with pytest.raises(InvalidInput, match=message):
        instantiate(config)
