"""Password reset links: signed with the platform's session secret, valid for one hour, bound to the
account id, its email and a fingerprint of its current password (`accounts.password_fingerprint`),
so a link stops working the moment it has been used (the password it was bound to is gone)."""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from agora.errors import InvalidInput

__all__ = ["MAX_AGE_SECONDS", "ResetLink", "check_token", "make_token"]

MAX_AGE_SECONDS = 3600
_SALT = "agora.portal.reset-password"

ResetLink = tuple[int, str, str]  # developer id, email, password fingerprint


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=_SALT)


def make_token(secret: str, developer_id: int, email: str, fingerprint: str) -> str:
    return _serializer(secret).dumps({"id": developer_id, "email": email, "fp": fingerprint})


def check_token(secret: str, token: str, *, max_age: int = MAX_AGE_SECONDS) -> ResetLink:
    try:
        data: Any = _serializer(secret).loads(token, max_age=max_age)
    except SignatureExpired:
        raise InvalidInput("this reset link has expired: ask for a new one") from None
    except BadSignature:
        raise InvalidInput("this reset link is not valid") from None
    return int(data["id"]), str(data["email"]), str(data["fp"])
