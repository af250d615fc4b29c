"""A plan: the rate limits an application gets (per second, minute, hour, day, month)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from registry.models.base import Base, created_at, intpk, slug

__all__ = ["PERIODS", "Plan"]

PERIODS = ("second", "minute", "hour", "day", "month")


class Plan(Base):
    __tablename__ = "plans"

    id: Mapped[intpk]
    slug: Mapped[slug] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # None: a platform-wide plan any agency may offer; otherwise the agency that owns it.
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id", ondelete="CASCADE"), index=True)
    # True: subscribing under this plan waits for the agency's decision, on any API; False: self-service
    # (granted at once on open and key APIs; restricted APIs are always decided by their agency).
    approval_required: Mapped[bool] = mapped_column(default=False, server_default=false())
    per_second: Mapped[int | None]
    per_minute: Mapped[int | None]
    per_hour: Mapped[int | None]
    per_day: Mapped[int | None]
    per_month: Mapped[int | None]
    created_at: Mapped[created_at]

    def limits(self) -> dict[str, int | None]:
        return {period: getattr(self, f"per_{period}") for period in PERIODS}
