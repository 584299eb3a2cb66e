"""Activities, their schedules and categories."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from directory.dbtypes import UTCDateTime
from directory.extensions import db
from directory.policy.activity_states import PUBLIC_STATES
from directory.policy.listing_dates import is_expired
from directory.timeutil import oslo_now, utcnow

if TYPE_CHECKING:
    from directory.organisations.models import Organisation
    from directory.venues.models import Venue


class Category(db.Model):
    """A kind of activity (sport, music, ...), named in each interface language."""

    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name_nb: Mapped[str] = mapped_column(String(80))
    name_nn: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    # A hidden category is offered to nobody new and leaves the filters; activities keep it.
    hidden: Mapped[bool] = mapped_column(default=False, server_default=sa_false())

    def name_in(self, locale: str) -> str:
        """The category's name in the given interface language, bokmål by default."""
        return name_in_language(locale, self.name_nb, self.name_nn, self.name_en)


def name_in_language(locale: str, nb: str, nn: str, en: str) -> str:
    """Of a name kept in the three interface languages, the one for `locale` (bokmål else)."""
    return {"nn": nn, "en": en}.get(locale, nb)


class Activity(db.Model):
    """An offer for children or youth, published by an organisation."""

    __tablename__ = "activity"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"))
    title: Mapped[str] = mapped_column(String(150))
    summary: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown, rendered safely
    tags: Mapped[str] = mapped_column(String(300), default="")  # comma-separated
    age_min: Mapped[int]
    age_max: Mapped[int]
    price_nok: Mapped[int] = mapped_column(default=0)  # whole kroner; 0 is free
    price_note: Mapped[str] = mapped_column(String(200), default="")
    # The venue (directory.venues) where it happens. Its name, address and coordinates are
    # copied into the four columns below whenever either changes (directory.venues.operations:
    # place_activity, update_venue), so that search, feeds and exports read the activity alone.
    venue_id: Mapped[int | None] = mapped_column(ForeignKey("venue.id"), index=True)
    venue: Mapped[str] = mapped_column(String(150), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    accessibility: Mapped[str] = mapped_column(Text, default="")
    # Adapted for children with disabilities (step-free, assistance...): the search filter.
    accessible: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    # Low-threshold offers: payable with the municipality's leisure card (fritidskortet), a free
    # trial session, equipment lent or not needed. Search filters fritidskort/trial/equipment.
    fritidskort: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    trial_session: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    equipment_provided: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    # Comma-separated language codes ("no, en"; see directory.activities.languages); a language
    # the list does not know is kept as written.
    languages: Mapped[str] = mapped_column(String(100), default="no")
    registration_url: Mapped[str | None] = mapped_column(String(500))
    capacity: Mapped[int | None]
    image_filename: Mapped[str | None] = mapped_column(String(80))
    image_alt: Mapped[str] = mapped_column(String(200), default="")
    flyer_filename: Mapped[str | None] = mapped_column(String(80))
    facebook_post_url: Mapped[str | None] = mapped_column(String(500))
    # A school's own notice about school matters (SFO/AKS places, consents...), not a leisure
    # offer: only then may the school's messaging app carry it.
    school_business: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    cancellation_note: Mapped[str] = mapped_column(String(300), default="")
    season: Mapped[str] = mapped_column(String(20), default="")
    copied_from_id: Mapped[int | None] = mapped_column(ForeignKey("activity.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)
    # The listing is confirmed until this Oslo date (directory.policy.listing_dates): set on
    # publishing and renewing; past it the activity leaves the public lists. None: never set.
    confirmed_until: Mapped[date | None] = mapped_column(Date)

    organisation: Mapped[Organisation] = relationship(back_populates="activities")
    category: Mapped[Category | None] = relationship()
    place: Mapped[Venue | None] = relationship()
    schedules: Mapped[list[Schedule]] = relationship(
        back_populates="activity", cascade="all, delete-orphan", order_by="Schedule.dtstart"
    )
    # The offer's text in other languages (issue 14), in the order of CONTENT_LANGUAGES when shown.
    translations: Mapped[list[ActivityTranslation]] = relationship(
        back_populates="activity",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ActivityTranslation.language",
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_free(self) -> bool:
        """Whether the activity costs nothing."""
        return self.price_nok == 0

    @property
    def has_flyer(self) -> bool:
        """Whether a printable flyer is uploaded."""
        return bool(self.flyer_filename)

    @property
    def is_public(self) -> bool:
        """Whether anyone may see the activity: published or cancelled, by a non-rejected org."""
        return self.status in PUBLIC_STATES and not self.organisation.rejected

    @property
    def listing_expired(self) -> bool:
        """Whether its confirmation has run out (today in Oslo is past `confirmed_until`)."""
        return is_expired(self.confirmed_until, oslo_now().date())

    @property
    def tag_list(self) -> list[str]:
        """The tags as a list."""
        return [t.strip() for t in self.tags.split(",") if t.strip()]

    def __repr__(self) -> str:
        return f"<Activity {self.id} {self.title!r}>"


class Schedule(db.Model):
    """When an activity happens, in iCalendar terms and Europe/Oslo wall time.

    dtstart is naive local time; rrule is an RFC 5545 RRULE value (UNTIL in UTC) or empty for
    a single date; rdates and exdates are space-separated local times (YYYYMMDDTHHMMSS).
    """

    __tablename__ = "schedule"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), index=True
    )
    dtstart: Mapped[datetime]
    duration_minutes: Mapped[int] = mapped_column(default=60)
    rrule: Mapped[str] = mapped_column(String(300), default="")
    rdates: Mapped[str] = mapped_column(Text, default="")
    exdates: Mapped[str] = mapped_column(Text, default="")

    activity: Mapped[Activity] = relationship(back_populates="schedules")


class ActivityTranslation(db.Model):
    """An activity's title, summary and description in another language, written by its
    organiser (directory.activities.content_languages lists the languages)."""

    __tablename__ = "activity_translation"
    __table_args__ = (UniqueConstraint("activity_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), index=True
    )
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(150))
    summary: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown, rendered safely
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    activity: Mapped[Activity] = relationship(back_populates="translations")


class ListingReminder(db.Model):
    """One reminder e-mail sent to one member about one activity's confirmation date: what
    `review-listings` has sent, so that a second run never sends the same reminder twice."""

    __tablename__ = "listing_reminder"
    __table_args__ = (
        # Named here: the convention's name would pass PostgreSQL's 63 characters.
        UniqueConstraint(
            "activity_id", "confirmed_until", "days_before", "user_id",
            name="uq_listing_reminder_once",
        ),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    confirmed_until: Mapped[date] = mapped_column(Date)
    days_before: Mapped[int]
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
