"""Municipalities (the tenants), their schools and school staff."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from directory.dbtypes import UTCDateTime
from directory.extensions import db
from directory.timeutil import utcnow

if TYPE_CHECKING:
    from directory.accounts.models import User


class Municipality(db.Model):
    """A municipality: the tenant that owns schools, organisations and their activities."""

    __tablename__ = "municipality"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    # What the school-home messaging app is called here, e.g. "Vigilo".
    messaging_label: Mapped[str] = mapped_column(String(60), default="Vigilo")
    org_number: Mapped[str | None] = mapped_column(String(9))
    # Whom residents contact about privacy and accessibility; named in the statements.
    contact_email: Mapped[str | None] = mapped_column(String(254))
    # The leisure-card (fritidskort) rules an offer must meet; None: no such rule.
    fritidskort_min_sessions: Mapped[int | None]
    fritidskort_max_price: Mapped[int | None]  # whole kroner

    schools: Mapped[list[School]] = relationship(
        back_populates="municipality", order_by="School.name"
    )

    def __repr__(self) -> str:
        return f"<Municipality {self.slug}>"


class School(db.Model):
    """A school: the grades it serves and the channels it has for reaching parents."""

    __tablename__ = "school"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"), index=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    grade_min: Mapped[int]
    grade_max: Mapped[int]
    area: Mapped[str] = mapped_column(String(120), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    facebook_page_url: Mapped[str | None] = mapped_column(String(500))
    accepts_backpack_post: Mapped[bool] = mapped_column(default=True)
    org_number: Mapped[str | None] = mapped_column(String(9))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    # A deactivated school keeps its history (requests, exports) but leaves routing, filters,
    # the API and the staff's inbox; it is never deleted once it has requests.
    active: Mapped[bool] = mapped_column(default=True, server_default=sa_true())

    municipality: Mapped[Municipality] = relationship(back_populates="schools")
    grade_counts: Mapped[list[SchoolGradeCount]] = relationship(
        back_populates="school", cascade="all, delete-orphan", order_by="SchoolGradeCount.grade"
    )
    staff: Mapped[list[SchoolStaff]] = relationship(
        back_populates="school", cascade="all, delete-orphan"
    )

    @property
    def grades(self) -> list[int]:
        """The grades the school serves, e.g. [1, 2, ..., 7]."""
        return list(range(self.grade_min, self.grade_max + 1))

    @property
    def has_facebook_page(self) -> bool:
        """Whether the school has a Facebook page to share posts on."""
        return bool(self.facebook_page_url)

    def __repr__(self) -> str:
        return f"<School {self.slug}>"


class SchoolGradeCount(db.Model):
    """Aggregate numbers of classes and pupils in one grade of a school; never a pupil list."""

    __tablename__ = "school_grade_count"
    __table_args__ = (UniqueConstraint("school_id", "grade"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"))
    grade: Mapped[int]
    classes: Mapped[int] = mapped_column(default=1)
    pupils: Mapped[int] = mapped_column(default=0)

    school: Mapped[School] = relationship(back_populates="grade_counts")


class SchoolStaff(db.Model):
    """A staff account's role at one school: 'admin' sets the policy, 'staff' reviews requests."""

    __tablename__ = "school_staff"
    __table_args__ = (UniqueConstraint("user_id", "school_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20), default="staff")
    note: Mapped[str] = mapped_column(Text, default="")

    school: Mapped[School] = relationship(back_populates="staff")
    user: Mapped[User] = relationship(back_populates="school_roles")


class ChannelPolicy(db.Model):
    """A channel policy: the municipal default (school_id empty) or one school's override.

    `settings` holds only what directory.policy.channel_policy accepts: the default has every
    setting, an override the ones the school changed.
    """

    __tablename__ = "channel_policy"
    __table_args__ = (
        # One municipal default per municipality (a school has at most one override through
        # its unique school_id).
        Index(
            "uq_channel_policy_municipal_default",
            "municipality_id",
            unique=True,
            sqlite_where=text("school_id IS NULL"),
            postgresql_where=text("school_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"))
    school_id: Mapped[int | None] = mapped_column(
        ForeignKey("school.id", ondelete="CASCADE"), unique=True
    )
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(default=1)

    school: Mapped[School | None] = relationship()

    __mapper_args__ = {"version_id_col": version}


class SchoolInvitation(db.Model):
    """An invitation to join a school's staff, accepted through a one-time link (14 days)."""

    __tablename__ = "school_invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(20), default="staff")
    # Only a hash of the token is stored; the link is e-mailed and shown once to the inviter.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    school: Mapped[School] = relationship()


class SchoolHoliday(db.Model):
    """One school holiday of a municipality in a school year (August to July): its name and its
    first and last day, both included. Weeks whose every school day is a holiday are closed to
    requests at every school of the municipality (directory.policy.school_calendar)."""

    __tablename__ = "school_holiday"

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(
        ForeignKey("municipality.id", ondelete="CASCADE"), index=True
    )
    school_year: Mapped[str] = mapped_column(String(9))  # "2026-2027"
    name: Mapped[str] = mapped_column(String(80))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    municipality: Mapped[Municipality] = relationship()

    def __repr__(self) -> str:
        return f"<SchoolHoliday {self.name} {self.first_day}>"
