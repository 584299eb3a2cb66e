"""Every model, imported in one place for Alembic and the shell."""

from directory.accounts.models import PasswordReset, RecoveryCode, User, UserSession
from directory.activities.models import (
    Activity,
    ActivityTranslation,
    Category,
    ListingReminder,
    Schedule,
)
from directory.approvals.models import DistributionRequest
from directory.audit.models import AuditEvent
from directory.data_version import DataVersion
from directory.organisations.models import Invitation, Membership, Organisation
from directory.reach_counts.models import ReachCount
from directory.schools.models import (
    ChannelPolicy,
    Municipality,
    School,
    SchoolGradeCount,
    SchoolHoliday,
    SchoolInvitation,
    SchoolStaff,
)
from directory.search import sync as _search_sync  # noqa: F401 - the index follows commits
from directory.search.models import SearchBacklog
from directory.storage.models import StoredFile
from directory.venues.models import Venue

__all__ = [
    "Activity",
    "ActivityTranslation",
    "AuditEvent",
    "Category",
    "ChannelPolicy",
    "DataVersion",
    "DistributionRequest",
    "Invitation",
    "ListingReminder",
    "Membership",
    "Municipality",
    "Organisation",
    "PasswordReset",
    "ReachCount",
    "RecoveryCode",
    "Schedule",
    "School",
    "SchoolGradeCount",
    "SchoolHoliday",
    "SchoolInvitation",
    "SchoolStaff",
    "SearchBacklog",
    "StoredFile",
    "User",
    "UserSession",
    "Venue",
]
