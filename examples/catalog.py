"""What `make run` seeds: the example agencies, the API each publishes, and where its upstream listens.

The seeding code reads only this module; the upstream apps and the specs stay behind `upstream_module`
and `spec_path`. Each spec's `info` (title, contact) agrees with the entry here, which a test checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = [
    "BENEFITS",
    "CADASTRE",
    "COMMERCE",
    "EXAMPLES",
    "EXAMPLE_HOST",
    "METEO",
    "SPECS_DIR",
    "Access",
    "Agency",
    "Example",
    "by_api_slug",
]

Access = Literal["open", "key", "restricted"]

# Next to this module in a checkout and in an installed package alike (the specs ship as package data).
SPECS_DIR = Path(__file__).resolve().parent / "specs"
# Where the example upstreams listen. Loopback is refused to agencies: the seed (the operator's own
# publication) allows this host, and `agora run` adds it to AGORA_ALLOWED_UPSTREAM_HOSTS for the gateway.
EXAMPLE_HOST = "127.0.0.1"


@dataclass(frozen=True, slots=True, kw_only=True)
class Agency:
    slug: str
    name: str
    contact_email: str
    website: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Example:
    """One API of one agency, with its spec and its running upstream.

    `upstream_module` names a module with `create_app() -> Starlette`; `port` is its default loopback
    port, moved by the same offset for all examples when `serve` runs with `--port-offset`.
    """

    agency: Agency
    api_slug: str
    title: str
    tags: tuple[str, ...]
    access: Access
    spec_file: str
    upstream_module: str
    port: int

    @property
    def spec_path(self) -> Path:
        return SPECS_DIR / self.spec_file

    def spec_text(self) -> str:
        return self.spec_path.read_text(encoding="utf-8")

    def upstream_url(self, host: str = EXAMPLE_HOST, port_offset: int = 0) -> str:
        return f"http://{host}:{self.port + port_offset}"


CADASTRE = Agency(
    slug="cadastre",
    name="National Cadastre and Address Office",
    contact_email="api@cadastre.example.gov",
    website="https://cadastre.example.gov",
)
COMMERCE = Agency(
    slug="commerce",
    name="Register of Companies",
    contact_email="api@companies.example.gov",
    website="https://companies.example.gov",
)
METEO = Agency(
    slug="meteo",
    name="Weather Warning Service",
    contact_email="api@meteo.example.gov",
    website="https://meteo.example.gov",
)
BENEFITS = Agency(
    slug="benefits",
    name="Family Benefits Office",
    contact_email="api@benefits.example.gov",
    website="https://benefits.example.gov",
)

# One of each access level, so a fresh `make run` shows open, key and grant-gated APIs side by side, and
# one API that returns personal data (restricted, as such an API must be), whose accesses citizens see.
EXAMPLES: tuple[Example, ...] = (
    Example(
        agency=CADASTRE,
        api_slug="addresses",
        title="Address lookup",
        tags=("addresses", "geodata", "open-data"),
        access="open",
        spec_file="addresses.yaml",
        upstream_module="examples.upstreams.addresses",
        port=9101,
    ),
    Example(
        agency=COMMERCE,
        api_slug="companies",
        title="Company register",
        tags=("companies", "business", "filings"),
        access="key",
        spec_file="companies.yaml",
        upstream_module="examples.upstreams.companies",
        port=9102,
    ),
    Example(
        agency=METEO,
        api_slug="warnings",
        title="Weather warnings",
        tags=("weather", "warnings", "safety"),
        access="restricted",
        spec_file="warnings.yaml",
        upstream_module="examples.upstreams.warnings",
        port=9103,
    ),
    Example(
        agency=BENEFITS,
        api_slug="entitlements",
        title="Family benefit entitlements",
        tags=("benefits", "family", "personal-data"),
        access="restricted",
        spec_file="benefits.yaml",
        upstream_module="examples.upstreams.benefits",
        port=9104,
    ),
)


def by_api_slug(api_slug: str) -> Example:
    for example in EXAMPLES:
        if example.api_slug == api_slug:
            return example
    known = ", ".join(e.api_slug for e in EXAMPLES)
    raise KeyError(f"no example API {api_slug!r}; known: {known}")
