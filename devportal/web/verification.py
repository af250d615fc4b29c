"""Email verification links: signed with the platform's session secret, valid for two days, bound to
the account id and email, so a link cannot verify another address."""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from agora.errors import InvalidInput

__all__ = ["MAX_AGE_SECONDS", "check_token", "make_token"]

MAX_AGE_SECONDS = 2 * 24 * 3600
_SALT = "agora.portal.verify-email"


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=_SALT)


def make_token(secret: str, developer_id: int, email: str) -> str:
    return _serializer(secret).dumps({"id": developer_id, "email": email})


def check_token(secret: str, token: str, *, max_age: int = MAX_AGE_SECONDS) -> tuple[int, str]:
    try:
        data: Any = _serializer(secret).loads(token, max_age=max_age)
    except SignatureExpired:
        raise InvalidInput("this verification link has expired: sign up again to get a new one") from None
    except BadSignature:
        raise InvalidInput("this verification link is not valid") from None
    return int(data["id"]), str(data["email"])
