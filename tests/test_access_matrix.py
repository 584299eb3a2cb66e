"""Who may do what: every route that changes data, and every page that shows non-public data,
tried by every role, with the expected answer written down in one table.

The table (CASES) is the single source of truth. A meta-test walks the application's URL map and
fails when a route that accepts POST (or a GET page for editing, members, administration or
management) has no entry here, so a new route cannot ship without a decision about who may use it.

For every refused request the whole stored state (every table but the login sessions) must be
exactly as before; for every allowed request that is meant to change something, it must differ,
which shows the refused requests would have changed data had they been let through.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from directory.accounts.models import PasswordReset, User
from directory.accounts.tokens import hash_token
from directory.activities.models import Activity, ActivityTranslation
from directory.approvals.display import upcoming_weeks
from directory.approvals.models import DistributionRequest
from directory.extensions import db
from directory.organisations.models import Invitation, Membership
from directory.schools.models import School, SchoolInvitation, SchoolStaff
from directory.storage import upload_storage
from directory.timeutil import utcnow
from tests.conftest import (
    PASSWORD,
    new_activity,
    new_organisation,
    next_weekday_at,
    open_registration_link,
    quick_user,
    sign_in,
)

# --- outcomes and roles ------------------------------------------------------------------------

OK = "allowed"  # 2xx, or a redirect that is not to the login page
LOGIN = "login-redirect"  # 302 to /login?next=...
FORBIDDEN = "forbidden"  # 403
HIDDEN = "hidden"  # 404: the object's existence is not revealed

ROLES = (
    "anonymous",
    "owner_a",  # owner of organisation A
    "editor_a",  # editor of organisation A
    "owner_b",  # owner of organisation B, same municipality
    "admin_a",  # municipal admin of A's municipality
    "admin_other",  # municipal admin of another municipality
    "school_staff",  # school admin at a school in A's municipality
    "other_staff",  # staff at another school of the same municipality
)


def outcomes(default: str, **by_role: str) -> dict[str, str]:
    """An expectation for every role: `default` unless named."""
    unknown = set(by_role) - set(ROLES)
    assert not unknown, unknown
    return {role: by_role.get(role, default) for role in ROLES}


# Organisation A's own pages and actions: its owners and editors only.
A_MEMBERS = outcomes(FORBIDDEN, anonymous=LOGIN, owner_a=OK, editor_a=OK)
# Member management: owners only.
A_OWNERS = outcomes(FORBIDDEN, anonymous=LOGIN, owner_a=OK)
# Admin pages: any municipal admin (each sees only their own municipality there).
ANY_ADMIN = outcomes(FORBIDDEN, anonymous=LOGIN, admin_a=OK, admin_other=OK)
# Verifying A: only its own municipality's admin; to another admin A does not exist.
A_ADMIN = outcomes(FORBIDDEN, anonymous=LOGIN, admin_a=OK, admin_other=HIDDEN)
# A draft of A: its members and its municipality's admin; nobody else learns it exists.
A_DRAFT = outcomes(HIDDEN, owner_a=OK, editor_a=OK, admin_a=OK)
# An organiser-only page or action of A's draft: its members; the admin, who may see the draft,
# is refused; to everyone else the id is as unknown as on the draft's public page.
A_DRAFT_MEMBERS = outcomes(HIDDEN, anonymous=LOGIN, owner_a=OK, editor_a=OK, admin_a=FORBIDDEN)
# A school's channel policy: its own admin and its municipality's admin; hidden from others' admins.
SCHOOL_POLICY = outcomes(
    FORBIDDEN, anonymous=LOGIN, admin_a=OK, admin_other=HIDDEN, school_staff=OK
)
EVERYONE = outcomes(OK)
# A public venue added by A: its municipality's admin and A's owners and editors correct it.
VENUE_EDITORS = outcomes(FORBIDDEN, anonymous=LOGIN, owner_a=OK, editor_a=OK, admin_a=OK)
# A venue only A's draft names: unknown to everyone but them.
DRAFT_VENUE_EDITORS = outcomes(HIDDEN, anonymous=LOGIN, owner_a=OK, editor_a=OK, admin_a=OK)
SIGNED_IN = outcomes(OK, anonymous=LOGIN)
# Organisation B's requests to the schools: its members only.
B_MEMBERS = outcomes(FORBIDDEN, anonymous=LOGIN, owner_b=OK)
# A school's staff page: its admins and its municipality's admin; plain staff are refused.
SCHOOL_STAFF_ADMINS = SCHOOL_POLICY
# A school invitation's link: whoever holds it may create the invited account; a signed-in
# user may accept only when the invitation was sent to their own address (none here).
SCHOOL_INVITEE = outcomes(FORBIDDEN, anonymous=OK)
# A school's requests and exports: its own staff only; to another municipality it does not exist.
SCHOOL_STAFF = outcomes(FORBIDDEN, anonymous=LOGIN, school_staff=OK, admin_other=HIDDEN)
# Another school's request under this school's address: not there, even for this school's staff.
OTHER_SCHOOLS_REQUEST = outcomes(
    FORBIDDEN, anonymous=LOGIN, school_staff=HIDDEN, admin_other=HIDDEN
)


# --- the world every case runs in ----------------------------------------------------------------


def REQUEST_WEEK() -> str:  # noqa: N802 - a constant that depends on today
    """The week the world's requests are for: next week."""
    return upcoming_weeks()[1]


INVITATION_TOKEN = "invitasjon-til-a-" + "k" * 30
DRAFT_IMAGE = "ab" * 16 + ".png"
REJECTED_LOGO = "cd" * 16 + ".png"  # the logo of a rejected organisation (issue 13)


@dataclass
class World:
    """Organisations A and B in one municipality, a second municipality, a school, activities."""

    municipality: object
    other_municipality: object
    org_a: object
    org_b: object
    rejected_org: object
    school: object
    published: Activity
    draft: Activity
    colleague: User  # an editor of A, the target of the member actions
    colleague_membership: Membership
    invitation: Invitation  # A's open invitation (INVITATION_TOKEN)
    other_school: School
    offer_b: Activity  # B's offer with a flyer: backpack post at the school
    pending: DistributionRequest  # B asks the school (this week + 1)
    approved: DistributionRequest  # B's other offer, approved at the school, ready to export
    elsewhere: DistributionRequest  # B asks the other school
    venue_a: object = None  # added by A, where A's published activity is (issue 13)
    draft_venue: object = None  # added by A, named only by A's draft: not public


