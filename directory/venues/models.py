"""The venue table."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from directory.dbtypes import UTCDateTime
from directory.extensions import db
from directory.timeutil import utcnow

if TYPE_CHECKING:
    from directory.organisations.models import Organisation
    from directory.schools.models import Municipality


class Venue(db.Model):
    """A place in a municipality where activities happen.

    `match_key` identifies the name and address (case and spacing aside): a municipality has one
    venue per name and address, so that the same hall typed twice is one venue.
    """

    __tablename__ = "venue"
    __table_args__ = (UniqueConstraint("municipality_id", "match_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"), index=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(150))
    address: Mapped[str] = mapped_column(String(200), default="")
    match_key: Mapped[str] = mapped_column(String(16))
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    # Step-free entrance, accessible toilet, lift...: about the place, not one activity there.
    accessibility: Mapped[str] = mapped_column(Text, default="")
    # The organisation that added it from its activity form; None: the municipality's own.
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    municipality: Mapped[Municipality] = relationship()
    added_by: Mapped[Organisation | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def label(self) -> str:
        """'Name, address' (or just the one that is given)."""
        return ", ".join(part for part in (self.name, self.address) if part)

    @property
    def has_point(self) -> bool:
        """Whether its coordinates are known."""
        return self.latitude is not None and self.longitude is not None

    def __repr__(self) -> str:
        return f"<Venue {self.slug}>"
