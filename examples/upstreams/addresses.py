"""Address lookup of the National Cadastre and Address Office (agency `cadastre`, API `addresses`).

The data set is built in code from three municipalities so every run, test and spec example sees the
same 30 addresses; nothing is downloaded. Spec: `examples/specs/addresses.yaml`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from examples.upstreams import base
from examples.upstreams.params import query_int, query_text
from examples.upstreams.problems import Problem

__all__ = ["ADDRESSES", "MUNICIPALITIES", "Address", "Municipality", "create_app"]


@dataclass(frozen=True, slots=True)
class Municipality:
    code: str
    name: str
    lat: float
    lon: float
    streets: tuple[tuple[str, str], ...]  # (street name, postcode)


@dataclass(frozen=True, slots=True)
class Address:
    id: str
    street: str
    house_number: str
    postcode: str
    municipality: Municipality
    lat: float
    lon: float

    @property
    def label(self) -> str:
        return f"{self.street} {self.house_number}, {self.postcode} {self.municipality.name}"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "street": self.street,
            "house_number": self.house_number,
            "postcode": self.postcode,
            "municipality": {"code": self.municipality.code, "name": self.municipality.name},
            "label": self.label,
            "location": {"lat": self.lat, "lon": self.lon},
        }


MUNICIPALITIES: tuple[Municipality, ...] = (
    Municipality(
        "0101",
        "Northport",
        60.1699,
        24.9384,
        (("Harbour Street", "1011"), ("Lighthouse Road", "1012"), ("Market Square", "1010")),
    ),
    Municipality(
        "0214",
        "Eastvale",
        61.4978,
        23.7610,
        (("Mill Lane", "2140"), ("Orchard Way", "2141"), ("Station Road", "2142")),
    ),
    Municipality(
        "0332",
        "Lindenholm",
        62.8924,
        27.6770,
        (("Linden Avenue", "3320"), ("Church Street", "3321"), ("Lakeshore Drive", "3322")),
    ),
)

# Ten addresses per municipality: the first street of each gets four numbers, the others three.
_NUMBERS_PER_STREET = (4, 3, 3)


def _generate() -> tuple[Address, ...]:
    addresses: list[Address] = []
    for municipality in MUNICIPALITIES:
        for street_index, ((street, postcode), count) in enumerate(
            zip(municipality.streets, _NUMBERS_PER_STREET, strict=True)
        ):
            for k in range(count):
                # One side of each street (odd or even) with gaps that widen street by street, so the
                # numbers read like real plots: 1 3 5 7, 2 6 10, 1 7 13.
                number = 1 + street_index % 2 + 2 * (street_index + 1) * k
                addresses.append(
                    Address(
                        id=f"{municipality.code}-{street_index + 1:02d}-{number:03d}",
                        street=street,
                        house_number=str(number),
                        postcode=postcode,
                        municipality=municipality,
                        lat=round(municipality.lat + 0.0021 * street_index + 0.00013 * number, 6),
                        lon=round(municipality.lon - 0.0017 * street_index + 0.00009 * number, 6),
                    )
                )
    return tuple(addresses)


ADDRESSES: tuple[Address, ...] = _generate()
_BY_ID = {address.id: address for address in ADDRESSES}
_BY_CODE = {municipality.code: municipality for municipality in MUNICIPALITIES}


async def search_addresses(request: Request) -> JSONResponse:
    # Every word of `q` must appear in the label, in any order: "12 harbour" finds "Harbour Street 12".
    words = (query_text(request, "q") or "").lower().split()
    limit = query_int(request, "limit", default=10, minimum=1, maximum=100)
    matches = [a for a in ADDRESSES if all(word in a.label.lower() for word in words)]
    return JSONResponse(
        {"items": [a.as_json() for a in matches[:limit]], "total": len(matches), "limit": limit}
    )


async def get_address(request: Request) -> JSONResponse:
    address_id = request.path_params["address_id"]
    address = _BY_ID.get(address_id)
    if address is None:
        raise Problem(404, f"No address has the id {address_id!r}.")
    return JSONResponse(address.as_json())


async def list_municipalities(request: Request) -> JSONResponse:
    items = [
        {"code": m.code, "name": m.name, "address_count": sum(a.municipality is m for a in ADDRESSES)}
        for m in MUNICIPALITIES
    ]
    return JSONResponse({"items": items})


async def list_streets(request: Request) -> JSONResponse:
    code = request.path_params["code"]
    municipality = _BY_CODE.get(code)
    if municipality is None:
        raise Problem(404, f"No municipality has the code {code!r}.")
    streets = [
        {
            "name": street,
            "postcode": postcode,
            "house_numbers": [
                a.house_number for a in ADDRESSES if a.municipality is municipality and a.street == street
            ],
        }
        for street, postcode in municipality.streets
    ]
    return JSONResponse(
        {"municipality": {"code": municipality.code, "name": municipality.name}, "items": streets}
    )


def create_app() -> Starlette:
    return base.create_app(
        "addresses",
        [
            Route("/addresses", search_addresses, methods=["GET"]),
            Route("/addresses/{address_id}", get_address, methods=["GET"]),
            Route("/municipalities", list_municipalities, methods=["GET"]),
            Route("/municipalities/{code}/streets", list_streets, methods=["GET"]),
        ],
    )