@pytest.fixture
def world(app, municipality, make_municipality):
    other = make_municipality(slug="lier", name="Lier")
    org_a = new_organisation(municipality, "Organisasjon A", verification="pending")
    org_b = new_organisation(municipality, "Organisasjon B")
    rejected = new_organisation(
        municipality,
        "Avvist organisasjon",
        verification="rejected",
        rejection_reason="Ikke reell",
        logo_filename=REJECTED_LOGO,
    )
    school = School(
        municipality=municipality, slug="fjell-skole", name="Fjell skole", grade_min=1, grade_max=7
    )
    db.session.add(school)
    published = new_activity(org_a, "Publisert aktivitet", venue="A-hallen", address="Hallveien 1")
    draft = new_activity(
        org_a,
        "Hemmelig utkast",
        status="draft",
        image_filename=DRAFT_IMAGE,
        image_alt="Et bilde",
        venue="Utkastbua",
    )
    upload_storage().put(DRAFT_IMAGE, b"\x89PNG\r\n\x1a\n", "image/png")
    upload_storage().put(REJECTED_LOGO, b"\x89PNG\r\n\x1a\n", "image/png")
    colleague = quick_user("kollega")
    membership = Membership(user=colleague, organisation=org_a, role="editor")
    db.session.add(membership)
    invitation = Invitation(
        organisation=org_a,
        email="invitert@example.org",
        role="editor",
        token_hash=hash_token(INVITATION_TOKEN),
        expires_at=utcnow() + timedelta(days=7),
    )
    db.session.add(invitation)
    other_school = School(
        municipality=municipality,
        slug="danvik-skole",
        name="Danvik skole",
        grade_min=1,
        grade_max=7,
    )
    db.session.add(other_school)
    offer_b = new_activity(org_b, "Tilbud fra B", flyer_filename="b-flyer.pdf")
    second_b = new_activity(org_b, "Et annet tilbud fra B", flyer_filename="b-flyer-2.pdf")
    week = REQUEST_WEEK()

    def request(activity, at_school, status):
        req = DistributionRequest(
            activity=activity,
            school=at_school,
            week=week,
            channel="backpack_post",
            rule="backpack",
            reasons=["Ranselpost."],
            grades=[3, 4],
            status=status,
        )
        db.session.add(req)
        return req

    pending = request(offer_b, school, "pending")
    approved = request(second_b, school, "approved")
    elsewhere = request(offer_b, other_school, "pending")
    db.session.commit()
    return World(
        municipality=municipality,
        other_municipality=other,
        org_a=org_a,
        org_b=org_b,
        rejected_org=rejected,
        school=school,
        published=published,
        draft=draft,
        colleague=colleague,
        colleague_membership=membership,
        invitation=invitation,
        other_school=other_school,
        offer_b=offer_b,
        pending=pending,
        approved=approved,
        elsewhere=elsewhere,
        venue_a=published.place,
        draft_venue=draft.place,
    )


def make_role_user(role: str, w: World) -> User | None:
    """Only the one user the role needs."""
    if role == "anonymous":
        return None
    if role == "admin_a":
        user = quick_user(role, admin_municipality_id=w.municipality.id)
    elif role == "admin_other":
        user = quick_user(role, admin_municipality_id=w.other_municipality.id)
    else:
        user = quick_user(role)
    if role in ("owner_a", "editor_a"):
        db.session.add(Membership(user=user, organisation=w.org_a, role=role.split("_")[0]))
    elif role == "owner_b":
        db.session.add(Membership(user=user, organisation=w.org_b, role="owner"))
    elif role == "school_staff":
        db.session.add(SchoolStaff(user=user, school=w.school, role="admin"))
    elif role == "other_staff":
        db.session.add(SchoolStaff(user=user, school=w.other_school, role="staff"))
    db.session.commit()
    return user


# --- request bodies ----------------------------------------------------------------------------


def activity_form(w: World, **overrides) -> dict:
    """A complete, valid activity form."""
    first = next_weekday_at(2, 18).date()
    data = {
        "title": "Ny tittel fra skjemaet",
        "summary": "Kort om det",
        "description": "Mer om det",
        "category_id": "",
        "tags": "",
        "age_min": "6",
        "age_max": "10",
        "price_nok": "0",
        "price_note": "",
        "venue": "Hallen",
        "address": "Gata 1",
        "latitude": "",
        "longitude": "",
        "accessibility": "",
        "languages": "norsk",
        "registration_url": "",
        "facebook_post_url": "",
        "capacity": "",
        "image_alt": "",
        "first_date": first.isoformat(),
        "start_time": "18:00",
        "end_time": "19:00",
        "repeat": "once",
        "until": "",
        "except_dates": "",
        "extra_dates": "",
    }
    data.update(overrides)
    return data


def venue_form(w: World) -> dict:
    return {
        "name": "A-hallen (ny)",
        "address": "Hallveien 1",
        "latitude": "59,7440",
        "longitude": "10,2045",
        "accessibility": "Trinnfri inngang.",
        "version": str(w.venue_a.version),
    }


NEW_VENUE_FORM = {"name": "Kommunens nye hall", "address": "Nyveien 2", "latitude": "",
                  "longitude": "", "accessibility": ""}  # fmt: skip


def organisation_form(w: World) -> dict:
    return {
        "name": "Nytt navn på A",
        "description": "Endret beskrivelse",
        "website_url": "https://a.example.org",
        "facebook_page_url": "",
        "email": "",
        "phone": "",
        "org_number": "",
        "version": str(w.org_a.version),
    }


def registration_form(w: World) -> dict:
    return {
        "name": "Nora Ny",
        "email": "nora.ny@example.org",
        "password": "et-langt-passord-1",
        "password_repeat": "et-langt-passord-1",
        "org_name": "Nytt lag",
        "kind": "volunteer",
        "municipality": str(w.municipality.id),
    }


