"""Every model, imported in one place for Alembic and the shell."""

from directory.accounts.models import User, UserSession
from directory.activities.models import Activity, Category, Schedule
from directory.audit.models import AuditEvent
from directory.organisations.models import Invitation, Membership, Organisation
from directory.schools.models import Municipality, School, SchoolGradeCount, SchoolStaff

__all__ = [
    "Activity",
    "AuditEvent",
    "Category",
    "Invitation",
    "Membership",
    "Municipality",
    "Organisation",
    "Schedule",
    "School",
    "SchoolGradeCount",
    "SchoolStaff",
    "User",
    "UserSession",
]
