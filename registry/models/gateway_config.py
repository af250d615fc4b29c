"""Compiled gateway configurations (see docs/snapshot.md): the only thing the data plane reads."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from registry.models.base import Base, Json, created_at

__all__ = ["GatewayConfig"]


class GatewayConfig(Base):
    __tablename__ = "gateway_configs"

    revision: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(71), index=True)  # "sha256:<hex>" of the canonical document
    created_at: Mapped[created_at]
    document: Mapped[dict[str, Any]] = mapped_column(Json)