def account_form(w: World) -> dict:
    return {
        "name": "Invitert Person",
        "password": "et-langt-passord-2",
        "password_repeat": "et-langt-passord-2",
    }


def school_form(w: World, **overrides) -> dict:
    """A complete, valid school form (the municipal admin's)."""
    from directory.schools.operations import school_fingerprint

    data = {
        "name": "Ny skole fra skjemaet",
        "org_number": "",
        "grade_min": "1",
        "grade_max": "4",
        "area": "Sentrum",
        "address": "Skoleveien 1",
        "latitude": "",
        "longitude": "",
        "facebook_page_url": "",
        "accepts_backpack_post": "y",
        **{f"classes_{g}": "2" for g in range(1, 5)},
        **{f"pupils_{g}": "40" for g in range(1, 5)},
        "version": school_fingerprint(w.school),
    }
    data.update(overrides)
    return data


def settings_form(w: World) -> dict:
    """The municipality settings form, stamped with the signed-in admin's own municipality
    (the newest user is the role's; any admin edits only their own municipality)."""
    from directory.admin.operations import municipality_fingerprint
    from directory.schools.models import Municipality

    newest = db.session.scalar(select(User).order_by(User.id.desc()).limit(1))
    municipality_id = (newest and newest.admin_municipality_id) or w.municipality.id
    municipality = db.session.get(Municipality, municipality_id)
    return {
        "name": municipality.name + " kommune",
        "messaging_label": "Vigilo",
        "org_number": "",
        "contact_email": "personvern@example.org",
        "version": municipality_fingerprint(municipality),
    }


def matrix_category(hidden: bool = False) -> int:
    """A shared category's id (created once, before the case's snapshot is taken)."""
    from directory.activities.models import Category

    slug = "matrise-skjult" if hidden else "matrise"
    category = db.session.scalar(select(Category).where(Category.slug == slug))
    if category is None:
        category = Category(slug=slug, name_nb=slug, name_nn=slug, name_en=slug, hidden=hidden)
        db.session.add(category)
        db.session.commit()
    return category.id


HOLIDAY_FORM = {"name": "Vinterferie", "first_day": "2027-02-22", "last_day": "2027-02-26"}


def matrix_holiday(w: World) -> int:
    """A school holiday of A's municipality (created once, before the case's snapshot)."""
    from datetime import date

    from directory.schools.models import SchoolHoliday

    holiday = db.session.scalar(
        select(SchoolHoliday).where(SchoolHoliday.municipality_id == w.municipality.id)
    )
    if holiday is None:
        holiday = SchoolHoliday(
            municipality_id=w.municipality.id,
            school_year="2026-2027",
            name="Høstferie",
            first_day=date(2026, 9, 28),
            last_day=date(2026, 10, 2),
        )
        db.session.add(holiday)
        db.session.commit()
    return holiday.id


def calendar_upload(w: World) -> dict:
    """A one-holiday school calendar file to upload."""
    import io

    text = "school_year,name,first_day,last_day\n2026-2027,Vinterferie,2027-02-22,2027-02-26\n"
    return {"calendar_file": (io.BytesIO(text.encode()), "skolerute.csv")}


CATEGORY_FORM = {"name_nb": "Friluft", "name_nn": "Friluft", "name_en": "Outdoor life"}


def category_form(w: World) -> dict:
    """The rename form of the matrix's category, carrying its stored names' fingerprint."""
    from directory.activities.models import Category
    from directory.admin.operations import category_fingerprint

    category = db.session.get(Category, matrix_category())
    return {**CATEGORY_FORM, "version": category_fingerprint(category)}


NEW_PASSWORD = "et nytt og langt passord"
PASSWORD_RESET_TOKEN = "passordlenke-" + "p" * 30


def _password_reset_link(w: World) -> str:
    """The colleague's open password-reset link (PASSWORD_RESET_TOKEN), made on first use."""
    token_hash = hash_token(PASSWORD_RESET_TOKEN)
    if db.session.scalar(select(PasswordReset.id).where(PasswordReset.token_hash == token_hash)):
        return f"/account/password/reset/{PASSWORD_RESET_TOKEN}"
    db.session.add(
        PasswordReset(
            user_id=w.colleague.id, token_hash=token_hash, expires_at=utcnow() + timedelta(hours=1)
        )
    )
    db.session.commit()
    return f"/account/password/reset/{PASSWORD_RESET_TOKEN}"


def _registration_link(w: World) -> str:
    """An open registration link for a new address, made on first use."""
    return open_registration_link(w.municipality.id)


# --- the table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One route, how to call it, and what each role gets."""

    endpoint: str
    method: str
    path: Callable[[World], str]
    expect: dict[str, str]
    data: Callable[[World], dict] | None = None
    changes: bool = True  # whether an allowed POST changes stored data
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.method} {self.endpoint}{'-' + self.label if self.label else ''}"


def _a(w: World) -> str:
    return w.org_a.slug


SCHOOL_INVITATION_TOKEN = "skoleinvitasjon-" + "s" * 30


def _school_colleague(w: World) -> int:
    """A plain staff member of the school, the target of the staff actions (made on first use)."""
    colleague = db.session.scalar(select(User).where(User.name == "Laerer"))
    if colleague is None:
        colleague = quick_user("laerer")
        db.session.add(SchoolStaff(user=colleague, school=w.school, role="staff"))
        db.session.commit()
    return db.session.scalar(select(SchoolStaff.id).where(SchoolStaff.user_id == colleague.id))


def _school_invitation(w: World) -> int:
    """The school's open invitation (SCHOOL_INVITATION_TOKEN), made on first use."""
    invitation = db.session.scalar(
        select(SchoolInvitation).where(
            SchoolInvitation.token_hash == hash_token(SCHOOL_INVITATION_TOKEN)
        )
    )
    if invitation is None:
        invitation = SchoolInvitation(
            school_id=w.school.id,
            email="ny.laerer@example.org",
            role="staff",
            token_hash=hash_token(SCHOOL_INVITATION_TOKEN),
            expires_at=utcnow() + timedelta(days=7),
        )
        db.session.add(invitation)
        db.session.commit()
    return invitation.id


