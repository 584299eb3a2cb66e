"""Demo data: two municipalities with schools, organisations, activities, flyers and accounts.

Everything is generated from a seeded random generator, so the same day gives the same data;
dates are relative to today, so the demo always has upcoming activities. The accounts and their
passwords are published in the README: the demo is for local use only.
"""

from __future__ import annotations

import io
import random
import re
import tomllib
import zlib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from importlib.resources import files

from dateutil.easter import easter
from flask_babel import force_locale
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select

from directory import demo_data
from directory.accounts.models import User
from directory.accounts.operations import create_user
from directory.activities.categories import STANDARD_CATEGORIES, add_missing_standard_categories
from directory.activities.display import describe_schedule
from directory.activities.models import Activity, ActivityTranslation, Category, Schedule
from directory.activities.schedule import build_rrule, format_local_list, next_start
from directory.approvals.models import DistributionRequest
from directory.approvals.operations import (
    RequestError,
    SchoolChoice,
    approve_request,
    create_requests,
    reject_request,
    withdraw_request,
)
from directory.audit.models import AuditEvent
from directory.audit.operations import record
from directory.demo_data import MunicipalitySpec, NoticeSpec, OrgSpec, Place, SchoolSpec, Template
from directory.exports.formats.pdf import pdf_safe
from directory.exports.operations import mark_exported
from directory.extensions import db
from directory.organisations.models import Membership, Organisation
from directory.policy.activity_states import PUBLIC_STATES
from directory.policy.listing_dates import default_confirmed_until
from directory.policy.orgnumber import check_digit
from directory.policy.request_states import QUOTA_STATES, is_requestable, transition
from directory.reach_counts.demo import add_demo_counts
from directory.rendering import format_price
from directory.schools.models import Municipality, School, SchoolGradeCount, SchoolStaff
from directory.schools.routing import iso_week
from directory.text import slugify, unique_slug
from directory.timeutil import OSLO, oslo_now
from directory.venues.operations import add_venue, placement, venue_for

SEED = 2026
STEP_FREE_NOTE = "Trinnfri adkomst og HC-toalett."
ACCESSIBLE_NOTE = (
    "Tilrettelagt for barn med funksjonsnedsettelser: si fra om behov før første gang."
)
SEASON_WEEKS = 20
ADMIN_PASSWORD = "demo-admin-2026"  # noqa: S105 - published demo logins, local use only
ORG_PASSWORD = "demo-org-2026"  # noqa: S105 - published demo logins, local use only
SCHOOL_PASSWORD = "demo-skole-2026"  # noqa: S105 - published demo logins, local use only
EVENING_STARTS = (
    time(16, 0),
    time(16, 30),
    time(17, 0),
    time(17, 15),
    time(17, 30),
    time(18, 0),
    time(18, 30),
    time(19, 0),
    time(19, 30),
    time(20, 0),
)
WEEKEND_STARTS = (time(10, 0), time(11, 0), time(12, 0), time(13, 0))


class DemoError(Exception):
    """The demo cannot be loaded; the message (bokmål) says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class DemoAccount:
    """A demo login: who it is and what it may do."""

    email: str
    name: str
    password: str
    role: str  # municipal_admin, owner, editor, school_admin, school_staff
    target: str  # municipality slug, organisation key or school name
    description: str


# The password follows the role: one per kind of account, as the README lists them.
_PASSWORDS = {
    "municipal_admin": ADMIN_PASSWORD,
    "owner": ORG_PASSWORD,
    "editor": ORG_PASSWORD,
    "school_admin": SCHOOL_PASSWORD,
    "school_staff": SCHOOL_PASSWORD,
}
DEMO_ACCOUNTS = tuple(
    DemoAccount(a.email, a.name, _PASSWORDS[a.role], a.role, a.target, a.description)
    for a in demo_data.ACCOUNTS
)


@dataclass
class DemoSummary:
    """What the demo loaded."""

    municipalities: int = 0
    schools: int = 0
    organisations: int = 0
    activities: int = 0
    flyers: int = 0
    categories: int = 0
    requests: int = 0
    accounts: tuple[DemoAccount, ...] = ()

    def describe(self, seconds: float) -> str:
        """A few lines for the terminal, with the demo logins."""
        lines = [
            f"Demodata lastet på {seconds:.1f} s: {self.municipalities} kommuner, "
            f"{self.schools} skoler, {self.organisations} organisasjoner, "
            f"{self.activities} aktiviteter ({self.flyers} med flygeblad), "
            f"{self.categories} kategorier, {self.requests} forespørsler til skolene, "
            f"{len(self.accounts)} brukere.",
            "Demokontoer (bare for lokal bruk):",
        ]
        lines += [f"  {a.email} / {a.password} – {a.description}" for a in self.accounts]
        return "\n".join(lines)


def database_has_municipality() -> bool:
    """Whether any municipality exists (the database is then not empty)."""
    return db.session.scalar(select(Municipality.id).limit(1)) is not None


# --- the season and its holidays -------------------------------------------------------------


@dataclass(frozen=True)
class Season:
    """The weeks activities run: from a Monday for SEASON_WEEKS weeks."""

    start: date
    end: date
    earliest_single: date  # single dates fall on or after this day

    @classmethod
    def current(cls, today: date) -> Season:
        """The season from the Monday of this week."""
        monday = today - timedelta(days=today.weekday())
        end = monday + timedelta(weeks=SEASON_WEEKS, days=-1)
        return cls(monday, end, today + timedelta(days=1))

    def earlier(self, weeks: int) -> Season:
        """A season that ended a while ago, for archived activities."""
        start = self.start - timedelta(weeks=weeks + SEASON_WEEKS)
        end = self.start - timedelta(weeks=weeks, days=1)
        return Season(start, end, start)


def is_school_holiday(day: date) -> bool:
    """Autumn break (week 41), Christmas, winter break (week 8), Easter and summer holidays."""
    week = day.isocalendar().week
    if week in (8, 41) or 26 <= week <= 32:
        return True
    if (day.month == 12 and day.day >= 21) or (day.month == 1 and day.day <= 2):
        return True
    easter_sunday = easter(day.year)
    return easter_sunday - timedelta(days=7) <= day <= easter_sunday + timedelta(days=1)


def holiday_dates(spec: demo_data.HolidaySpec, school_year: str) -> tuple[date, date]:
    """The first and last day of a demo holiday in a school year ('2026-2027')."""
    start = int(school_year[:4])
    if spec.easter:
        sunday = easter(start + 1)
        return sunday - timedelta(days=6), sunday + timedelta(days=1)
    if spec.week is not None:
        monday = date.fromisocalendar(start if spec.week >= 32 else start + 1, spec.week, 1)
        return monday, monday + timedelta(days=4)
    month, day = (int(part) for part in spec.first.split("-"))
    first = date(start if month >= 8 else start + 1, month, day)
    month, day = (int(part) for part in spec.last.split("-"))
    last = date(first.year, month, day)
    if last < first:
        last = date(first.year + 1, month, day)
    return first, last


def _school_calendar(municipality: Municipality, spec: MunicipalitySpec, today: date) -> None:
    """The municipality's school holidays of the current school year."""
    from directory.policy.school_calendar import school_year_of
    from directory.schools.calendar import NewHoliday, replace_school_years

    year = school_year_of(today)
    holidays = [NewHoliday(year, h.name, *holiday_dates(h, year)) for h in spec.holidays]
    replace_school_years(municipality, holidays, actor=None, source_name="demo")


