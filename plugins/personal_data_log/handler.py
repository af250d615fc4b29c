"""`personal-data-log`: one row per call of an operation that returns a person's data (issue 16).

The registry puts it on exactly the routes whose operation declares personal data, with where the data
subject's identifier is (`subject`), the categories returned and the API's legal bases. For each call
it records, for the person to see later: a pseudonym of the identifier (HMAC-SHA256 under the platform's
current pseudonymisation key, agora/pseudonyms.py: never the identifier itself), when, the agency, API,
version and operation (from the snapshot's service and route, as usage metering), the application, its
organisation, and the purpose and legal basis of its grant for this API, the categories, the status and
its outcome (served < 400; refused 4xx: nothing was read; failed 5xx or 499), and how long the row is
kept (the grant's legal basis's retention, else the longest the API declares).

Not recorded: a call without the identifier (nobody to show it to), a sandbox answer (made-up
examples, nobody's data), and a call from no identified application (no key, a wrong key or token: a
401 from the authentication plugin, or an API without one). Such an attempt read nothing and names
nobody; recording it would let anyone who knows a person's identifier fill that person's page. The
refusals of an identified application are recorded (403, 429, 400: it tried).

On routes whose subject is a query argument or a header, an access phase refuses (400) a request that
gives the identifier more than once, or beyond what can be read whole (subject.py): an upstream could
read another value than the one logged. Its log phase records the refusal under the first value. The
routes with the subject in the path or a token claim have no access phase at all (the host looks for
one on the instance; Kong's plugin server, which looks at the class, runs the log phase only).

The log phase runs after the response has been sent and appends one tuple to the process's recorder
(usage metering's, plugins/usage_metering/recorder.py), which writes batches from its own thread to the
database or the registry's ingest (store.py). Priority 11: just after usage-metering (12), after every
plugin that could change the outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agora.errors import InvalidInput
from plugins import CTX_JWT_CLAIMS
from plugins.personal_data_log.platform_settings import ring
from plugins.personal_data_log.record import Access, Party, Service, to_row
from plugins.personal_data_log.schema import DEFAULT_RETENTION_DAYS, MAX_RETENTION_DAYS, SOURCES, Schema
from plugins.personal_data_log.store import make_store, store_target
from plugins.personal_data_log.subject import Once, query_values
from plugins.usage_metering.recorder import Recorder, batching, recorder_for
from plugins.usage_metering.recorder import shutdown as shutdown_recorders

__all__ = ["PRIORITY", "VERSION", "Plugin", "Schema", "priority", "shutdown", "version"]

PRIORITY = 11  # just below usage-metering's 12
VERSION = "1.0.0"
priority, version = PRIORITY, VERSION

ERR_SUBJECT = f"personal-data-log: subject is {{in, name}} with `in` one of {', '.join(SOURCES)}"
ERR_CATEGORIES = "personal-data-log: categories must be a non-empty list of non-empty strings"
ERR_LEGAL_BASES = f"personal-data-log: legal_bases maps ids to whole days from 1 to {MAX_RETENTION_DAYS}"
_MAX_CACHED_PARTIES = 10_000


def shutdown() -> None:
    """Called once by the gateway on a graceful stop: every pending row is written."""
    shutdown_recorders()


def _subject(raw: Any) -> tuple[str, str]:
    if not isinstance(raw, dict) or raw.get("in") not in SOURCES:
        raise InvalidInput(ERR_SUBJECT)
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidInput(ERR_SUBJECT)
    return raw["in"], name


def _categories(raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list | tuple) or not raw or not all(isinstance(c, str) and c for c in raw):
        raise InvalidInput(ERR_CATEGORIES)
    return tuple(c[:200] for c in raw)


def _legal_bases(raw: dict[str, Any]) -> dict[str, int]:
    for basis, days in raw.items():
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_RETENTION_DAYS:
            raise InvalidInput(f"{ERR_LEGAL_BASES} ({basis!r}: {days!r})")
    return {str(basis): days for basis, days in raw.items()}


class Plugin:
    run_in_thread = False  # no I/O: the access phase reads the request, the log phase appends to a deque

    def __init__(self, config: dict[str, Any]) -> None:
        self.source, self.name = _subject(config["subject"])
        self.categories = _categories(config["categories"])
        self.retention = _legal_bases(config["legal_bases"])
        self.default_retention = max(self.retention.values(), default=DEFAULT_RETENTION_DAYS)
        # Read once per snapshot: a ring that cannot be read refuses the snapshot, loudly, rather than
        # failing every call's log phase.
        self.ring = ring()
        interval, batch, most = batching("personal-data-log", config)
        backend, where = store_target(config["backend"], config["http_endpoint"])
        self.key = ("personal-data-log", backend, where, interval, batch, most)
        self.recorder = self._recorder()
        readers: dict[str, Callable[[Any], Any]] = {
            "path": self._from_path, "query": self._from_query, "header": self._from_header,
            "jwt-claim": self._from_claim,
        }  # fmt: skip
        self._read = readers[self.source]
        if self.source in ("query", "header"):
            self.access = Once(self.source, self.name)  # only these routes get an access phase
        # An instance lives for one snapshot (Kong: for one config), so these stay true; parties are
        # checked against the consumer object they were made from, which a snapshot reload replaces.
        self._services: dict[str, Service] = {}
        self._parties: dict[tuple[Any, str], tuple[dict[str, Any], Party]] = {}

    def _recorder(self) -> Recorder:
        _, backend, where, interval, batch, most = self.key

        def make() -> Recorder:
            return Recorder(
                make_store(backend, where), flush_interval=interval, batch_size=batch, max_pending=most,
                name=f"-{backend}", to_row=to_row, kind="personal data", thread="personal-data-log",
            )  # fmt: skip

        return recorder_for(self.key, make)

    def _from_path(self, kong: Any) -> Any:
        return kong.request.get_uri_captures()["named"].get(self.name)

    def _from_query(self, kong: Any) -> Any:
        # The whole query string, not the PDK's first 100 arguments: the access phase let through only a
        # name given once, wherever it is.
        raw = kong.request.get_raw_query()
        values = query_values(raw, self.name) if raw else None
        return values[0] if values else None

    def _from_header(self, kong: Any) -> Any:
        return kong.request.get_header(self.name)

    def _from_claim(self, kong: Any) -> Any:
        claims = kong.ctx.shared.get(CTX_JWT_CLAIMS)
        value = claims.get(self.name) if isinstance(claims, dict) else None
        return str(value) if isinstance(value, int | str) and not isinstance(value, bool) else None

    def _service(self, kong: Any, name: str) -> Service:
        raw = kong.router.get_service() or {}
        agency, api = str(raw.get("agency")), str(raw.get("api"))
        service = self._services[name] = (agency, api, str(raw.get("version")), f"{agency}/{api}")
        return service

    def _party(self, consumer: dict[str, Any], api: str) -> Party:
        """What the caller's grant for this API says; the same answer for every call of one consumer."""
        key = (consumer.get("id"), api)
        cached = self._parties.get(key)
        if cached is not None and cached[0] is consumer:
            return cached[1]
        grant = next((g for g in consumer.get("grants") or () if g.get("api") == api), None) or {}
        # No grant (access-control refused), or a grant made before the API declared personal data: no
        # purpose or legal basis, and the API's longest retention.
        basis = str(grant.get("legal_basis") or "")[:100]
        app_id = consumer.get("id")
        party: Party = (
            str(app_id)[:36] if app_id else None,
            str(consumer.get("username") or "")[:200],
            str(consumer.get("organisation") or "")[:200],
            str(grant.get("purpose") or "")[:4000],
            basis,
            self.retention.get(basis, self.default_retention),
        )
        if len(self._parties) < _MAX_CACHED_PARTIES:
            self._parties[key] = (consumer, party)
        return party

    def log(self, kong: Any) -> None:
        consumer = kong.client.get_consumer()
        if consumer is None:
            return  # no application identified: an attempt that read nothing and names nobody
        identifier = self._read(kong)
        if not identifier:
            return  # nobody to show this call to
        facts = kong.log.serialize()
        name = facts["service"]
        if name is None or facts["sandbox"]:
            return  # a sandbox answer is made of examples: no person's data was read
        service = self._services.get(name) or self._service(kong, name)
        party = self._party(consumer, service[3])
        recorder = self.recorder
        if recorder.closed:  # the gateway stopped one; a request still finishing gets a fresh one
            recorder = self.recorder = self._recorder()
        access = Access(
            next(recorder.seq), facts["started_at"], self.ring, str(identifier), service, facts["route"],
            party, self.categories, facts["status"],
        )  # fmt: skip
        recorder.add(access)
