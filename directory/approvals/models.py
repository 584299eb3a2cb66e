"""Distribution requests: an organiser asks to reach one school's parents in one week."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from directory.dbtypes import UTCDateTime
from directory.extensions import db
from directory.policy.request_states import PENDING, QUOTA_STATES, STATES
from directory.timeutil import utcnow

if TYPE_CHECKING:
    from directory.accounts.models import User
    from directory.activities.models import Activity
    from directory.schools.models import School

REQUEST_STATES = STATES
__all__ = ["QUOTA_STATES", "REQUEST_STATES", "DistributionRequest"]


class DistributionRequest(db.Model):
    """One activity × school × ISO week, with the routing decision as it was when sent."""

    __tablename__ = "distribution_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), index=True
    )
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    week: Mapped[str] = mapped_column(String(8), index=True)  # ISO week, "2026-W48"
    channel: Mapped[str] = mapped_column(String(30))
    rule: Mapped[str] = mapped_column(String(30))
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    grades: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default=PENDING, index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_reason: Mapped[str] = mapped_column(Text, default="")
    exported_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    exported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the activity was edited after the request was sent, and what changed (field names):
    # the school reviews it again with the change shown.
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    changes: Mapped[list] = mapped_column(JSON, default=list)
    # When the organiser cancelled the activity after the school said yes, and the reason they
    # gave (the activity's public cancellation note then): the school takes the offer down.
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancellation_reason: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)

    activity: Mapped[Activity] = relationship()
    school: Mapped[School] = relationship()
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    exported_by: Mapped[User | None] = relationship(foreign_keys=[exported_by_id])

    __mapper_args__ = {"version_id_col": version}
