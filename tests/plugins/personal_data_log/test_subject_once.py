"""A subject in the query or a header must be given once, in the real pipeline (in process): an upstream
that finds it twice may read either, so the log could name someone else than the person whose data was
read; one given after the PDK's first 100 query arguments is still found. Routes with the subject in the
path have no access phase, and no route of the plugin takes the fast path."""

from __future__ import annotations

import json

import pytest

from gateway.config.compiled import compile_snapshot
from gateway.engine.inprocess import RecordingResponder
from gateway.pipeline.fast import FastHost, fast_chain
from gateway.pipeline.headers import TrustedProxies
from gateway.pipeline.plugin_host import PluginRegistry
from plugins.personal_data_log.subject import MAX_HEADERS, MAX_QUERY, query_values
from tests.plugins.personal_data_log.conftest import KEY, NIR_A, NIR_B, RING, Gateway, document

QUERY = "/benefits/entitlements/v1/entitlements?"
ME = "/benefits/entitlements/v1/me"
A, B = NIR_A.replace(" ", ""), NIR_B.replace(" ", "")
APIKEY = (b"apikey", KEY.encode())
PADDING = "&".join(f"p{i}=x" for i in range(100))  # the PDK's get_query reads these and stops
ONCE = "the data subject's identifier must be given once: "


def _refused(answer: RecordingResponder, detail: str) -> None:
    assert answer.status == 400
    assert answer.header(b"content-type") == b"application/problem+json"
    problem = json.loads(answer.body)
    assert (problem["status"], problem["detail"]) == (400, ONCE + detail)


@pytest.mark.parametrize(
    "query",
    [
        f"nir={A}&nir={B}",
        f"nir={A}&n%69r={B}",  # the same name, percent-encoded
        f"nir={A}&NIR={B}",  # some frameworks ignore the case of names
        f"nir={A};nir={B}",  # some split on ";" too
        f"nir={A}&{PADDING}&nir={B}",  # the second beyond the PDK's 100 arguments
    ],
)
def test_a_query_subject_given_twice_is_refused_and_logged_refused(gateway: Gateway, query: str) -> None:
    _refused(gateway.call(QUERY + query, [APIKEY]), "query parameter 'nir' appears 2 times")
    assert gateway.upstream.requests == []  # nothing was read
    (row,) = gateway.rows()  # under the first value, as the log phase reads it
    assert (row.status, row.outcome, row.subject) == (400, "refused", RING.pseudonym(NIR_A)[1])


def test_a_query_subject_after_100_arguments_is_served_and_logged(gateway: Gateway) -> None:
    assert gateway.get(f"{QUERY}{PADDING}&nir={A}", apikey=KEY) == 200
    assert gateway.upstream.requests[0].url.endswith(f"&nir={A}")
    (row,) = gateway.rows()
    assert (row.outcome, row.subject) == ("served", RING.pseudonym(NIR_A)[1])


def test_a_query_too_long_to_read_is_refused(gateway: Gateway) -> None:
    answer = gateway.call(f"{QUERY}nir={A}&pad=%20{'x' * MAX_QUERY}", [APIKEY])
    _refused(answer, f"a query string over {MAX_QUERY} bytes is not read for query parameter 'nir'")
    assert gateway.upstream.requests == []
    # The name once, in a query with nothing encoded: given once, whatever the length (nothing to parse).
    assert gateway.get(f"{QUERY}nir={A}&pad={'x' * MAX_QUERY}", apikey=KEY) == 200


@pytest.mark.parametrize(
    "query",
    [
        f"nir={A}",
        "nir=1%2085%2005%2075%20123%20456%2078",  # encoded: read whole
        f"nirvana=1&xnir=2&nir={A}",  # other names containing it
        f"nir={A}&other=1;2",
    ],
)
def test_a_query_subject_given_once_is_served(gateway: Gateway, query: str) -> None:
    assert gateway.get(QUERY + query, apikey=KEY) == 200
    (row,) = gateway.rows()
    assert (row.outcome, row.subject) == ("served", RING.pseudonym(NIR_A)[1])


def test_a_header_subject_given_twice_or_as_a_list_is_refused(gateway: Gateway) -> None:
    twice = [APIKEY, (b"x-subject", A.encode()), (b"x-subject", B.encode())]
    _refused(gateway.call(ME, twice), "header 'X-Subject' appears 2 times")
    listed = [APIKEY, (b"x-subject", f"{A}, {B}".encode())]  # what a recipient may make of two lines
    _refused(gateway.call(ME, listed), "header 'X-Subject' holds a list of values")
    assert gateway.upstream.requests == []
    first, _ = gateway.rows()
    assert (first.status, first.outcome, first.subject) == (400, "refused", RING.pseudonym(NIR_A)[1])


def test_headers_too_many_to_read_are_refused(gateway: Gateway) -> None:
    padded = [APIKEY, (b"x-subject", A.encode()), *[(b"x-pad", b"1")] * (MAX_HEADERS - 2)]
    _refused(
        gateway.call(ME, padded), f"{MAX_HEADERS} header lines or more are not read for header 'X-Subject'"
    )
    assert gateway.call(ME, padded[:-1]).status == 200  # one line less: every line was read
    assert len(gateway.upstream.requests) == 1


def test_the_query_is_read_as_an_upstream_would() -> None:
    assert query_values("a=1&nir=x%2By+z&NiR&n%69r=%26", "nir") == ["x+y z", "", "&"]
    assert query_values("nir=1;nir=2&nirx=3", "nir") == ["1", "2"]
    assert query_values("xnir=1", "nir") == []


def test_only_query_and_header_routes_have_an_access_phase_and_none_takes_the_fast_path(
    platform: str,
) -> None:
    config = compile_snapshot(document(), PluginRegistry.discover("plugins"))
    (built,) = config.snapshot.services
    host = FastHost(TrustedProxies())
    seen = {}
    for route in built.routes:
        chain = config.chains[route]
        logged = next((p for p in chain if p.name == "personal-data-log"), None)
        checks = logged is not None and logged.access is not None
        seen[route.path] = (checks, fast_chain(chain, built, host) is not None)
    assert seen == {
        "/beneficiaries/{nir}/entitlements": (False, False),  # no access phase: nothing to check
        "/entitlements": (True, False),
        "/me": (True, False),
        "/offices": (False, True),  # no personal data: the fast path as before
    }
