"""The `http` backend against the real admin API process: stored once, bad tokens retried, bad
batches dropped."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from plugins.usage_metering.backends.http import HttpStore, IngestRefused
from plugins.usage_metering.record import Usage, to_row
from tests.plugins.helpers import count_records, records

if TYPE_CHECKING:
    from tests.plugins.usage_metering.conftest import AdminApi

pytestmark = pytest.mark.integration


def rows(prefix: str, count: int) -> list[dict[str, object]]:
    fields = ("gov", "api", "1.0.0", "op", "app", "cred", 201, 2.0, 1.0, 5, 6, "198.51.100.7")
    return [to_row(Usage(seq, 1_700_000_000.0, *fields), prefix) for seq in range(count)]


def test_batches_are_stored_once(admin_api: AdminApi) -> None:
    store = HttpStore(admin_api.ingest, admin_api.token)
    batch = rows("http-a", 50)
    store.write(batch)
    store.write(batch)
    store.close()
    stored = [r for r in records(admin_api.database_url) if r.request_id.startswith("http-a-")]
    assert len(stored) == 50
    assert stored[0].status == 201 and stored[0].client_ip == "198.51.100.0/24"


@pytest.mark.parametrize("token", ["", "agoradm_00000000_nope", "ops"])
def test_refused_tokens_raise_so_the_batch_is_retried(admin_api: AdminApi, token: str) -> None:
    before = count_records(admin_api.database_url)
    store = HttpStore(admin_api.ingest, admin_api.ops_token if token == "ops" else token)
    with pytest.raises(IngestRefused, match=r"40[13]"):
        store.write(rows("http-b", 3))
    store.close()
    assert count_records(admin_api.database_url) == before


def test_a_batch_the_endpoint_cannot_accept_is_dropped_not_retried(admin_api: AdminApi) -> None:
    store = HttpStore(admin_api.ingest, admin_api.token)
    bad = rows("http-c", 2)
    bad[1]["status"] = 42
    store.write(bad)  # logged and returns: retrying would never succeed
    store.close()
    assert not [r for r in records(admin_api.database_url) if r.request_id.startswith("http-c-")]


def test_an_unreachable_endpoint_raises(admin_api: AdminApi) -> None:
    store = HttpStore("http://127.0.0.1:9/admin/usage/ingest", admin_api.token, timeout=2)
    with pytest.raises(Exception, match="onnect"):
        store.write(rows("http-d", 1))
    store.close()