def _staff_account(w: World, *, active: bool = True) -> int:
    """A staff account at the school, the target of the account administration (an active one
    with the second step on, or a deactivated one), made on first use."""
    name = "Kontoansatt" if active else "Deaktivert"
    account = db.session.scalar(select(User).where(User.name == name))
    if account is None:
        account = quick_user(name.lower(), active=active)
        account.totp_secret = "JBSWY3DPEHPK3PXP" if active else None
        account.totp_enabled_at = utcnow() if active else None
        db.session.add(SchoolStaff(user=account, school=w.school, role="staff"))
        db.session.commit()
    return account.id


def _school_invitation_link(w: World) -> str:
    _school_invitation(w)
    return f"/schools/invitations/{SCHOOL_INVITATION_TOKEN}"


def _listing_link(w: World) -> str:
    """The «Fortsatt aktuell» link of A's published activity, as e-mailed to A's editor."""
    from directory.activities.listings import confirmation_token

    return f"/listings/confirm/{confirmation_token(w.published, w.colleague.id)}"


CASES: tuple[Case, ...] = (
    # accounts
    Case("accounts.dashboard", "GET", lambda w: "/account", SIGNED_IN),
    Case(
        "accounts.login",
        "POST",
        lambda w: "/login",
        EVERYONE,
        data=lambda w: {"email": w.colleague.email, "password": PASSWORD},
    ),
    Case("accounts.logout", "POST", lambda w: "/logout", EVERYONE, changes=False),
    Case("accounts.register", "POST", lambda w: "/register", EVERYONE, data=registration_form),
    # the e-mailed link that completes a registration (the link is the key)
    Case("accounts.confirm_registration", "GET", _registration_link, EVERYONE),
    Case("accounts.confirm_registration", "POST", _registration_link, EVERYONE, data=lambda w: {}),  # its GET is the page with the button
    # activities: the organiser's pages
    Case("activities.list_manage", "GET", lambda w: f"/organisations/{_a(w)}/activities", A_MEMBERS),
    Case("activities.new_activity", "GET", lambda w: f"/organisations/{_a(w)}/activities/new", A_MEMBERS),
    Case(
        "activities.new_activity",
        "POST",
        lambda w: f"/organisations/{_a(w)}/activities/new",
        A_MEMBERS,
        data=activity_form,
    ),
    Case("activities.edit_activity", "GET", lambda w: f"/activities/{w.published.id}/edit", A_MEMBERS),
    Case(
        "activities.edit_activity",
        "GET",
        lambda w: f"/activities/{w.draft.id}/edit",
        A_DRAFT_MEMBERS,
        label="draft",
    ),
    Case(
        "activities.edit_activity",
        "POST",
        lambda w: f"/activities/{w.draft.id}/edit",
        A_DRAFT_MEMBERS,
        data=lambda w: activity_form(w, version=str(w.draft.version), image_alt="Et bilde"),
        label="draft",
    ),
    Case(
        "activities.edit_activity",
        "POST",
        lambda w: f"/activities/{w.published.id}/edit",
        A_MEMBERS,
        data=lambda w: activity_form(w, version=str(w.published.version)),
    ),
    Case("activities.publish_activity", "POST", lambda w: f"/activities/{w.draft.id}/publish", A_DRAFT_MEMBERS, data=lambda w: {"version": w.draft.version}),
    Case("activities.archive_activity", "POST", lambda w: f"/activities/{w.draft.id}/archive", A_DRAFT_MEMBERS, label="draft", data=lambda w: {"version": w.draft.version}),
    Case("activities.copy_activity", "POST", lambda w: f"/activities/{w.draft.id}/copy", A_DRAFT_MEMBERS, label="draft"),
    Case("activities.unpublish_activity", "POST", lambda w: f"/activities/{w.published.id}/unpublish", A_MEMBERS, data=lambda w: {"version": w.published.version}),
    Case(
        "activities.cancel_activity",
        "POST",
        lambda w: f"/activities/{w.published.id}/cancel",
        A_MEMBERS,
        data=lambda w: {"note": "Avlyst på grunn av vær", "version": w.published.version},
    ),
    Case("activities.archive_activity", "POST", lambda w: f"/activities/{w.published.id}/archive", A_MEMBERS, data=lambda w: {"version": w.published.version}),
    Case("activities.copy_activity", "POST", lambda w: f"/activities/{w.published.id}/copy", A_MEMBERS),
    # activities: non-public things on public paths
    Case("activities.show_activity", "GET", lambda w: f"/activities/{w.draft.id}", A_DRAFT, label="draft"),
    Case("activities.media", "GET", lambda w: f"/media/{DRAFT_IMAGE}", A_DRAFT, label="draft-image"),
    Case(
        "api.show_activity",
        "GET",
        lambda w: f"/api/v1/activities/{w.draft.id}",
        outcomes(HIDDEN),  # the API has no login: a draft is never there
        label="draft",
    ),
    Case(
        "organisations.show_organisation",
        "GET",
        lambda w: f"/organisations/{w.rejected_org.slug}",
        outcomes(HIDDEN, admin_a=OK),
        label="rejected",
    ),
    # a rejected organisation's logo: only where its page still shows (issue 13)
    Case(
        "activities.media",
        "GET",
        lambda w: f"/media/{REJECTED_LOGO}",
        outcomes(HIDDEN, admin_a=OK),
        label="rejected-logo",
    ),
    # the clubs directory and its API: public; a rejected organisation is never listed there
    Case("organisations.list_organisations", "GET", lambda w: "/organisations", EVERYONE),
    Case("api.list_organisations", "GET", lambda w: "/api/v1/organisations", EVERYONE),
    # where the routing decision shows: the organiser's page, the public explanation
    Case("approvals.reach_schools", "GET", lambda w: f"/activities/{w.published.id}/reach", A_MEMBERS),
    Case(
        "approvals.reach_schools",
        "GET",
        lambda w: f"/activities/{w.draft.id}/reach",
        A_DRAFT_MEMBERS,
        label="draft",
    ),
    Case(
        "approvals.list_activity_requests",
        "GET",
        lambda w: f"/activities/{w.draft.id}/requests",
        A_DRAFT_MEMBERS,
        label="draft",
    ),
    Case("approvals.channels_page", "GET", lambda w: "/om/kanaler", EVERYONE),
    # requests: the organiser sends and follows them
    Case("approvals.reach_schools", "POST", lambda w: f"/activities/{w.offer_b.id}/reach", B_MEMBERS, data=lambda w: {"week": upcoming_weeks()[2], "schools": w.school.slug, "grades": f"{w.school.slug}:3"}),
    Case("approvals.list_activity_requests", "GET", lambda w: f"/activities/{w.offer_b.id}/requests", B_MEMBERS),
    Case("approvals.list_organisation_requests", "GET", lambda w: f"/organisations/{w.org_b.slug}/requests", B_MEMBERS),
    Case("approvals.withdraw_request", "POST", lambda w: f"/requests/{w.pending.id}/withdraw", B_MEMBERS, data=lambda w: {"version": w.pending.version}),
    # requests: the school reviews them
    Case("approvals.list_school_requests", "GET", lambda w: f"/schools/{w.school.slug}/requests", SCHOOL_STAFF),
    Case("approvals.review_request", "GET", lambda w: f"/schools/{w.school.slug}/requests/{w.pending.id}", SCHOOL_STAFF),
    Case("approvals.review_request", "GET", lambda w: f"/schools/{w.school.slug}/requests/{w.elsewhere.id}", OTHER_SCHOOLS_REQUEST, label="other-school"),
    Case("approvals.approve_request", "POST", lambda w: f"/schools/{w.school.slug}/requests/{w.pending.id}/approve", SCHOOL_STAFF, data=lambda w: {"version": w.pending.version}),
    Case("approvals.approve_request", "POST", lambda w: f"/schools/{w.school.slug}/requests/{w.elsewhere.id}/approve", OTHER_SCHOOLS_REQUEST, data=lambda w: {"version": w.elsewhere.version}, label="other-school"),
    Case("approvals.reject_request", "POST", lambda w: f"/schools/{w.school.slug}/requests/{w.pending.id}/reject", SCHOOL_STAFF, data=lambda w: {"reason": "Vi har foreldremøte den uken.", "version": w.pending.version}),
    Case("approvals.reject_request", "POST", lambda w: f"/schools/{w.school.slug}/requests/{w.elsewhere.id}/reject", OTHER_SCHOOLS_REQUEST, data=lambda w: {"reason": "Nei.", "version": w.elsewhere.version}, label="other-school"),
    Case("approvals.approve_requests", "POST", lambda w: f"/schools/{w.school.slug}/requests/bulk-approve", SCHOOL_STAFF, data=lambda w: {"requests": [str(w.pending.id)]}),
    Case("approvals.approve_requests", "POST", lambda w: f"/schools/{w.school.slug}/requests/bulk-approve", OTHER_SCHOOLS_REQUEST, data=lambda w: {"requests": [str(w.elsewhere.id)]}, label="other-school"),
    # exports: the school's approved announcements, per week and channel
    Case("exports.index", "GET", lambda w: f"/schools/{w.school.slug}/exports", SCHOOL_STAFF),
    Case("exports.preview", "GET", lambda w: f"/schools/{w.school.slug}/exports/{REQUEST_WEEK()}/backpack_post", SCHOOL_STAFF),
    Case("exports.download", "POST", lambda w: f"/schools/{w.school.slug}/exports/{REQUEST_WEEK()}/backpack_post.pdf", SCHOOL_STAFF),
    Case("exports.overview", "GET", lambda w: f"/schools/{w.school.slug}/overview/{REQUEST_WEEK()}", SCHOOL_STAFF),
    Case("exports.overview_pdf", "GET", lambda w: f"/schools/{w.school.slug}/overview/{REQUEST_WEEK()}.pdf", SCHOOL_STAFF),
    Case("exports.short_link", "GET", lambda w: f"/a/{w.draft.id}", outcomes(HIDDEN), label="draft"),
    # organisations
    Case("organisations.edit_organisation", "GET", lambda w: f"/organisations/{_a(w)}/edit", A_MEMBERS),
    Case(
        "organisations.edit_organisation",
        "POST",
        lambda w: f"/organisations/{_a(w)}/edit",
        A_MEMBERS,
        data=organisation_form,
    ),
    Case("organisations.list_members", "GET", lambda w: f"/organisations/{_a(w)}/members", A_MEMBERS),
    Case(
        "organisations.invite_member",
        "POST",
        lambda w: f"/organisations/{_a(w)}/members/invite",
        A_OWNERS,
        data=lambda w: {"email": "ny.person@example.org", "role": "editor"},
    ),
    Case(
        "organisations.change_member_role",
        "POST",
        lambda w: f"/organisations/{_a(w)}/members/{w.colleague_membership.id}/role",
        A_OWNERS,
        data=lambda w: {"role": "owner"},
    ),
    Case(
        "organisations.remove_member",
        "POST",
        lambda w: f"/organisations/{_a(w)}/members/{w.colleague_membership.id}/remove",
        A_OWNERS,
    ),
    Case(
        "organisations.revoke_invitation",
        "POST",
        lambda w: f"/organisations/{_a(w)}/invitations/{w.invitation.id}/revoke",
        A_OWNERS,
    ),
    # The link itself is the credential: whoever holds it may join (or create an account).
    Case("organisations.accept_invitation", "GET", lambda w: f"/invitations/{INVITATION_TOKEN}", EVERYONE),
    Case(
        "organisations.accept_invitation",
        "POST",
        lambda w: f"/invitations/{INVITATION_TOKEN}",
        EVERYONE,
        data=account_form,
    ),
    # admin
    Case("admin.list_organisations", "GET", lambda w: "/admin/organisations", ANY_ADMIN),
    Case("admin.audit_log", "GET", lambda w: "/admin/audit", ANY_ADMIN),
    Case("admin.statistics", "GET", lambda w: "/admin/statistics", ANY_ADMIN),
    Case("admin.verify", "POST", lambda w: f"/admin/organisations/{w.org_a.id}/verify", A_ADMIN),
    Case(
        "admin.reject",
        "POST",
        lambda w: f"/admin/organisations/{w.org_a.id}/reject",
        A_ADMIN,
        data=lambda w: {"reason": "Organisasjonen finnes ikke i Brønnøysundregistrene."},
    ),
    # channel policies: a school's (its admins, its municipality's admin) and the default's
    Case("schools.edit_policy", "GET", lambda w: f"/schools/{w.school.slug}/policy", SCHOOL_POLICY),
    Case("schools.edit_policy", "POST", lambda w: f"/schools/{w.school.slug}/policy", SCHOOL_POLICY, data=lambda w: {"order": "backpack", "facebook_enabled": "inherit", "backpack_enabled": "inherit", "backpack_weekly_quota": "", "blackout_inherit": "y", "blackout_weeks": "", "municipal_in_messaging": "inherit", "version": "0"}),
    Case("schools.export_school_toml", "GET", lambda w: f"/schools/{w.school.slug}/policy.toml", SCHOOL_POLICY),
    Case("schools.import_school_policy", "POST", lambda w: f"/schools/{w.school.slug}/policy/import", SCHOOL_POLICY, data=lambda w: {"policy_file": (io.BytesIO(b"backpack_weekly_quota = 3\n"), "p.toml")}),
    Case("schools.list_schools", "GET", lambda w: "/admin/schools", ANY_ADMIN),
    Case("schools.edit_default_policy", "GET", lambda w: "/admin/policy", ANY_ADMIN),
    Case("schools.edit_default_policy", "POST", lambda w: "/admin/policy", ANY_ADMIN, data=lambda w: {"order": "facebook", "facebook_enabled": "on", "backpack_enabled": "on", "backpack_weekly_quota": "3", "blackout_weeks": "", "municipal_in_messaging": "no", "version": "0"}),
    Case("schools.export_default_json", "GET", lambda w: "/admin/policy.json", ANY_ADMIN),
    Case("schools.export_default_toml", "GET", lambda w: "/admin/policy.toml", ANY_ADMIN),
    Case("schools.export_school_json", "GET", lambda w: f"/schools/{w.school.slug}/policy.json", SCHOOL_POLICY),
    Case("schools.import_default_policy", "POST", lambda w: "/admin/policy/import", ANY_ADMIN, data=lambda w: {"policy_file": (io.BytesIO(b'{"order": ["facebook", "backpack"], "facebook_enabled": true, "backpack_enabled": true, "backpack_weekly_quota": 3, "blackout_weeks": [], "municipal_in_messaging": false}'), "p.json")}),
    # the municipal admin's school register: their own municipality's schools only
    Case("schools.new_school", "GET", lambda w: "/admin/schools/new", ANY_ADMIN),
    Case("schools.new_school", "POST", lambda w: "/admin/schools/new", ANY_ADMIN, data=lambda w: school_form(w, slug="ny-skole")),
    Case("schools.edit_school", "GET", lambda w: f"/admin/schools/{w.school.slug}/edit", A_ADMIN),
    Case("schools.edit_school", "POST", lambda w: f"/admin/schools/{w.school.slug}/edit", A_ADMIN, data=school_form),
    Case("schools.deactivate_school", "POST", lambda w: f"/admin/schools/{w.school.slug}/deactivate", A_ADMIN),
    Case("schools.reactivate_school", "POST", lambda w: f"/admin/schools/{w.school.slug}/reactivate", A_ADMIN, changes=False),
    # the municipality's own settings; categories, shared by every municipality's admin
    Case("admin.edit_settings", "GET", lambda w: "/admin/settings", ANY_ADMIN),
    Case("admin.edit_settings", "POST", lambda w: "/admin/settings", ANY_ADMIN, data=settings_form),
    # venues (issue 13): public pages; corrected by the municipality or the club that added them
    Case("venues.show_venue", "GET", lambda w: f"/venues/{w.venue_a.slug}", EVERYONE),
    Case("venues.show_venue", "GET", lambda w: f"/venues/{w.draft_venue.slug}", A_DRAFT),
    Case("venues.edit_venue", "GET", lambda w: f"/venues/{w.venue_a.slug}/edit", VENUE_EDITORS),
    Case("venues.edit_venue", "POST", lambda w: f"/venues/{w.venue_a.slug}/edit", VENUE_EDITORS, data=venue_form),
    Case("venues.edit_venue", "GET", lambda w: f"/venues/{w.draft_venue.slug}/edit", DRAFT_VENUE_EDITORS),
    Case("admin.list_venues", "GET", lambda w: "/admin/venues", ANY_ADMIN),
    Case("admin.new_venue", "POST", lambda w: "/admin/venues/new", ANY_ADMIN, data=lambda w: NEW_VENUE_FORM),
    Case("api.list_venues", "GET", lambda w: "/api/v1/venues", EVERYONE),
    # listings that stay current (issue 14): the members' button; the e-mailed link is the key
    Case("activities.confirm_listing", "POST", lambda w: f"/activities/{w.published.id}/confirm", A_MEMBERS),
    Case("activities.confirm_listing_by_link", "GET", _listing_link, EVERYONE),
    Case("activities.confirm_listing_by_link", "POST", _listing_link, EVERYONE, data=lambda w: {}),  # its GET is the page with the button
    Case("admin.list_categories", "GET", lambda w: "/admin/categories", ANY_ADMIN),
    # offers in the families' languages (issue 14): the organiser's text in other languages
    Case("activities.list_translations", "GET", lambda w: f"/activities/{w.published.id}/translations", A_MEMBERS),
    Case("activities.list_translations", "GET", lambda w: f"/activities/{w.draft.id}/translations", A_DRAFT_MEMBERS, label="draft"),
    Case("activities.edit_translation", "GET", lambda w: f"/activities/{w.published.id}/translations/pl", A_MEMBERS),
    Case("activities.edit_translation", "POST", lambda w: f"/activities/{w.published.id}/translations/pl", A_MEMBERS, data=lambda w: {"title": "Trening piłki nożnej", "version": w.published.version}),
    Case("activities.edit_translation", "POST", lambda w: f"/activities/{w.draft.id}/translations/uk", A_DRAFT_MEMBERS, label="draft", data=lambda w: {"title": "Тренування", "version": w.draft.version}),
    Case(
        "activities.delete_translation",
        "POST",
        lambda w: f"/activities/{w.published.id}/translations/pl/delete",
        A_MEMBERS,
        # The Polish text to remove, stored before the snapshot that refusals must leave as is.
        data=lambda w: (
            w.published.translations.append(ActivityTranslation(language="pl", title="Tytuł")),
            db.session.commit(),
            {"version": w.published.version},
        )[-1],
    ),
    Case("admin.new_category", "POST", lambda w: "/admin/categories/new", ANY_ADMIN, data=lambda w: CATEGORY_FORM),
    Case("admin.edit_category", "GET", lambda w: f"/admin/categories/{matrix_category()}/edit", ANY_ADMIN),
    Case("admin.edit_category", "POST", lambda w: f"/admin/categories/{matrix_category()}/edit", ANY_ADMIN, data=category_form),
    Case("admin.hide_category", "POST", lambda w: f"/admin/categories/{matrix_category()}/hide", ANY_ADMIN),
    Case("admin.show_category", "POST", lambda w: f"/admin/categories/{matrix_category(hidden=True)}/show", ANY_ADMIN),
    # the statements: public
    # the school-year calendar (issue 14): the municipality's admin; the API is public
    Case("admin.school_calendar", "GET", lambda w: "/admin/school-calendar", ANY_ADMIN),
    Case("admin.add_school_holiday", "POST", lambda w: "/admin/school-calendar/holidays", ANY_ADMIN, data=lambda w: HOLIDAY_FORM),
    Case("admin.remove_school_holiday", "POST", lambda w: f"/admin/school-calendar/holidays/{matrix_holiday(w)}/remove", A_ADMIN),
    Case("admin.import_school_calendar", "POST", lambda w: "/admin/school-calendar/import", ANY_ADMIN, data=calendar_upload),
    Case("api.school_calendar", "GET", lambda w: "/api/v1/school-calendar", EVERYONE),
    Case("pages.privacy", "GET", lambda w: "/personvern", EVERYONE),
    Case("pages.accessibility", "GET", lambda w: "/tilgjengelighet", EVERYONE),
    # what crawlers and browsers ask for: public
    Case("findable.robots_txt", "GET", lambda w: "/robots.txt", EVERYONE),
    Case("findable.sitemap", "GET", lambda w: "/sitemap.xml", EVERYONE),
    Case("findable.favicon", "GET", lambda w: "/favicon.ico", EVERYONE),
    # school staff: its admins and its municipality's admin; the invitation link
    Case("schools.list_staff", "GET", lambda w: f"/schools/{w.school.slug}/staff", SCHOOL_STAFF_ADMINS),
    Case("schools.invite_staff_member", "POST", lambda w: f"/schools/{w.school.slug}/staff/invite", SCHOOL_STAFF_ADMINS, data=lambda w: {"email": "ny.person@example.org", "role": "staff"}),
    Case("schools.change_staff_member_role", "POST", lambda w: f"/schools/{w.school.slug}/staff/{_school_colleague(w)}/role", SCHOOL_STAFF_ADMINS, data=lambda w: {"role": "admin"}),
    Case("schools.remove_staff_member", "POST", lambda w: f"/schools/{w.school.slug}/staff/{_school_colleague(w)}/remove", SCHOOL_STAFF_ADMINS),
    Case("schools.revoke_staff_invitation", "POST", lambda w: f"/schools/{w.school.slug}/invitations/{_school_invitation(w)}/revoke", SCHOOL_STAFF_ADMINS),
    Case("schools.accept_staff_invitation", "GET", _school_invitation_link, SCHOOL_INVITEE),
    Case("schools.accept_staff_invitation", "POST", _school_invitation_link, SCHOOL_INVITEE, data=account_form),
    # one's own password, and a reset link by e-mail (anyone may ask; the link is the key)
    Case("accounts.change_password", "GET", lambda w: "/account/password", SIGNED_IN),
    Case("accounts.change_password", "POST", lambda w: "/account/password", SIGNED_IN, data=lambda w: {"current_password": PASSWORD, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}),
    Case("accounts.request_password_reset", "GET", lambda w: "/account/password/reset", EVERYONE),
    Case("accounts.request_password_reset", "POST", lambda w: "/account/password/reset", EVERYONE, data=lambda w: {"email": w.colleague.email}),
    Case("accounts.reset_password", "GET", _password_reset_link, EVERYONE),
    Case("accounts.reset_password", "POST", _password_reset_link, EVERYONE, data=lambda w: {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}),
    # two-step login: the second step needs the password step's marker (none here: a signed-in
    # user goes on to Min side, anyone else to the login); one's own second step
    Case("accounts.login_two_step", "POST", lambda w: "/login/two-step", SIGNED_IN, data=lambda w: {"code": "123456"}, changes=False),
    Case("accounts.two_step", "GET", lambda w: "/account/two-step", SIGNED_IN),
    Case("accounts.enrol_two_step", "GET", lambda w: "/account/two-step/enrol", SIGNED_IN),
    Case("accounts.enrol_two_step", "POST", lambda w: "/account/two-step/enrol", SIGNED_IN, data=lambda w: {"code": "123456"}, changes=False),
    # Changes for whoever has no second step yet; the admins (enrolled) are sent to the overview.
    Case("accounts.start_two_step", "POST", lambda w: "/account/two-step/enrol/start", SIGNED_IN, changes=False),
    Case("accounts.regenerate_recovery_codes", "POST", lambda w: "/account/two-step/recovery-codes", SIGNED_IN, data=lambda w: {"password": PASSWORD}, changes=False),
    # A required second step (municipal and school admins) cannot be turned off.
    Case("accounts.disable_two_step", "POST", lambda w: "/account/two-step/disable", outcomes(OK, anonymous=LOGIN, admin_a=FORBIDDEN, admin_other=FORBIDDEN, school_staff=FORBIDDEN), data=lambda w: {"password": PASSWORD}, changes=False),
    # the school staff's accounts: the municipality's admin; to another admin they do not exist
    Case("admin.list_accounts", "GET", lambda w: "/admin/accounts", ANY_ADMIN),
    Case("admin.deactivate", "POST", lambda w: f"/admin/accounts/{_staff_account(w)}/deactivate", A_ADMIN),
    Case("admin.reactivate", "POST", lambda w: f"/admin/accounts/{_staff_account(w, active=False)}/reactivate", A_ADMIN),
    Case("admin.reset_account_two_step", "POST", lambda w: f"/admin/accounts/{_staff_account(w)}/reset-two-step", A_ADMIN),
)  # fmt: skip

