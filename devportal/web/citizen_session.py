"""The citizen's session on the portal: two signed cookies, apart from the developers' session.

- `agora_citizen_login` (10 minutes): the `state`, `nonce` and PKCE verifier of a sign-in under way, so
  only the browser that started it can finish it.
- `agora_citizen` (30 minutes from sign-in, not renewed): the pseudonyms of the signed-in person's
  identifier under every key (what the lookup needs, and only that: the identifier itself is never
  kept, in a cookie or anywhere else) and the token that the sign-out form must send back (CSRF).

Both are signed with the portal's session secret under their own salt (a developer's cookie, or one
kind for the other, never verifies), carry their time of signing (checked on every read, so a kept
copy dies with its lifetime whatever the browser was told), and are `HttpOnly`, `SameSite=Lax`,
`Secure` when the portal is served over https, and scoped to `/my-data`. Nothing of it is ever put
in a URL.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from devportal.web.oidc_client import LoginState

__all__ = [
    "LOGIN_COOKIE",
    "LOGIN_MINUTES",
    "SESSION_COOKIE",
    "SESSION_MINUTES",
    "CitizenCookies",
    "CitizenSession",
]

SESSION_COOKIE = "agora_citizen"
LOGIN_COOKIE = "agora_citizen_login"
SESSION_MINUTES = 30
LOGIN_MINUTES = 10
PATH = "/my-data"
_HEX = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class CitizenSession:
    pseudonyms: tuple[tuple[str, str], ...]  # (key id, pseudonym) under every key of the ring
    csrf: str


class CitizenCookies:
    def __init__(self, secret: str, *, secure: bool) -> None:
        self._session = URLSafeTimedSerializer(secret, salt="agora.citizen.session.v1")
        self._login = URLSafeTimedSerializer(secret, salt="agora.citizen.login.v1")
        self._secure = secure

    def _set(self, response: Response, name: str, value: str, minutes: int) -> None:
        response.set_cookie(
            name, value, max_age=minutes * 60, path=PATH, secure=self._secure, httponly=True, samesite="lax"
        )

    def _load(self, serializer: URLSafeTimedSerializer, request: Request, name: str, minutes: int) -> Any:
        raw = request.cookies.get(name)
        if not raw:
            return None
        try:
            return serializer.loads(raw, max_age=minutes * 60)
        except BadSignature:  # forged, altered, expired, or signed for something else
            return None

    def session(self, request: Request) -> CitizenSession | None:
        data = self._load(self._session, request, SESSION_COOKIE, SESSION_MINUTES)
        if not isinstance(data, dict) or not isinstance(data.get("csrf"), str):
            return None
        pairs = data.get("p")
        if not isinstance(pairs, list) or not pairs:
            return None
        found: list[tuple[str, str]] = []
        for pair in pairs:
            if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair)):
                return None
            if not _HEX.match(pair[1]):
                return None
            found.append((pair[0], pair[1]))
        return CitizenSession(tuple(found), data["csrf"])

    def open_session(self, response: Response, pseudonyms: list[tuple[str, str]]) -> CitizenSession:
        """A fresh session (and CSRF token) at every sign-in; the sign-in's own cookie is spent."""
        opened = CitizenSession(tuple(pseudonyms), secrets.token_urlsafe(32))
        value = self._session.dumps({"p": [list(pair) for pair in opened.pseudonyms], "csrf": opened.csrf})
        self._set(response, SESSION_COOKIE, value, SESSION_MINUTES)
        self.forget_login(response)
        return opened

    def close_session(self, response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, path=PATH, secure=self._secure, httponly=True, samesite="lax")

    def login(self, request: Request) -> LoginState | None:
        data = self._load(self._login, request, LOGIN_COOKIE, LOGIN_MINUTES)
        if not (isinstance(data, list) and len(data) == 3 and all(isinstance(x, str) and x for x in data)):
            return None
        return LoginState(*data)

    def forget_login(self, response: Response) -> None:
        """A sign-in's cookie serves once, whatever the answer was."""
        response.delete_cookie(LOGIN_COOKIE, path=PATH, secure=self._secure, httponly=True, samesite="lax")

    def start_login(self, response: Response, login: LoginState) -> None:
        value = self._login.dumps([login.state, login.nonce, login.code_verifier])
        self._set(response, LOGIN_COOKIE, value, LOGIN_MINUTES)
