"""The daily visit counter of the exports' short links."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from directory.extensions import db


class ReachCount(db.Model):
    """How many visits came through one activity's short link from one school's export of one
    channel and ISO week, on one day (Oslo's date).

    The table has these columns and no others: no address, user agent, cookie, referrer or
    any identifier of the visitor is stored anywhere.
    """

    __tablename__ = "reach_count"
    __table_args__ = (UniqueConstraint("activity_id", "school_id", "channel", "week", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(30))
    week: Mapped[str] = mapped_column(String(8))  # the export's ISO week, "2026-W49"
    day: Mapped[date] = mapped_column(Date)  # the visit's date in Oslo
    visits: Mapped[int] = mapped_column(default=0)