# GET pages whose path or endpoint says they are for editing, members, admins or management.
SENSITIVE_PATH = re.compile(r"/edit|/members|/staff|^/admin|/new$|^/account|/invitations/")
SENSITIVE_ENDPOINT = re.compile(r"manage|edit|^admin\.")


# --- the state that must not change ------------------------------------------------------------


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table except the login sessions, in a comparable form."""
    state = {}
    for table in db.metadata.sorted_tables:
        if table.name == "user_session":
            continue  # logging in and out is not a change to the data
        rows = db.session.execute(select(table)).all()
        state[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return state


def changed_tables(before: dict, after: dict) -> list[str]:
    return [name for name in before if before[name] != after[name]]


def classify(response) -> str:
    """The outcome a response stands for."""
    status = response.status_code
    if status == 403:
        return FORBIDDEN
    if status == 404:
        return HIDDEN
    if status in (301, 302, 303):
        location = response.headers.get("Location", "")
        # A refusal sends to the login page and back (?next=); a password reset, once done,
        # sends to the plain login page.
        if location.startswith("/login?next="):
            return LOGIN
        return OK
    if 200 <= status < 300:
        return OK
    return f"unexpected {status}"


# --- the matrix --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_access_matrix(app, client, quiet_search, world, case: Case, role: str):
    user = make_role_user(role, world)
    if user is not None:
        sign_in(client, user)
    path = case.path(world)
    data = case.data(world) if case.data else {}
    before = snapshot()

    if case.method == "GET":
        response = client.get(path)
    else:
        response = client.post(path, data=data)
    response.close()  # a served file stays open until the response is closed

    expected = case.expect[role]
    got = classify(response)
    assert got == expected, (
        f"{case.method} {path} as {role}: expected {expected}, got {got} "
        f"({response.status_code} {response.headers.get('Location', '')})"
    )
    if expected == LOGIN:
        location = response.headers["Location"]
        assert location.startswith("/login?next="), location

    after = snapshot()
    if case.method == "GET" or expected != OK:
        assert changed_tables(before, after) == [], f"{case.id} as {role} changed stored data"
    elif case.changes:
        assert changed_tables(before, after), f"{case.id} as {role} was allowed but changed nothing"


def test_a_refused_owner_of_another_organisation_cannot_reach_a_members_row_through_their_own(
    app, client, world
):
    """Organisation B's owner may manage B's members and invitations, but A's membership and
    invitation ids are unknown there."""
    owner_b = make_role_user("owner_b", world)
    sign_in(client, owner_b)
    membership_id = world.colleague_membership.id
    before = snapshot()
    for action, data in (("remove", {}), ("role", {"role": "owner"})):
        path = f"/organisations/{world.org_b.slug}/members/{membership_id}/{action}"
        assert client.post(path, data=data).status_code == 404
    revoke = f"/organisations/{world.org_b.slug}/invitations/{world.invitation.id}/revoke"
    assert client.post(revoke).status_code == 404
    assert changed_tables(before, snapshot()) == []


def test_a_drafts_organiser_pages_answer_an_outsider_as_an_unknown_id_does(app, client, world):
    """The edit URL must not tell an outsider more than the public page does: the same status
    and the same page (but for the address in its links) for a draft's id as for an id that
    was never used."""
    sign_in(client, make_role_user("owner_b", world))
    unknown = 2**31 - 1
    for suffix in ("", "/edit", "/reach", "/requests"):
        pages = []
        for activity_id in (world.draft.id, unknown):
            path = f"/activities/{activity_id}{suffix}"
            response = client.get(path)
            assert response.status_code == 404, path
            page = response.get_data(as_text=True).replace(path, "/activities/ID")
            # The sign-out form's CSRF token carries the second it was made in.
            pages.append(re.sub(r'name="csrf_token" value="[^"]*"', "csrf_token", page))
        assert pages[0] == pages[1], suffix


def test_a_draft_leaves_no_trace_in_public_listings(app, client, world):
    """What the matrix calls hidden stays hidden in the lists, feeds and API too."""
    for path in ("/", f"/organisations/{world.org_a.slug}", "/api/v1/activities"):
        body = client.get(path).get_data(as_text=True)
        assert "Publisert aktivitet" in body, path  # the listing works at all
        assert "Hemmelig utkast" not in body, path
        assert DRAFT_IMAGE not in body, path


# --- the table covers the application ----------------------------------------------------------


def test_every_route_that_changes_or_shows_private_data_is_in_the_matrix(app):
    covered = {(case.endpoint, case.method) for case in CASES}
    missing = []
    for rule in app.url_map.iter_rules():
        methods = rule.methods or set()
        if "POST" in methods and (rule.endpoint, "POST") not in covered:
            missing.append(f"POST {rule.rule} ({rule.endpoint})")
        sensitive = SENSITIVE_PATH.search(rule.rule) or SENSITIVE_ENDPOINT.search(rule.endpoint)
        if "GET" in methods and sensitive and (rule.endpoint, "GET") not in covered:
            missing.append(f"GET {rule.rule} ({rule.endpoint})")
    assert not missing, "routes without an access-matrix entry: " + ", ".join(missing)


def test_the_matrix_names_real_routes_and_every_role(app, world):
    adapter = app.url_map.bind("localhost")
    for case in CASES:
        assert set(case.expect) == set(ROLES), case.id
        path = case.path(world)
        endpoint, _args = adapter.match(path, method=case.method)
        assert endpoint == case.endpoint, (case.id, path, endpoint)


def test_no_state_changing_route_answers_get(app):
    """Every state change is a POST: the matrix's POST routes have no GET twin that acts."""
    post_only = {
        case.endpoint for case in CASES if case.method == "POST" and case.data is None
    }  # buttons: no form page to show
    for rule in app.url_map.iter_rules():
        if rule.endpoint in post_only:
            assert "GET" not in (rule.methods or set()), rule.rule
