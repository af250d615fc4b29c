"""Weather warnings of the Weather Warning Service (agency `meteo`, API `warnings`).

Two endpoints exist for the gateway's streaming tests rather than for weather: `GET /files/{size_mb}`
generates a large download on the fly and `POST /echo` streams the request body straight back.
Spec: `examples/specs/warnings.yaml`.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from examples.upstreams import base
from examples.upstreams.params import path_int, query_choice
from examples.upstreams.problems import Problem

__all__ = ["CHUNK", "LEVELS", "MAX_FILE_MB", "REGIONS", "WARNINGS", "Echo", "WeatherWarning", "create_app"]

LEVELS = ("yellow", "orange", "red")
MAX_FILE_MB = 512
MIB = 1024 * 1024
# Byte i of every download is i % 256, so a client can check any chunk; 64 KiB keeps that pattern
# aligned from chunk to chunk and is a typical proxy buffer size.
CHUNK = bytes(range(256)) * 256

REGIONS: dict[str, str] = {
    "capital": "Capital Region",
    "north-coast": "Northern Coast",
    "lake-district": "Lake District",
    "central-plains": "Central Plains",
    "eastern-hills": "Eastern Hills",
    "south-archipelago": "Southern Archipelago",
}

# Fixed times, not "now": the spec's examples, the sandbox and the tests all see the same warnings.
_ISSUED = datetime.fromisoformat("2025-01-14T06:00:00+00:00")


@dataclass(frozen=True, slots=True)
class WeatherWarning:
    id: str
    region_id: str
    kind: str
    level: str
    headline: str
    onset_hours: int  # after issue time
    duration_hours: int

    def as_json(self) -> dict[str, Any]:
        onset = _ISSUED + timedelta(hours=self.onset_hours)
        return {
            "id": self.id,
            "region_id": self.region_id,
            "kind": self.kind,
            "level": self.level,
            "headline": self.headline,
            "issued_at": _iso(_ISSUED),
            "onset": _iso(onset),
            "expires": _iso(onset + timedelta(hours=self.duration_hours)),
        }


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


_W = WeatherWarning
WARNINGS: tuple[WeatherWarning, ...] = (
    _W("MW-2025-0001", "north-coast", "wind", "orange", "Storm-force gusts up to 28 m/s on the coast", 6, 18),
    _W("MW-2025-0002", "north-coast", "coastal-flood", "yellow", "Sea level up to 90 cm above mean", 12, 12),
    _W("MW-2025-0003", "south-archipelago", "wind", "red", "Hurricane-force gusts on outer islands", 3, 12),
    _W("MW-2025-0004", "south-archipelago", "rain", "yellow", "Heavy rain, 30 mm in 12 hours", 0, 12),
    _W("MW-2025-0005", "lake-district", "snow", "orange", "Heavy snowfall, 25 cm of new snow", 0, 24),
    _W("MW-2025-0006", "eastern-hills", "ice", "yellow", "Freezing rain makes roads very slippery", 2, 10),
    _W("MW-2025-0007", "eastern-hills", "snow", "yellow", "Snow showers and drifting snow", 8, 16),
    _W("MW-2025-0008", "capital", "ice", "yellow", "Slippery pavements in the morning", 0, 6),
    _W("MW-2025-0009", "lake-district", "cold", "orange", "Severe frost, down to -32 degrees", 18, 36),
)  # fmt: skip
_BY_ID = {warning.id: warning for warning in WARNINGS}


async def list_regions(request: Request) -> JSONResponse:
    items = [
        {"id": region_id, "name": name, "warning_count": sum(w.region_id == region_id for w in WARNINGS)}
        for region_id, name in REGIONS.items()
    ]
    return JSONResponse({"items": items})


async def region_warnings(request: Request) -> JSONResponse:
    region_id = request.path_params["region_id"]
    if region_id not in REGIONS:
        raise Problem(404, f"No region has the id {region_id!r}.")
    level = query_choice(request, "level", LEVELS)
    items = [w.as_json() for w in WARNINGS if w.region_id == region_id and level in (None, w.level)]
    return JSONResponse({"region": {"id": region_id, "name": REGIONS[region_id]}, "items": items})


async def get_warning(request: Request) -> JSONResponse:
    warning_id = request.path_params["warning_id"]
    warning = _BY_ID.get(warning_id)
    if warning is None:
        raise Problem(404, f"No warning has the id {warning_id!r}.")
    return JSONResponse(warning.as_json())


async def _generate(total: int) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        chunk = CHUNK[: total - sent]
        sent += len(chunk)
        yield chunk


async def download(request: Request) -> StreamingResponse:
    # Capped rather than refused, like /slow; the bytes received tell the caller what it got.
    size_mb = min(path_int(request, "size_mb", minimum=0), MAX_FILE_MB)
    # No Content-Length: the body goes out with chunked transfer encoding, which is the case a
    # streaming proxy must not buffer.
    return StreamingResponse(_generate(size_mb * MIB), media_type="application/octet-stream")


class Echo:
    """`POST /echo` as a raw ASGI app that sends each request chunk back as it arrives.

    Not a StreamingResponse over `request.stream()`: under ASGI spec < 2.4 (uvicorn's HTTP is 2.3)
    StreamingResponse listens for disconnect on the same `receive`, which would steal body chunks.
    Reading runs in its own task with an unbounded buffer so that a client that uploads everything
    before reading (httpx does) cannot deadlock against a server blocked on sending; a client that
    reads concurrently keeps the buffer near empty.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        content_type = next(
            (v for n, v in scope["headers"] if n == b"content-type"), b"application/octet-stream"
        )
        to_writer, from_reader = anyio.create_memory_object_stream[bytes](max_buffer_size=math.inf)

        async def read_body() -> None:
            async with to_writer:
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return
                    if body := message.get("body", b""):
                        await to_writer.send(body)
                    if not message.get("more_body", False):
                        return

        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", content_type)]}
        )
        async with anyio.create_task_group() as tasks, from_reader:
            tasks.start_soon(read_body)
            async for chunk in from_reader:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def create_app() -> Starlette:
    return base.create_app(
        "warnings",
        [
            Route("/regions", list_regions, methods=["GET"]),
            Route("/regions/{region_id}/warnings", region_warnings, methods=["GET"]),
            Route("/warnings/{warning_id}", get_warning, methods=["GET"]),
            Route("/files/{size_mb}", download, methods=["GET"]),
            Route("/echo", Echo(), methods=["POST"]),
        ],
    )
