"""Family benefits register of the Family Benefits Office (agency `benefits`, API `entitlements`).

The one example API that returns data about a person: a caller with an approved grant reads the
entitlements of a beneficiary named by their NIR (the 15-digit national registration number), which
the spec declares as personal data so the platform records every access for that person to see.
Five demo people, fixed in code so every run, test and spec example sees the same register; the demo
identity federation (`examples/identity/citizens.json`) signs in the same five people.
Spec: `examples/specs/benefits.yaml`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from examples.upstreams import base
from examples.upstreams.params import query_choice
from examples.upstreams.problems import Problem

__all__ = [
    "AS_OF",
    "BENEFICIARIES",
    "BENEFITS",
    "STATUSES",
    "Beneficiary",
    "Benefit",
    "Child",
    "Entitlement",
    "create_app",
    "nir_key",
]

# The register's figures are those of this day, not of "now": the spec's examples, the sandbox and the
# tests all see the same entitlements.
AS_OF = date(2025, 1, 31)
STATUSES = ("active", "ended")
_NIR = re.compile(r"^[12][0-9]{14}$")


def nir_key(first13: str) -> str:
    """The NIR's control key: 97 minus the first 13 digits modulo 97, on two digits."""
    return f"{97 - int(first13) % 97:02d}"


@dataclass(frozen=True, slots=True)
class Benefit:
    id: str
    name: str
    description: str
    frequency: str  # monthly | yearly
    means_tested: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "frequency": self.frequency,
            "means_tested": self.means_tested,
        }


@dataclass(frozen=True, slots=True)
class Child:
    given_name: str
    birth_date: date


@dataclass(frozen=True, slots=True)
class Entitlement:
    benefit_id: str
    amount_eur: float
    start_date: date
    end_date: date | None = None

    @property
    def status(self) -> str:
        return "active" if self.end_date is None or self.end_date >= AS_OF else "ended"

    def as_json(self) -> dict[str, Any]:
        return {
            "benefit": self.benefit_id,
            "amount_eur": self.amount_eur,
            "frequency": _BENEFITS_BY_ID[self.benefit_id].frequency,
            "start_date": self.start_date.isoformat(),
            "end_date": self.end_date.isoformat() if self.end_date else None,
            "status": self.status,
        }


@dataclass(frozen=True, slots=True)
class Beneficiary:
    nir: str
    family_name: str
    given_names: str
    birth_date: date
    situation: str  # single | married | civil-partnership | cohabiting | separated
    children: tuple[Child, ...]
    entitlements: tuple[Entitlement, ...]

    def as_json(self, status: str | None = None) -> dict[str, Any]:
        return {
            "beneficiary": {
                "nir": self.nir,
                "family_name": self.family_name,
                "given_names": self.given_names,
                "birth_date": self.birth_date.isoformat(),
            },
            "household": {
                "situation": self.situation,
                "dependent_children": [
                    {"given_name": c.given_name, "birth_date": c.birth_date.isoformat()}
                    for c in self.children
                ],
            },
            "entitlements": [e.as_json() for e in self.entitlements if status in (None, e.status)],
            "as_of": AS_OF.isoformat(),
        }


BENEFITS: tuple[Benefit, ...] = (
    Benefit("family-allowance", "Family allowance", "Paid from the second dependent child.", "monthly", True),
    Benefit(
        "family-support",
        "Family support allowance",
        "For a child raised by one parent alone.",
        "monthly",
        False,
    ),
    Benefit(
        "young-child", "Young child allowance", "From birth to the child's third birthday.", "monthly", True
    ),
    Benefit(
        "back-to-school", "Back-to-school allowance", "Each August, per child aged 6 to 18.", "yearly", True
    ),
    Benefit("housing-aid", "Housing aid", "Towards the rent of the main home.", "monthly", True),
    Benefit("activity-bonus", "Activity bonus", "For workers on modest earnings.", "monthly", True),
    Benefit(
        "disabled-adult", "Disabled adult allowance", "A minimum income for disabled adults.", "monthly", True
    ),
)
_BENEFITS_BY_ID = {benefit.id: benefit for benefit in BENEFITS}

_d = date.fromisoformat
BENEFICIARIES: tuple[Beneficiary, ...] = (
    Beneficiary(
        "285057505612338", "Dupont", "Marie Claire", _d("1985-05-14"), "married",
        (Child("Lucas", _d("2012-02-03")), Child("Emma", _d("2015-09-21")), Child("Hugo", _d("2019-06-11"))),
        (
            Entitlement("family-allowance", 338.81, _d("2015-10-01")),
            Entitlement("back-to-school", 855.78, _d("2018-08-20")),
        ),
    ),
    Beneficiary(
        "179111305504232", "Benali", "Karim", _d("1979-11-02"), "separated",
        (Child("Yanis", _d("2010-04-17")), Child("Nour", _d("2016-12-05"))),
        (
            Entitlement("family-allowance", 148.52, _d("2017-01-01")),
            Entitlement("family-support", 398.36, _d("2021-03-01")),
            Entitlement("housing-aid", 287.00, _d("2021-03-01")),
        ),
    ),
    Beneficiary(
        "292036912301755", "Martin", "Léa", _d("1992-03-27"), "civil-partnership",
        (Child("Jade", _d("2024-09-08")),),
        (
            Entitlement("young-child", 184.81, _d("2024-10-01")),
            Entitlement("activity-bonus", 96.20, _d("2023-05-01"), _d("2024-08-31")),
        ),
    ),
    Beneficiary(
        "158073306320158", "Moreau", "Jean", _d("1958-07-09"), "single",
        (),
        (
            Entitlement("disabled-adult", 1016.05, _d("2009-02-01")),
            Entitlement("housing-aid", 215.40, _d("2009-02-01"), _d("2023-06-30")),
        ),
    ),
    Beneficiary(
        "201125935008884", "Bernard", "Chloé", _d("2001-12-03"), "single",
        (),
        (Entitlement("housing-aid", 198.00, _d("2022-09-01")),),
    ),
)  # fmt: skip
_BY_NIR = {person.nir: person for person in BENEFICIARIES}


def _nir(request: Request) -> str:
    nir = str(request.path_params["nir"])
    if not _NIR.match(nir):
        reason = "not 15 digits starting with 1 or 2"
    elif nir[13:] != nir_key(nir[:13]):
        reason = "its control key (last two digits) does not match"
    else:
        return nir
    raise Problem(422, f"nir is not a valid NIR: {reason}.", errors=[{"name": "nir", "reason": reason}])


async def list_benefits(request: Request) -> JSONResponse:
    return JSONResponse({"items": [benefit.as_json() for benefit in BENEFITS]})


async def get_benefit(request: Request) -> JSONResponse:
    benefit_id = request.path_params["benefit_id"]
    benefit = _BENEFITS_BY_ID.get(benefit_id)
    if benefit is None:
        raise Problem(404, f"No benefit has the id {benefit_id!r}.")
    return JSONResponse(benefit.as_json())


async def beneficiary_entitlements(request: Request) -> JSONResponse:
    nir = _nir(request)
    status = query_choice(request, "status", STATUSES)
    person = _BY_NIR.get(nir)
    if person is None:
        raise Problem(404, "No beneficiary is registered under this NIR.")
    return JSONResponse(person.as_json(status))


def create_app() -> Starlette:
    return base.create_app(
        "entitlements",
        [
            Route("/benefits", list_benefits, methods=["GET"]),
            Route("/benefits/{benefit_id}", get_benefit, methods=["GET"]),
            Route("/beneficiaries/{nir}/entitlements", beneficiary_entitlements, methods=["GET"]),
        ],
    )
