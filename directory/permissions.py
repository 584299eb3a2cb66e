"""Who may do what. Every view that touches data calls one of these before acting."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from directory.activities.models import Activity
    from directory.approvals.models import DistributionRequest
    from directory.organisations.models import Membership, Organisation
    from directory.schools.models import School
    from directory.venues.models import Venue


def _authenticated(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def member_role(user, organisation: Organisation) -> str | None:
    """The user's role in the organisation ('owner', 'editor') or None."""
    if not _authenticated(user):
        return None
    for membership in user.memberships:
        if membership.organisation_id == organisation.id:
            return membership.role
    return None


def is_admin_of_municipality(user, municipality_id: int) -> bool:
    """Whether the user is the municipal admin of this municipality."""
    return _authenticated(user) and user.admin_municipality_id == municipality_id


def can_edit_organisation(user, organisation: Organisation) -> bool:
    """Owners and editors edit the organisation's page and its activities."""
    return member_role(user, organisation) in ("owner", "editor")


def can_manage_members(user, organisation: Organisation) -> bool:
    """Only owners invite and remove members."""
    return member_role(user, organisation) == "owner"


def can_verify_organisation(user, organisation: Organisation) -> bool:
    """Only the municipal admin of the organisation's municipality verifies or rejects it."""
    return is_admin_of_municipality(user, organisation.municipality_id)


def can_edit_activity(user, activity: Activity) -> bool:
    """Members of the organiser edit its activities."""
    return can_edit_organisation(user, activity.organisation)


def can_view_activity(user, activity: Activity) -> bool:
    """Anyone sees a public activity; drafts and archived ones only their organisation's members
    and the municipal admin."""
    if activity.is_public:
        return True
    return can_edit_activity(user, activity) or is_admin_of_municipality(
        user, activity.organisation.municipality_id
    )


def activity_refusal_status(user, activity: Activity) -> int:
    """How to refuse an organiser-only page or action on the activity: 404 to whoever may not
    even see it (a draft's edit URL must not reveal that the id exists), 403 to whoever may."""
    return 403 if can_view_activity(user, activity) else 404


def school_role(user, school: School) -> str | None:
    """The user's staff role at the school ('admin', 'staff') or None."""
    if not _authenticated(user):
        return None
    for role in user.school_roles:
        if role.school_id == school.id:
            return role.role
    return None


def can_view_organisation(user, organisation: Organisation) -> bool:
    """Anyone sees a non-rejected organisation; a rejected one only its members and the admin."""
    if not organisation.rejected:
        return True
    return member_role(user, organisation) is not None or is_admin_of_municipality(
        user, organisation.municipality_id
    )


def can_view_members(user, organisation: Organisation) -> bool:
    """Owners and editors see who else belongs to the organisation."""
    return can_edit_organisation(user, organisation)


def can_remove_member(user, membership: Membership) -> bool:
    """Owners remove anyone from their organisation; every member may leave it."""
    if not _authenticated(user):
        return False
    return membership.user_id == user.id or can_manage_members(user, membership.organisation)


def can_administer_municipality(user) -> bool:
    """Whether the user is a municipal admin at all (the admin pages' gate)."""
    return _authenticated(user) and user.admin_municipality_id is not None


def can_view_school_policy(user, school: School) -> bool:
    """The school's staff and admins, and its municipality's admin, see its channel policy."""
    return school_role(user, school) in ("admin", "staff") or is_admin_of_municipality(
        user, school.municipality_id
    )


def can_edit_school_policy(user, school: School) -> bool:
    """The school's own admins and its municipality's admin change its channel policy."""
    return school_role(user, school) == "admin" or is_admin_of_municipality(
        user, school.municipality_id
    )


def can_manage_school_staff(user, school: School) -> bool:
    """The school's own admins and its municipality's admin invite, change and remove its
    staff; plain staff do not."""
    return school_role(user, school) == "admin" or is_admin_of_municipality(
        user, school.municipality_id
    )


def can_edit_default_policy(user, municipality_id: int) -> bool:
    """Only the municipal admin changes the municipality's default channel policy."""
    return is_admin_of_municipality(user, municipality_id)


def can_edit_municipality_settings(user, municipality_id: int) -> bool:
    """Only the municipal admin changes the municipality's name, label and contact."""
    return is_admin_of_municipality(user, municipality_id)


def can_edit_school_calendar(user, municipality_id: int) -> bool:
    """Only the municipal admin records the municipality's school holidays."""
    return is_admin_of_municipality(user, municipality_id)


def can_create_school(user, municipality_id: int) -> bool:
    """Only the municipal admin adds schools to the municipality."""
    return is_admin_of_municipality(user, municipality_id)


def can_edit_school(user, school: School) -> bool:
    """Only the admin of the school's municipality edits, deactivates or reactivates it (its
    own admins set its channel policy, not its name, grades or channels)."""
    return is_admin_of_municipality(user, school.municipality_id)


def can_edit_venue(user, venue: Venue) -> bool:
    """The admin of the venue's municipality corrects any venue there; the owners and editors
    of the organisation that added it correct theirs."""
    if is_admin_of_municipality(user, venue.municipality_id):
        return True
    return venue.added_by is not None and can_edit_organisation(user, venue.added_by)


def can_manage_categories(user) -> bool:
    """Categories are shared by every municipality in the database: any municipal admin
    creates, renames, hides and shows them."""
    return can_administer_municipality(user)


def can_request_distribution(user, activity: Activity) -> bool:
    """Members of the organiser ask schools to pass its activities on to parents."""
    return can_edit_activity(user, activity)


def can_review_requests(user, school: School) -> bool:
    """The school's own staff and admins see, approve, reject and export its requests."""
    return school_role(user, school) in ("admin", "staff")


def can_withdraw_request(user, distribution_request: DistributionRequest) -> bool:
    """Only the organiser's members withdraw its requests."""
    return can_edit_activity(user, distribution_request.activity)


def can_view_statistics(user, municipality_id: int) -> bool:
    """The municipal admin sees the municipality's request statistics (counts only)."""
    return is_admin_of_municipality(user, municipality_id)


def can_administer_account(user, account) -> bool:
    """The municipal admin of a municipality where the account holds a school role manages
    it (deactivation, second-step reset); to anyone else it does not exist."""
    if not can_administer_municipality(user):
        return False
    return any(
        role.school.municipality_id == user.admin_municipality_id for role in account.school_roles
    )


def can_deactivate_account(user, account) -> bool:
    """As can_administer_account, but never one's own account."""
    return can_administer_account(user, account) and account.id != user.id


def can_disable_two_step(user) -> bool:
    """Only someone for whom the second step is optional may turn it off."""
    from directory.accounts.two_factor import two_step_required

    return _authenticated(user) and not two_step_required(user)