# --- the generator ---------------------------------------------------------------------------


@dataclass
class _Made:
    """What has been created so far, for the summary and for uniqueness."""

    org_slugs: set[str] = field(default_factory=set)
    school_slugs: set[str] = field(default_factory=set)
    org_numbers: set[str] = field(default_factory=set)
    schools: int = 0
    organisations: int = 0
    activities: int = 0
    flyers: int = 0


class _Demo:
    """Builds the demo objects with one random generator, in a fixed order."""

    def __init__(self, rng: random.Random, now: datetime, categories: dict[str, Category]):
        self.rng = rng
        self.now = now
        self.season = Season.current(now.date())
        self.past_season = self.season.earlier(weeks=8)
        self.categories = categories
        self.made = _Made(
            org_slugs=set(db.session.scalars(select(Organisation.slug))),
            school_slugs=set(db.session.scalars(select(School.slug))),
            org_numbers={n for n in db.session.scalars(select(Organisation.org_number)) if n},
        )
        self.orgs: dict[str, Organisation] = {}
        self.schools: dict[str, School] = {}

    def days_ago(self, low: int, high: int) -> datetime:
        """An aware moment some whole days and minutes before now."""
        return self.now - timedelta(
            days=self.rng.randint(low, high), minutes=self.rng.randint(0, 600)
        )

    # --- municipalities, schools, organisations

    def municipality(self, spec: MunicipalitySpec) -> Municipality:
        """Create a municipality with its schools, organisations and activities."""
        municipality = Municipality(
            slug=spec.slug,
            name=spec.name,
            messaging_label="Vigilo",
            org_number=spec.org_number,
            contact_email=f"personvern@{spec.slug}.example",  # made up, as every demo address
            fritidskort_min_sessions=spec.fritidskort_min_sessions,
            fritidskort_max_price=spec.fritidskort_max_price,
        )
        self.made.org_numbers.add(spec.org_number)
        db.session.add(municipality)
        for school_spec in spec.schools:
            self.schools[school_spec.name] = self.school(municipality, school_spec)
        db.session.flush()
        # The municipality's own venues, with coordinates and accessibility notes; the
        # organisations' activities are placed at them (and at the schools, added as they go).
        for where in spec.venues.values():
            add_venue(
                municipality,
                {
                    "name": where.name,
                    "address": where.address,
                    "latitude": where.latitude,
                    "longitude": where.longitude,
                    "accessibility": STEP_FREE_NOTE if where.step_free else "",
                },
                added_by=None,
                actor=None,
            )
        orgs = spec.organisations
        created = [self.organisation(municipality, org_spec) for org_spec in orgs]
        for org_spec, organisation in zip(orgs, created, strict=True):
            if org_spec.kind == "school":
                # A school's own unit: the routing rule's "school-own" needs to know which school.
                organisation.school = self.schools.get(org_spec.name)
        pairs = list(zip(orgs, created, strict=True))
        # The notices count towards the municipality's activities, so the totals stay as before.
        self.activities(municipality, pairs, spec.places, spec.activities - len(spec.notices))
        for notice in spec.notices:
            self.notice(notice, self.orgs[notice.org])
        return municipality

    @staticmethod
    def school_place(school: School) -> dict:
        """A school as the venue of the activities it hosts."""
        return {
            "name": school.name,
            "address": school.address,
            "latitude": school.latitude,
            "longitude": school.longitude,
            "accessibility": STEP_FREE_NOTE,
        }

    def school(self, municipality: Municipality, spec: SchoolSpec) -> School:
        """A school with aggregate class and pupil counts per grade."""
        slug = unique_slug(spec.name, lambda s: s in self.made.school_slugs)
        self.made.school_slugs.add(slug)
        school = School(
            municipality=municipality,
            slug=slug,
            name=spec.name,
            grade_min=spec.grade_min,
            grade_max=spec.grade_max,
            area=spec.area,
            address=spec.address,
            latitude=spec.latitude,
            longitude=spec.longitude,
            facebook_page_url=(
                f"https://www.facebook.com/{slugify(spec.name).replace('-', '')}"
                if spec.facebook
                else None
            ),
            accepts_backpack_post=spec.backpack,
        )
        for grade in range(spec.grade_min, spec.grade_max + 1):
            classes = self.rng.randint(2, 4)
            pupils = sum(self.rng.randint(18, 28) for _ in range(classes))
            school.grade_counts.append(
                SchoolGradeCount(grade=grade, classes=classes, pupils=pupils)
            )
        db.session.add(school)
        self.made.schools += 1
        return school

    def org_number(self) -> str:
        """A fresh nine-digit number starting with 8 or 9 with a valid mod-11 check digit."""
        while True:
            first_eight = self.rng.choice("89") + "".join(
                self.rng.choice("0123456789") for _ in range(7)
            )
            digit = check_digit(first_eight)
            number = f"{first_eight}{digit}"
            if digit is not None and number not in self.made.org_numbers:
                self.made.org_numbers.add(number)
                return number

    def organisation(self, municipality: Municipality, spec: OrgSpec) -> Organisation:
        """An organisation with a Markdown description and its verification state."""
        slug = unique_slug(spec.name, lambda s: s in self.made.org_slugs)
        self.made.org_slugs.add(slug)
        email = f"post@{spec.key}.example"
        phone = "32 " + " ".join(f"{self.rng.randint(10, 99)}" for _ in range(3))
        offers = "\n".join(
            f"- {demo_data.TEMPLATES[key].base}" for key in dict.fromkeys(spec.templates)
        )
        description = (
            f"{spec.lead}\n\n**Dette gjør vi:**\n\n{offers}\n\n"
            + demo_data.KIND_PARAGRAPHS[spec.kind].format(municipality=municipality.name)
            + f"\n\nSpørsmål? Skriv til [{email}](mailto:{email}) eller ring {phone}."
        )
        created = self.days_ago(60, 900)
        organisation = Organisation(
            municipality=municipality,
            slug=slug,
            name=spec.name,
            kind=spec.kind,
            org_number=self.org_number(),
            description=description,
            website_url=f"https://{spec.key}.example",
            facebook_page_url=self.facebook_page(spec) if spec.facebook else None,
            email=email,
            phone=phone,
            verification=spec.verification,
            rejection_reason=spec.rejection_reason,
            created_at=created,
            updated_at=created,
        )
        if spec.verification == "verified":
            organisation.verified_at = created + timedelta(days=self.rng.randint(1, 14))
            if spec.kind == "volunteer":
                organisation.logo_filename = self.logo(spec)
        db.session.add(organisation)
        self.orgs[spec.key] = organisation
        self.made.organisations += 1
        return organisation

    @staticmethod
    def logo(spec: OrgSpec) -> str:
        """A verified club's logo for the directory (issue 13): its initials on a colour of
        its own, checked and stored as an upload is. Made without the demo's random numbers,
        so the rest of the demo stays as it was."""
        from directory.activities.uploads import prepare_image, store

        return store(prepare_image(make_logo_png(spec.name, spec.key)))

    @staticmethod
    def facebook_page(spec: OrgSpec) -> str:
        """The organisation's Facebook page address."""
        return f"https://www.facebook.com/{spec.key.replace('-', '')}"

    # --- activities

    def title_options(self, template: Template, places: tuple[Place, ...]) -> list[tuple]:
        """Every (title, age_min, age_max, host school or None, period) a template can give.

        Courses, weekend events and single dates are offered twice, early and late in the
        season (period 0 and 1), as organisers repeat them; the first start tells them apart.
        """
        low, high = template.ages
        year = self.now.year
        if template.expand == "kull":
            found = [
                (f"{template.base} for {born}-kullet", max(0, year - born - 1), year - born, None)
                for born in range(year - high, year - low + 1)
            ]
        elif template.expand == "groups":
            found = [(f"{template.base} for {a}–{b} år", a, b, None) for a, b in template.options]
        elif template.expand == "levels":
            found = [(f"{template.base} {suffix}", low, high, None) for suffix in template.options]
        elif template.expand == "named":
            found = [(f"{template.base} – {name}", a, b, None) for name, a, b in template.options]
        elif template.expand == "places":
            found = [(f"{template.base} {p.where}", low, high, p.school) for p in places]
        else:
            found = [(template.base, low, high, None)]
        periods = (0, 1) if template.pattern in ("course", "weekend", "single") else (None,)
        return [(*option, period) for option in found for period in periods]

    def activities(
        self,
        municipality: Municipality,
        orgs: list[tuple[OrgSpec, Organisation]],
        places: tuple[Place, ...],
        count: int,
    ) -> None:
        """Spread `count` activities over the organisations, bigger ones getting more."""
        pools = []
        for spec, _org in orgs:
            options = [
                (key, option)
                for key in spec.templates
                for option in self.title_options(demo_data.TEMPLATES[key], places)
            ]
            self.rng.shuffle(options)
            pools.append(options)
        made = 0
        while made < count:
            progressed = False
            for (spec, org), pool in zip(orgs, pools, strict=True):
                for _ in range(spec.size):
                    if pool and made < count:
                        key, option = pool.pop()
                        self.activity(municipality, spec, org, demo_data.TEMPLATES[key], option)
                        made += 1
                        progressed = True
            if not progressed:
                raise DemoError(f"For få aktivitetsmaler for {municipality.name}.")

    def activity(self, municipality, spec: OrgSpec, org: Organisation, template: Template, option):
        """One activity with its schedules, and sometimes a flyer and a Facebook post."""
        rng = self.rng
        title, age_min, age_max, host_school, period = option
        if host_school:
            place = self.school_place(self.schools[host_school])
            step_free = True
        else:
            where = demo_data.VENUES[rng.choice(spec.venues)]
            place = {"name": where.name, "address": where.address}
            step_free = where.step_free

        # About one in ten, chosen without the random generator so that every other generated
        # value stays as it was.
        accessible = step_free and self.made.activities % 7 == 3
        roll = rng.random()
        status = (
            "archived"
            if roll < 0.04
            else "cancelled"
            if roll < 0.08
            else "draft"
            if roll < 0.15
            else "published"
        )
        price = self.price(spec, template)
        created = self.days_ago(20, 200) if status != "archived" else self.days_ago(220, 400)
        activity = Activity(
            organisation=org,
            category=self.categories[template.category],
            title=title,
            summary=template.summary,
            tags=template.tags
            + (",gratis" if price == 0 and "gratis" not in template.tags else ""),
            age_min=age_min,
            age_max=age_max,
            price_nok=price,
            price_note=rng.choice(demo_data.PRICE_NOTES) if price else "",
            **placement(venue_for(org, place, actor=None)),
            accessible=accessible,
            accessibility=ACCESSIBLE_NOTE if accessible else "",
            fritidskort=template.fritidskort and spec.kind != "commercial",
            trial_session=template.trial_session,
            equipment_provided=template.equipment_provided,
            languages="no, en" if rng.random() < 0.15 else "no",
            registration_url=(
                f"https://{spec.key}.example/pamelding" if price and rng.random() < 0.6 else None
            ),
            capacity=rng.choice((10, 12, 15, 16, 20, 24, 25, 30)) if rng.random() < 0.4 else None,
            status=status,
            cancellation_note=rng.choice(demo_data.CANCELLATION_NOTES)
            if status == "cancelled"
            else "",
            created_at=created,
            updated_at=created,
            published_at=created if status != "draft" else None,
        )
        activity.description = self.activity_description(template, activity)
        season = self.past_season if status == "archived" else self.season
        # In the order the stored activity lists them (by start), so that the flyer made below
        # describes the same first schedule as the activity's page.
        for schedule in sorted(self.schedules(template, season, period), key=lambda s: s.dtstart):
            activity.schedules.append(schedule)
        if rng.random() < 0.34:
            handle = self.facebook_page(spec).rsplit("/", 1)[1]
            activity.facebook_post_url = (
                f"https://www.facebook.com/{handle}/posts/{rng.randrange(10**15, 10**17)}"
            )
        if rng.random() < 0.34:
            activity.flyer_filename = self.flyer(activity, org, municipality)
            self.made.flyers += 1
        db.session.add(activity)
        self.made.activities += 1

    def notice(self, spec: NoticeSpec, org: Organisation) -> Activity:
        """A school's own notice about school matters, published, on one day a few weeks ahead."""
        day = self.season.start + timedelta(weeks=spec.weeks_ahead)
        created = self.days_ago(3, 10)
        school = org.school
        activity = Activity(
            organisation=org,
            title=spec.title,
            summary=spec.summary,
            description=spec.description,
            tags="sfo",
            age_min=spec.ages[0],
            age_max=spec.ages[1],
            price_nok=0,
            **placement(
                venue_for(
                    org, self.school_place(school) if school else {"name": org.name}, actor=None
                )
            ),  # fmt: skip
            languages="no",
            status="published",
            school_business=True,
            created_at=created,
            updated_at=created,
            published_at=created,
        )
        activity.schedules.append(
            Schedule(dtstart=datetime.combine(day, time(7, 30)), duration_minutes=540)
        )
        db.session.add(activity)
        self.made.activities += 1
        return activity

    def price(self, spec: OrgSpec, template: Template) -> int:
        """0 (free) or a price in whole kroner, as organisers of this kind charge."""
        paid = (
            100,
            150,
            200,
            250,
            300,
            350,
            400,
            500,
            600,
            750,
            900,
            1000,
            1200,
            1500,
            1800,
            2000,
            2500,
        )
        if template.price == "free" and spec.kind != "commercial":
            return 0
        if spec.kind == "commercial" or template.price == "course":
            return self.rng.choice(paid[6:])
        return 0 if self.rng.random() < 0.35 else self.rng.choice(paid[:12])

    @staticmethod
    def activity_description(template: Template, activity: Activity) -> str:
        """The activity's Markdown description: the template's text and practical details."""
        details = [
            f"- **Sted:** {activity.venue}, {activity.address}",
            f"- **Alder:** {activity.age_min}–{activity.age_max} år",
            f"- **Pris:** {format_price(activity.price_nok)}"
            + (f" {activity.price_note}" if activity.price_note else ""),
        ]
        if template.bring:
            details.append(f"- **Ta med:** {template.bring}")
        return (
            f"{template.text}\n\n**Praktisk informasjon**\n\n"
            + "\n".join(details)
            + "\n\nVelkommen!"
        )

    # --- schedules

    def evening_start(self, duration: int) -> time:
        """A start between 16:00 and 20:00 that ends by 22:00."""
        latest = datetime.combine(date.min, time(22, 0)) - timedelta(minutes=duration)
        starts = [t for t in EVENING_STARTS if t <= latest.time()] or [EVENING_STARTS[0]]
        return self.rng.choice(starts)

    def weekday(self) -> int:
        """Monday to Friday, mostly Monday to Thursday."""
        return self.rng.choice((0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4))

    def schedules(self, template: Template, season: Season, period: int | None) -> list[Schedule]:
        """One or two schedules following the template's pattern within the season.

        `period` 0 or 1 puts a course or a single date in the first or second half of the season.
        """
        rng = self.rng
        pattern = template.pattern
        if pattern == "weekly":
            roll = rng.random()
            pattern = "weekly" if roll < 0.72 else "biweekly" if roll < 0.88 else "single"
        duration = template.duration
        if pattern in ("weekly", "biweekly"):
            weekdays = [self.weekday()]
            if template.expand == "kull" and rng.random() < 0.3:
                weekdays.append((weekdays[0] + 2) % 5)  # a second practice in the week
            start_time = self.evening_start(duration)
            skip_holidays = rng.random() < 0.85
            return [
                self.recurring(
                    season.start + timedelta(days=day),
                    start_time,
                    duration,
                    pattern,
                    season.end,
                    skip_holidays,
                )
                for day in weekdays
            ]
        if pattern == "course":
            weeks = rng.randint(0, 3) if period != 1 else rng.randint(9, 12)
            first = season.start + timedelta(days=self.weekday(), weeks=weeks)
            until = first + timedelta(weeks=7)
            return [
                self.recurring(first, self.evening_start(duration), duration, "weekly", until, True)
            ]
        # A single date: in the first or the second half of what is left of the season.
        middle = season.earliest_single + (season.end - season.earliest_single) / 2
        low, high = (middle, season.end) if period == 1 else (season.earliest_single, middle)
        day = low + timedelta(days=rng.randrange(max(1, (high - low).days)))
        if pattern == "weekend":
            target = 5 if duration >= 24 * 60 else rng.choice((5, 6))
            day += timedelta(days=(target - day.weekday()) % 7)
            if day > season.end:
                day -= timedelta(weeks=1)
            start_time = rng.choice(WEEKEND_STARTS)
        else:
            start_time = self.evening_start(duration)
        return [Schedule(dtstart=datetime.combine(day, start_time), duration_minutes=duration)]

    @staticmethod
    def recurring(
        first: date,
        start_time: time,
        duration: int,
        frequency: str,
        until: date,
        skip_holidays: bool,
    ) -> Schedule:
        """A weekly or biweekly schedule up to `until`, without school holidays when asked."""
        step = timedelta(weeks=2 if frequency == "biweekly" else 1)
        skipped = []
        day = first
        while skip_holidays and day <= until:
            if is_school_holiday(day):
                skipped.append(datetime.combine(day, start_time))
            day += step
        return Schedule(
            dtstart=datetime.combine(first, start_time),
            duration_minutes=duration,
            rrule=build_rrule(frequency, until),
            exdates=format_local_list(skipped),
        )

    # --- flyers

    def flyer(self, activity: Activity, org: Organisation, municipality: Municipality) -> str:
        """Make a one-page A4 PDF flyer for the activity and store it; the stored file's name."""
        from directory.activities.uploads import save_flyer_bytes

        return save_flyer_bytes(make_flyer_pdf(activity, org, municipality, self.rng))


