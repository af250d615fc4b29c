"""Company register of the Register of Companies (agency `commerce`, API `companies`).

Besides lookups it takes filings (`POST`, the one write in the examples) and offers `/slow`, an
endpoint whose latency the caller chooses, for the gateway's timeout tests and for load tests.
Filings live in memory per app instance, so every `create_app()` starts from the same state.
Spec: `examples/specs/companies.yaml`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from examples.upstreams import base
from examples.upstreams.params import query_int, query_text
from examples.upstreams.problems import Problem

__all__ = ["COMPANIES", "FILING_TYPES", "MAX_DELAY_MS", "Company", "CompanyRegister", "create_app"]

FILING_TYPES = ("annual-accounts", "change-of-address", "change-of-officers", "dissolution-notice")
MAX_DELAY_MS = 5000
_FILING_FIELDS = frozenset({"type", "submitted_by", "period_end", "note"})


@dataclass(frozen=True, slots=True)
class Company:
    id: str
    name: str
    legal_form: str
    status: str
    registered_on: str
    industry: tuple[str, str]  # (NACE code, label)
    registered_address: str
    dissolved_on: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "legal_form": self.legal_form,
            "status": self.status,
            "registered_on": self.registered_on,
            "dissolved_on": self.dissolved_on,
            "industry": {"code": self.industry[0], "label": self.industry[1]},
            "registered_address": self.registered_address,
        }


COMPANIES: tuple[Company, ...] = (
    Company("RC100001", "Northport Ferries Ltd", "limited-company", "active", "1998-03-12",
            ("50.10", "Sea and coastal passenger water transport"), "Harbour Street 1, 1011 Northport"),
    Company("RC100002", "Eastvale Dairy Cooperative", "cooperative", "active", "1987-06-01",
            ("10.51", "Operation of dairies and cheese making"), "Mill Lane 3, 2140 Eastvale"),
    Company("RC100003", "Lindenholm Software Plc", "public-limited-company", "active", "2009-11-23",
            ("62.01", "Computer programming activities"), "Linden Avenue 1, 3320 Lindenholm"),
    Company("RC100004", "Harbourside Bakery", "sole-trader", "active", "2015-02-02",
            ("10.71", "Manufacture of bread and fresh pastry goods"), "Market Square 1, 1010 Northport"),
    Company("RC100005", "Orchard & Sons Partnership", "partnership", "active", "2001-09-17",
            ("01.24", "Growing of pome fruits and stone fruits"), "Orchard Way 2, 2141 Eastvale"),
    Company("RC100006", "Lakeshore Timber Ltd", "limited-company", "dissolved", "1992-04-30",
            ("16.10", "Sawmilling and planing of wood"), "Lakeshore Drive 1, 3322 Lindenholm",
            dissolved_on="2021-12-31"),
    Company("RC100007", "Station Road Logistics Ltd", "limited-company", "active", "2012-08-08",
            ("52.10", "Warehousing and storage"), "Station Road 1, 2142 Eastvale"),
    Company("RC100008", "Lighthouse Renewable Energy Plc", "public-limited-company", "active", "2017-05-19",
            ("35.11", "Production of electricity"), "Lighthouse Road 2, 1012 Northport"),
    Company("RC100009", "Church Street Books", "sole-trader", "in-liquidation", "2005-01-10",
            ("47.61", "Retail sale of books in specialised stores"), "Church Street 2, 3321 Lindenholm"),
    Company("RC100010", "Northport Harbour Services Ltd", "limited-company", "active", "1979-10-01",
            ("52.22", "Service activities for water transport"), "Harbour Street 7, 1011 Northport"),
)  # fmt: skip
_BY_ID = {company.id: company for company in COMPANIES}

_FIRST_NAMES = (
    "Aino",
    "Mikael",
    "Sofia",
    "Jonas",
    "Helena",
    "Omar",
    "Lea",
    "Viktor",
    "Noor",
    "Elias",
    "Maria",
)
_SURNAMES = ("Lind", "Korhonen", "Berg", "Virtanen", "Holm", "Nieminen", "Strand", "Laine", "Ek", "Salo")
_ROLES = ("chair", "managing-director", "director", "auditor")
_LAST_DAY = date(2024, 12, 31)


def _officers(company: Company) -> list[dict[str, Any]]:
    """Two to four officers per company, derived from its number so they never change between runs."""
    n = int(company.id[2:])
    start = date.fromisoformat(company.registered_on)
    officers = []
    for i in range(2 + n % 3):
        seed = n * 7 + i * 3
        # Appointed after registration (and before the data set's end), a few years apart.
        appointed = min(start + timedelta(days=30 + 1100 * i + seed % 200), _LAST_DAY)
        officers.append(
            {
                "name": f"{_FIRST_NAMES[seed % len(_FIRST_NAMES)]} {_SURNAMES[(seed // 2) % len(_SURNAMES)]}",
                "role": _ROLES[i % len(_ROLES)],
                "appointed_on": appointed.isoformat(),
                "resigned_on": company.dissolved_on,
            }
        )
    return officers


def _company(request: Request) -> Company:
    company_id = request.path_params["company_id"]
    company = _BY_ID.get(company_id)
    if company is None:
        raise Problem(404, f"No company has the id {company_id!r}.")
    return company


def _is_date(value: object) -> bool:
    # fromisoformat alone would also take "20241231"; the spec's `format: date` means YYYY-MM-DD only.
    if not isinstance(value, str) or len(value) != 10:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _validate_filing(body: Any) -> dict[str, Any]:
    """Check a filing against the `FilingRequest` schema of the spec; report every mistake at once."""
    if not isinstance(body, dict):
        raise Problem(
            422, "The filing must be a JSON object.", errors=[{"name": "body", "reason": "not an object"}]
        )
    errors = [{"name": name, "reason": "unknown field"} for name in sorted(body.keys() - _FILING_FIELDS)]
    if body.get("type") not in FILING_TYPES:
        errors.append({"name": "type", "reason": "required, one of " + ", ".join(FILING_TYPES)})
    submitted_by = body.get("submitted_by")
    if not isinstance(submitted_by, str) or not 1 <= len(submitted_by) <= 200:
        errors.append({"name": "submitted_by", "reason": "required, a string of 1 to 200 characters"})
    period_end = body.get("period_end")
    if period_end is not None and not _is_date(period_end):
        errors.append({"name": "period_end", "reason": "not a date (YYYY-MM-DD)"})
    note = body.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > 1000):
        errors.append({"name": "note", "reason": "not a string of at most 1000 characters"})
    if errors:
        raise Problem(422, "The filing is not valid.", errors=errors)
    return body


class CompanyRegister:
    """The endpoints, bound to one in-memory filing store."""

    def __init__(self) -> None:
        self.filings: dict[str, list[dict[str, Any]]] = {}
        self._numbers = itertools.count(1)

    async def search(self, request: Request) -> JSONResponse:
        needle = (query_text(request, "name") or "").casefold()
        limit = query_int(request, "limit", default=10, minimum=1, maximum=100)
        matches = [c for c in COMPANIES if needle in c.name.casefold()]
        return JSONResponse(
            {"items": [c.as_json() for c in matches[:limit]], "total": len(matches), "limit": limit}
        )

    async def get(self, request: Request) -> JSONResponse:
        return JSONResponse(_company(request).as_json())

    async def officers(self, request: Request) -> JSONResponse:
        company = _company(request)
        return JSONResponse({"company_id": company.id, "items": _officers(company)})

    async def list_filings(self, request: Request) -> JSONResponse:
        company = _company(request)
        return JSONResponse({"company_id": company.id, "items": self.filings.get(company.id, [])})

    async def create_filing(self, request: Request) -> JSONResponse:
        company = _company(request)
        try:
            body = await request.json()
        except ValueError as exc:
            raise Problem(400, "The request body is not JSON.") from exc
        fields = _validate_filing(body)
        if company.status == "dissolved":
            raise Problem(
                409, f"{company.name} was dissolved on {company.dissolved_on}; it takes no filings."
            )
        filing = {
            "id": f"FIL-{next(self._numbers):06d}",
            "company_id": company.id,
            "type": fields["type"],
            "submitted_by": fields["submitted_by"],
            "period_end": fields.get("period_end"),
            "note": fields.get("note"),
            "status": "received",
            "received_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        }
        self.filings.setdefault(company.id, []).append(filing)
        location = f"/companies/{company.id}/filings/{filing['id']}"
        return JSONResponse(filing, status_code=201, headers={"Location": location})

    async def get_filing(self, request: Request) -> JSONResponse:
        company = _company(request)
        filing_id = request.path_params["filing_id"]
        for filing in self.filings.get(company.id, []):
            if filing["id"] == filing_id:
                return JSONResponse(filing)
        raise Problem(404, f"{company.id} has no filing {filing_id!r}.")

    async def slow(self, request: Request) -> JSONResponse:
        # Capped rather than refused, so a load test asking for more still gets a (5 s) answer.
        delay_ms = min(query_int(request, "delay_ms", default=1000, minimum=0), MAX_DELAY_MS)
        await anyio.sleep(delay_ms / 1000)
        return JSONResponse({"delay_ms": delay_ms})

    def routes(self) -> list[Route]:
        return [
            Route("/companies", self.search, methods=["GET"]),
            Route("/companies/{company_id}", self.get, methods=["GET"]),
            Route("/companies/{company_id}/officers", self.officers, methods=["GET"]),
            Route("/companies/{company_id}/filings", self.list_filings, methods=["GET"]),
            Route("/companies/{company_id}/filings", self.create_filing, methods=["POST"]),
            Route("/companies/{company_id}/filings/{filing_id}", self.get_filing, methods=["GET"]),
            Route("/slow", self.slow, methods=["GET"]),
        ]


def create_app() -> Starlette:
    return base.create_app("companies", CompanyRegister().routes())
