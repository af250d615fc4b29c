"""The row of one access, made in the flusher thread: the pseudonym under the current key, the outcome
of the status, values cut to their columns; and the plugin's reading of the subject and of the caller's
grant through the gateway's PDK."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from gateway.config.model import parse_snapshot
from gateway.engine.http import Request
from gateway.pipeline.context import RequestContext
from gateway.pipeline.headers import TrustedProxies
from gateway.pipeline.pdk import Kong
from gateway.pipeline.plugin_host import apply_schema
from plugins import CTX_JWT_CLAIMS
from plugins.personal_data_log import handler
from plugins.personal_data_log.record import Access, to_row
from plugins.usage_metering.recorder import Recorder
from registry.services.personal_data import validate
from tests.plugins.personal_data_log.conftest import DATA, NIR_A, RING, document

SERVICE = ("benefits", "entitlements", "1.0.0", "benefits/entitlements")
PARTY = ("app-caf", "caf-portal", "CAF", "Housing aid", "public-task", 1825)


def access(status: int = 200, **changes: Any) -> Access:
    fields = {
        "seq": 26, "started_at": 1_767_225_600.5, "ring": RING, "identifier": NIR_A, "service": SERVICE,
        "operation_id": "getEntitlements", "party": PARTY, "categories": ("identity",), "status": status,
    }  # fmt: skip
    return Access(**{**fields, **changes})


def test_the_row_holds_the_pseudonym_never_the_identifier() -> None:
    row = to_row(access(), "abcd")
    assert row["request_id"] == "abcd-1a"
    assert (row["key_id"], row["subject"]) == RING.pseudonym(NIR_A) and row["key_id"] == "t1"
    assert NIR_A not in str(row) and "185057512345678" not in str(row)
    assert row == validate(row, "/") | {"at": row["at"]}  # what the registry's ingest accepts as is


@pytest.mark.parametrize(
    ("status", "stored", "outcome"),
    [(200, 200, "served"), (401, 401, "refused"), (429, 429, "refused"), (502, 502, "failed"),
     (0, 499, "failed")],
)  # fmt: skip
def test_the_outcome_follows_the_status(status: int, stored: int, outcome: str) -> None:
    row = to_row(access(status), "p")
    assert (row["status"], row["outcome"]) == (stored, outcome)


def test_values_fit_their_columns() -> None:
    row = to_row(access(operation_id="x" * 300), "p")
    assert len(row["operation_id"]) == 200
    assert to_row(access(operation_id=None), "p")["operation_id"] is None


class Memory:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        self.rows.extend(rows)

    def close(self) -> None:
        pass


def _kong(consumer: dict[str, Any] | None, **ctx: Any) -> Kong:
    """The gateway's own PDK over a request of the snapshot's first service, as after its answer."""
    service = parse_snapshot(document()).services[0]
    route = next(r for r in service.routes if r.path == "/me")
    request = Request("GET", service.prefix + "/me", "", [(b"x-subject", NIR_A.encode())], peer="127.0.0.1")
    context = RequestContext("rid", request, "127.0.0.1", service=service, route=route, consumer=consumer)
    context.status = 200
    for name, value in ctx.items():
        setattr(context, name, value)
    return Kong(context, request, TrustedProxies())


@pytest.fixture
def recorded(platform: str) -> tuple[Memory, Recorder]:
    store = Memory()
    return store, Recorder(store, flush_interval=3600, batch_size=10**6, max_pending=10**6, to_row=to_row)


def test_a_jwt_claim_subject_is_read_from_the_verified_claims(recorded: tuple[Memory, Recorder]) -> None:
    store, recorder = recorded
    plugin = handler.Plugin(_config({"in": "jwt-claim", "name": "national_id"}))
    plugin.recorder = recorder
    caf = document()["consumers"][0]
    plugin.log(_kong(caf))  # no verified token: nobody to show it to
    plugin.log(_kong(caf, shared={CTX_JWT_CLAIMS: {"sub": "x"}}))  # the claim is absent
    plugin.log(_kong(caf, shared={CTX_JWT_CLAIMS: {"national_id": True}}))  # not an identifier
    plugin.log(_kong(caf, shared={CTX_JWT_CLAIMS: {"national_id": 185057512345678}}))
    plugin.log(_kong(caf, shared={CTX_JWT_CLAIMS: {"national_id": NIR_A}}))
    plugin.log(_kong(None, shared={CTX_JWT_CLAIMS: {"national_id": NIR_A}}))  # no application named
    recorder.close()
    assert [r["subject"] for r in store.rows] == [RING.pseudonym(NIR_A)[1]] * 2


def test_the_grant_is_read_once_per_consumer_object(recorded: tuple[Memory, Recorder]) -> None:
    store, recorder = recorded
    plugin = handler.Plugin(_config({"in": "header", "name": "X-Subject"}))
    plugin.recorder = recorder
    caf = document()["consumers"][0]
    plugin.log(_kong(caf))
    caf["grants"][0]["purpose"] = "changed in place"  # the same object: the snapshot never does this
    plugin.log(_kong(caf))
    reloaded = document()["consumers"][0]  # a new snapshot: a new object, read afresh
    reloaded["grants"][0].update(purpose="Fraud checks", legal_basis="public-task")
    plugin.log(_kong(reloaded))
    plugin.log(_kong(reloaded, sandbox=True))  # a sandbox answer: nobody's data
    recorder.close()
    assert [(r["purpose"], r["legal_basis"], r["retention_days"]) for r in store.rows] == [
        ("Compute housing benefit", "legal-obligation", 1095),
        ("Compute housing benefit", "legal-obligation", 1095),
        ("Fraud checks", "public-task", 1825),
    ]


def _config(subject: dict[str, str]) -> dict[str, Any]:
    return apply_schema(handler.Schema, {"subject": subject, **DATA}, "test")