# Logo backgrounds with white text at contrast >= 4.5:1.
LOGO_COLOURS = ((11, 83, 148), (27, 110, 46), (138, 75, 0), (179, 38, 30), (91, 33, 182))


def make_logo_png(name: str, key: str) -> bytes:
    """A 256-pixel square PNG: the name's initials (at most two) in white on a coloured disc."""
    initials = "".join(word[0] for word in name.split() if word[:1].isalnum())[:2].upper()
    colour = LOGO_COLOURS[zlib.crc32(key.encode()) % len(LOGO_COLOURS)]
    image = Image.new("RGB", (256, 256), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.ellipse((8, 8, 248, 248), fill=colour)
    font = ImageFont.load_default(size=96)
    draw.text((128, 128), initials or "?", fill=(255, 255, 255), font=font, anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def make_flyer_pdf(
    activity: Activity, org: Organisation, municipality: Municipality, rng: random.Random
) -> bytes:
    """A one-page A4 flyer: title band, the practical details and a line about the organiser."""
    colours = ((0, 92, 153), (0, 122, 94), (153, 51, 102), (204, 85, 0), (80, 60, 160))
    red, green, blue = rng.choice(colours)
    with force_locale("nb"):  # the flyer's other texts are bokmål, whoever loads the demo
        when = describe_schedule(activity.schedules[0])
    pdf = FPDF(format="A4")
    pdf.core_fonts_encoding = "windows-1252"  # the character set pdf_safe() keeps the text in
    pdf.set_auto_page_break(False)
    pdf.set_title(pdf_safe(activity.title))
    pdf.set_author(pdf_safe(org.name))
    pdf.add_page()
    pdf.set_fill_color(red, green, blue)
    pdf.rect(0, 0, 210, 70, style="F")
    pdf.set_text_color(255, 255, 255)
    pdf.set_font("Helvetica", "B", 30)
    pdf.set_xy(15, 16)
    pdf.multi_cell(
        180, 13, pdf_safe(activity.title), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.set_font("Helvetica", "", 15)
    pdf.set_x(15)
    pdf.multi_cell(180, 8, pdf_safe(org.name), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.set_text_color(20, 20, 20)
    pdf.set_xy(15, 85)
    pdf.set_font("Helvetica", "", 16)
    pdf.multi_cell(
        180, 8, pdf_safe(activity.summary), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    pdf.ln(6)
    details = [
        ("Når", when),
        ("Hvor", f"{activity.venue}, {activity.address}"),
        ("Alder", f"{activity.age_min}–{activity.age_max} år"),
        (
            "Pris",
            format_price(activity.price_nok)
            + (f" {activity.price_note}" if activity.price_note else ""),
        ),
    ]
    if activity.registration_url:
        details.append(("Påmelding", activity.registration_url))
    for label, value in details:
        pdf.set_x(15)
        pdf.set_font("Helvetica", "B", 14)
        pdf.cell(35, 9, pdf_safe(label))
        pdf.set_font("Helvetica", "", 14)
        pdf.multi_cell(145, 9, pdf_safe(value), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(8)
    pdf.set_x(15)
    pdf.set_font("Helvetica", "", 12)
    body = activity.description.split("\n\n")[0]
    pdf.multi_cell(180, 6, pdf_safe(body), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    pdf.set_fill_color(red, green, blue)
    pdf.rect(0, 272, 210, 25, style="F")
    pdf.set_text_color(255, 255, 255)
    pdf.set_font("Helvetica", "", 11)
    pdf.set_xy(15, 278)
    footer = f"{org.name} · {org.email or ''} · Finn flere aktiviteter i {municipality.name} i Aktivitetskatalogen"
    pdf.multi_cell(
        180, 5, pdf_safe(footer.replace("·", "-")), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT
    )
    return bytes(pdf.output())


# --- loading --------------------------------------------------------------------------------


def _refuse_if_present() -> None:
    slugs = [spec.slug for spec in demo_data.MUNICIPALITIES]
    found = db.session.scalar(select(Municipality.slug).where(Municipality.slug.in_(slugs)))
    if found:
        raise DemoError(
            f"Demodataene finnes allerede (kommunen «{found}»). Bruk en tom database, "
            "eller kjør seed-demo --if-empty."
        )
    emails = [a.email for a in DEMO_ACCOUNTS]
    taken = db.session.scalar(select(User.email).where(User.email.in_(emails)))
    if taken:
        raise DemoError(f"Demobrukeren {taken} finnes allerede. Bruk en tom database.")


def _categories() -> dict[str, Category]:
    return add_missing_standard_categories()


def _accounts(demo: _Demo, municipalities: dict[str, Municipality]) -> None:
    admins: dict[str, User] = {}
    for account in DEMO_ACCOUNTS:
        user = create_user(account.email, account.name, account.password)
        if account.role == "municipal_admin":
            user.admin_municipality = municipalities[account.target]
            admins[account.target] = user
        elif account.role in ("owner", "editor"):
            role = "owner" if account.role == "owner" else "editor"
            db.session.add(Membership(user=user, organisation=demo.orgs[account.target], role=role))
        else:
            role = "admin" if account.role == "school_admin" else "staff"
            db.session.add(SchoolStaff(user=user, school=demo.schools[account.target], role=role))
    for org in demo.orgs.values():
        if org.verification == "verified":
            org.verified_by_id = admins[org.municipality.slug].id


def _policies(demo: _Demo, municipality: Municipality, policies: dict[str, dict]) -> None:
    """The municipal default channel policy and the demo schools' own policies (the README shows
    their files)."""
    from directory.policy.channel_policy import default_settings
    from directory.schools.models import ChannelPolicy

    db.session.add(ChannelPolicy(municipality_id=municipality.id, settings=default_settings()))
    for name, settings in policies.items():
        school = demo.schools[name]
        db.session.add(
            ChannelPolicy(municipality_id=municipality.id, school_id=school.id, settings=settings)
        )


# --- distribution requests ------------------------------------------------------------------


@dataclass
class _PlannedRequest:
    """One request the demo sends: where, in which week and channel, and the state it ends in."""

    activity: Activity
    school: School
    week: str
    channel: str
    state: str
    request: DistributionRequest | None = None
    sender: User | None = None
    sent_at: datetime | None = None


def _demo_users(roles: tuple[str, ...]) -> dict[str, list[User]]:
    """The demo accounts with one of `roles`, by their target (organisation key or school name)."""
    emails = [a.email for a in DEMO_ACCOUNTS if a.role in roles]
    users = {u.email: u for u in db.session.scalars(select(User).where(User.email.in_(emails)))}
    found: dict[str, list[User]] = {}
    for account in DEMO_ACCOUNTS:
        if account.role in roles:
            found.setdefault(account.target, []).append(users[account.email])
    return found


def _within_quota(states: tuple[str, ...], quota: int) -> list[str]:
    """The planned states without the approvals beyond the school's weekly quota."""
    kept, holding = [], 0
    for state in states:
        if state in QUOTA_STATES:
            if holding >= quota:
                continue
            holding += 1
        kept.append(state)
    return kept


def _plan_requests(
    demo: _Demo, rng: random.Random, weeks: list[tuple[str, date]], organisers, reviewers
) -> list[_PlannedRequest]:
    """For each school with demo staff and each week, the requests of REQUEST_PLAN per channel,
    with published activities of the demo organisers that the routing rule sends there."""
    from directory.policy.routing import WeekUsage, decide
    from directory.schools.routing import offer_for, policy_for, school_info

    org_ids = [demo.orgs[key].id for key in organisers]
    activities = db.session.scalars(
        select(Activity)
        .where(Activity.organisation_id.in_(org_ids), Activity.status == "published")
        .order_by(Activity.id)
    ).all()
    offers = {a.id: offer_for(a) for a in activities}
    plan = []
    for name in reviewers:
        school = demo.schools[name]
        info, policy = school_info(school), policy_for(school)
        used: set[int] = set()
        for week, monday in weeks:
            if week in policy.holiday_weeks:
                continue  # the schools take no requests in a holiday week
            week_start = datetime.combine(monday, time(0, 0), tzinfo=OSLO)
            usage = WeekUsage(week=week)  # nothing is approved yet, so every place is free
            by_channel: dict[str, list[Activity]] = {}
            for activity in activities:
                if activity.organisation.municipality_id != school.municipality_id:
                    continue
                if next_start(activity.schedules, after=week_start) is None:
                    continue  # over before the week starts
                channel = decide(offers[activity.id], info, policy, usage).channel
                if is_requestable(channel):
                    by_channel.setdefault(channel, []).append(activity)
            for channel, states in demo_data.REQUEST_PLAN.items():
                candidates = by_channel.get(channel, [])
                rng.shuffle(candidates)
                candidates.sort(key=lambda a: a.id in used)  # the other week's offers last
                if channel == "backpack_post":
                    states = _within_quota(states, policy.backpack_weekly_quota)
                for state, activity in zip(states, candidates, strict=False):
                    used.add(activity.id)
                    plan.append(_PlannedRequest(activity, school, week, channel, state))
    return plan


def _send_requests(
    plan: list[_PlannedRequest], rng: random.Random, demo: _Demo, organisers, now: datetime
) -> None:
    """The organisers send the planned requests, one activity and week to its schools at once."""
    keys = {org.id: key for key, org in demo.orgs.items()}
    groups: dict[tuple[str, int], list[_PlannedRequest]] = {}
    for item in plan:
        groups.setdefault((item.week, item.activity.id), []).append(item)
    for (week, _activity_id), items in groups.items():
        activity = items[0].activity
        sender = rng.choice(organisers[keys[activity.organisation_id]])
        created = create_requests(
            activity, [SchoolChoice(item.school) for item in items], week, actor=sender
        )
        answered = any(item.state != "pending" for item in items)
        # Answered requests were sent some days ago; those still waiting more recently.
        sent_at = now - (
            timedelta(minutes=rng.randint(60 * 60, 144 * 60))
            if answered
            else timedelta(minutes=rng.randint(2 * 60, 48 * 60))
        )
        for item, req in zip(items, created, strict=True):
            item.request, item.sender, item.sent_at = req, sender, sent_at


# The file a school's staff would most often download per channel, for the audit record.
_EXPORT_FORMATS = {"school_messaging": "txt", "facebook_share": "html", "backpack_post": "pdf"}


def _mark_exported(req: DistributionRequest, *, actor: User) -> None:
    """Mark an approved request exported and audit it as the school's export does, without
    building the file (directory.exports builds it the same way whenever it is downloaded)."""
    if not transition(req.status, "export").allowed:
        return  # its approval was refused, so it stays where it is
    mark_exported(
        [req],
        actor=actor,
        municipality_id=req.school.municipality_id,
        data={
            "week": req.week,
            "channel": req.channel,
            "format": _EXPORT_FORMATS[req.channel],
            "source": "demo",
        },
    )


def _answer_requests(plan: list[_PlannedRequest], rng: random.Random, reviewers) -> None:
    """The schools' staff approve and reject, the organisers withdraw, and the staff export."""
    for item in plan:
        req = item.request
        reviewer = rng.choice(reviewers[item.school.name])
        if item.state in QUOTA_STATES:
            try:
                approve_request(req, actor=reviewer)
            except RequestError:
                continue  # the rule's re-check has the last word; the request stays pending
        elif item.state == "rejected":
            reject_request(req, rng.choice(demo_data.REJECTION_REASONS), actor=reviewer)
        elif item.state == "withdrawn":
            withdraw_request(req, actor=item.sender)
    batches: dict[tuple[int, str, str], list[_PlannedRequest]] = {}
    for item in plan:
        if item.state == "exported":
            batches.setdefault((item.school.id, item.week, item.channel), []).append(item)
    for items in batches.values():
        exporter = rng.choice(reviewers[items[0].school.name])
        for item in items:
            _mark_exported(item.request, actor=exporter)


def _backdate_requests(plan: list[_PlannedRequest], rng: random.Random, now: datetime) -> None:
    """Give the requests and their audit events the moments of a few days' work up to now.

    A channel's export of a week comes after its first approvals; a request approved after the
    export stays approved, waiting for the next export.
    """
    latest = now - timedelta(minutes=15)

    def hours_after(moment: datetime, low: int, high: int) -> datetime:
        return min(moment + timedelta(minutes=rng.randint(low * 60, high * 60)), latest)

    exported_at: dict[tuple[int, str, str], datetime] = {}
    for item in plan:
        req = item.request
        if req.status == "exported":
            req.reviewed_at = hours_after(item.sent_at, 2, 20)
            key = (req.school_id, req.week, req.channel)
            exported_at[key] = max(exported_at.get(key, req.reviewed_at), req.reviewed_at)
    for key, reviewed in exported_at.items():
        exported_at[key] = hours_after(reviewed, 1, 8)
    moments: dict[int, dict[str, datetime]] = {}
    for item in plan:
        req = item.request
        key = (req.school_id, req.week, req.channel)
        req.created_at = item.sent_at
        acts = {"request.create": item.sent_at}
        if req.status == "exported":
            req.exported_at = exported_at[key]
            acts["request.approve"] = req.reviewed_at
            acts["request.export"] = req.exported_at
        elif req.status == "approved":
            earliest = max(item.sent_at, exported_at.get(key, item.sent_at))
            req.reviewed_at = hours_after(earliest, 1, 30)
            acts["request.approve"] = req.reviewed_at
        elif req.status == "rejected":
            req.reviewed_at = hours_after(item.sent_at, 2, 40)
            acts["request.reject"] = req.reviewed_at
        elif req.status == "withdrawn":
            acts["request.withdraw"] = hours_after(item.sent_at, 1, 30)
        moments[req.id] = acts
    events = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.object_type == DistributionRequest.__name__,
            AuditEvent.object_id.in_(moments),
        )
    )
    for event in events:
        moment = moments[event.object_id].get(event.action)
        if moment is not None:
            event.created_at = moment


def request_weeks(today: date, closed: frozenset[str] = frozenset()) -> list[tuple[str, date]]:
    """The two weeks the demo's requests are for, with their Mondays: this week and the next,
    or the first weeks after them that no school holiday closes."""
    monday = today - timedelta(days=today.weekday())
    weeks: list[tuple[str, date]] = []
    while len(weeks) < 2:
        if iso_week(monday) not in closed:
            weeks.append((iso_week(monday), monday))
        monday += timedelta(weeks=1)
    return weeks


def _requests(demo: _Demo, seed: int) -> int:
    """Distribution requests in every state for this week and the next (holiday weeks skipped),
    at the schools with demo staff accounts, sent by the demo organisers; the number of requests."""
    rng = random.Random(f"requests-{seed}")  # its own generator: the rest of the demo stays put
    organisers = _demo_users(("owner", "editor"))
    reviewers = _demo_users(("school_admin", "school_staff"))
    from directory.schools.calendar import closed_weeks

    municipality_ids = {demo.schools[name].municipality_id for name in reviewers}
    closed = frozenset().union(*(closed_weeks(mid) for mid in municipality_ids))
    weeks = request_weeks(demo.now.date(), closed)
    organisers = {key: users for key, users in organisers.items() if key in demo.orgs}
    plan = _plan_requests(demo, rng, weeks, organisers, reviewers)
    _send_requests(plan, rng, demo, organisers, demo.now.astimezone(UTC))
    _answer_requests(plan, rng, reviewers)
    _backdate_requests(plan, rng, demo.now.astimezone(UTC))
    db.session.flush()
    return len(plan)


# --- listings that stay current (issue 14) ----------------------------------------------------

# Days from today of the confirmation dates a few published offers get, the demo organisers'
# first: two near (the 3- and 14-day reminders are due), two past (expired: off the lists).
LISTING_OFFSETS = (2, 10, -4, -30)


def _plain(activity: Activity) -> bool:
    """An ordinary offer: none of the things the other demo journeys look for (a flyer, a
    trial session, a Facebook post, a sign-up link, step-free access, football, school notices),
    so that expiring it takes nothing from them."""
    return not (
        activity.school_business
        or activity.flyer_filename
        or activity.trial_session
        or activity.facebook_post_url
        or activity.registration_url
        or activity.accessible
        or "fotball" in activity.title.casefold()
    )


def _listing_dates(demo: _Demo) -> None:
    """Every public activity confirmed until the season's end; a few near and past their date,
    among published offers no school has been asked about (without the random generator)."""
    today = demo.now.astimezone(OSLO).date()
    public = db.session.scalars(
        select(Activity).where(Activity.status.in_(PUBLIC_STATES)).order_by(Activity.id)
    ).all()
    for activity in public:
        activity.confirmed_until = default_confirmed_until(today)
    asked = set(db.session.scalars(select(DistributionRequest.activity_id)))
    organisers = {demo.orgs[key].id for key in _demo_users(("owner", "editor")) if key in demo.orgs}
    candidates = sorted(
        (a for a in public if a.status == "published" and a.id not in asked and _plain(a)),
        key=lambda a: (a.organisation_id not in organisers, a.id),
    )
    for activity, days in zip(candidates, LISTING_OFFSETS, strict=False):
        activity.confirmed_until = today + timedelta(days=days)
    db.session.flush()


# Published offers of each translated template that get the text in other languages.
TRANSLATED_PER_TEMPLATE = 2
_KULL = re.compile(r"for (\d{4})-kullet")


def _translated_title(entry: dict, rest: str) -> str | None:
    """The title in another language of an offer whose title is the template's base plus
    `rest` (the demo's variation), or None when the entry has no words for the variation."""
    if not rest:
        return entry["title"]
    kull = _KULL.fullmatch(rest)
    if kull and "kull" in entry:
        return f"{entry['title']} – {entry['kull'].format(year=kull.group(1))}"
    level = entry.get("levels", {}).get(rest)
    return f"{entry['title']} {level}" if level else None


def _translations(demo: _Demo) -> int:
    """The text in other languages (translations.toml) for the first published offers of a
    few templates that stay current through the demo's first weeks. Returns how many."""
    data = tomllib.loads(files(demo_data).joinpath("translations.toml").read_text("utf-8"))
    today = demo.now.astimezone(OSLO).date()
    published = db.session.scalars(
        select(Activity).where(Activity.status == "published").order_by(Activity.id)
    ).all()
    made = 0
    for key, languages in data.items():
        base = demo_data.TEMPLATES[key].base
        chosen = 0
        for activity in published:
            if chosen == TRANSLATED_PER_TEMPLATE:
                break
            if not (activity.title == base or activity.title.startswith(base + " ")):
                continue
            soon = today + timedelta(days=21)
            if activity.confirmed_until is not None and activity.confirmed_until < soon:
                continue  # near or past its date: kept for the listings part of the demo
            rest = activity.title[len(base) :].strip()
            texts = {code: _translated_title(entry, rest) for code, entry in languages.items()}
            if None in texts.values():
                continue
            for code, entry in languages.items():
                activity.translations.append(
                    ActivityTranslation(
                        language=code,
                        title=texts[code],
                        summary=entry["summary"],
                        description=entry["description"],
                    )
                )
                made += 1
            chosen += 1
    db.session.flush()
    return made


def load_demo(*, seed: int = SEED, now: datetime | None = None) -> DemoSummary:
    """Add the demo data to the session (flushed, not committed). Raises DemoError."""
    _refuse_if_present()
    demo = _Demo(random.Random(seed), now or oslo_now(), _categories())
    municipalities = {spec.slug: demo.municipality(spec) for spec in demo_data.MUNICIPALITIES}
    _accounts(demo, municipalities)
    db.session.flush()
    for spec in demo_data.MUNICIPALITIES:
        if spec.policies:
            _policies(demo, municipalities[spec.slug], spec.policies)
        if spec.holidays:
            _school_calendar(municipalities[spec.slug], spec, demo.now.date())
    db.session.flush()
    requests = _requests(demo, seed)
    add_demo_counts(seed, demo.now.date())  # visits through the exported requests' links
    _listing_dates(demo)
    _translations(demo)
    drammen = municipalities["drammen"]
    summary = DemoSummary(
        municipalities=len(municipalities),
        schools=demo.made.schools,
        organisations=demo.made.organisations,
        activities=demo.made.activities,
        flyers=demo.made.flyers,
        categories=len(STANDARD_CATEGORIES),
        requests=requests,
        accounts=DEMO_ACCOUNTS,
    )
    record(
        "demo.seed",
        drammen,
        actor=None,
        municipality_id=drammen.id,
        data={
            "municipalities": summary.municipalities,
            "schools": summary.schools,
            "organisations": summary.organisations,
            "activities": summary.activities,
            "flyers": summary.flyers,
            "requests": summary.requests,
        },
    )
    db.session.flush()
    return summary
