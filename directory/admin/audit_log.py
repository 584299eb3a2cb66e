"""The audit log as the admin reads it: acts in words and objects by name, not type and id.

Names are looked up in one query per object type for the whole page, never per row. An object
deleted since (a removed membership, a deleted activity) keeps what the event itself recorded,
or its kind and number in words ('Skole nr. 4'). The labels live in directory.labels; the
stored codes stay on the row (its title), for support.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from directory.accounts.models import User
from directory.activities.models import Activity, Category
from directory.approvals.models import DistributionRequest
from directory.audit.models import AuditEvent
from directory.extensions import db
from directory.i18n import gettext as _
from directory.labels import audit_action_label, object_type_label
from directory.organisations.models import Organisation
from directory.schools.models import ChannelPolicy, Municipality, School


def object_label(object_type: str, name: str) -> str:
    """An object in words from its type and name: 'Aktivitet: Fotball for 3.–4. trinn'."""
    labels = {
        "DistributionRequest": _("Forespørsel: %(name)s", name=name),
        "Activity": _("Aktivitet: %(name)s", name=name),
        "Organisation": _("Organisasjon: %(name)s", name=name),
        "School": _("Skole: %(name)s", name=name),
        "ChannelPolicy": _("Kanalretningslinjer: %(name)s", name=name),
        "Membership": _("Medlemskap i %(name)s", name=name),
        "Invitation": _("Invitasjon til %(name)s", name=name),
        "SchoolInvitation": _("Invitasjon til %(name)s", name=name),
        "SchoolStaff": _("Ansatt ved %(name)s", name=name),
        "User": _("Konto: %(name)s", name=name),
        "Municipality": _("Kommune: %(name)s", name=name),
        "Category": _("Kategori: %(name)s", name=name),
    }
    return labels.get(object_type, name)


@dataclass(frozen=True)
class AuditRow:
    """One line of the audit log as shown to the admin."""

    event: AuditEvent
    actor_name: str | None
    action_label: str | None  # None when the act has no label: the page shows its code
    object_label: str | None  # None when the object cannot be named

    @property
    def object_ref(self) -> str:
        """The object's kind and number in words when it cannot be named: 'Organisasjon nr. 3'."""
        kind = object_type_label(self.event.object_type)
        if self.event.object_id is None:
            return kind
        return _("%(kind)s nr. %(id)s", kind=kind, id=self.event.object_id)

    @property
    def code(self) -> str:
        """The stored act and object, for support: 'request.approve, DistributionRequest #7'."""
        event = self.event
        ref = event.object_type + (f" #{event.object_id}" if event.object_id is not None else "")
        return f"{event.action}, {ref}"


def action_label(action: str) -> str | None:
    """The act in words, or None when it has no label."""
    return audit_action_label(action)


def week_text(week: str) -> str:
    """'2026-W48' as 'uke 48/2026'."""
    year, _sep, number = week.partition("-W")
    if not number.isdigit():
        return week
    return _("uke %(number)s/%(year)s", number=int(number), year=year)


def request_name(title: str, school: str, week: str) -> str:
    """A request as 'activity → school, week'."""
    return _(
        "%(activity)s → %(school)s, %(week)s", activity=title, school=school, week=week_text(week)
    )


def _names(query) -> dict[int, str]:
    return {object_id: name for object_id, name in db.session.execute(query)}


def _requests(ids: set[int]) -> dict[int, str]:
    rows = db.session.execute(
        select(DistributionRequest.id, Activity.title, School.name, DistributionRequest.week)
        .join(Activity, Activity.id == DistributionRequest.activity_id)
        .join(School, School.id == DistributionRequest.school_id)
        .where(DistributionRequest.id.in_(ids))
    )
    return {rid: request_name(title, school, week) for rid, title, school, week in rows}


def _policies(ids: set[int]) -> dict[int, str]:
    rows = db.session.execute(
        select(ChannelPolicy.id, School.name)
        .outerjoin(School, School.id == ChannelPolicy.school_id)
        .where(ChannelPolicy.id.in_(ids))
    )
    return {pid: name or _("kommunens standard") for pid, name in rows}


# One batched lookup per object type: ids -> {id: name}.
LOOKUPS: dict[str, Callable[[set[int]], dict[int, str]]] = {
    "DistributionRequest": _requests,
    "Activity": lambda ids: _names(select(Activity.id, Activity.title).where(Activity.id.in_(ids))),
    "Organisation": lambda ids: _names(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))
    ),
    "School": lambda ids: _names(select(School.id, School.name).where(School.id.in_(ids))),
    "ChannelPolicy": _policies,
    "User": lambda ids: _names(select(User.id, User.name).where(User.id.in_(ids))),
    "Municipality": lambda ids: _names(
        select(Municipality.id, Municipality.name).where(Municipality.id.in_(ids))
    ),
    "Category": lambda ids: _names(
        select(Category.id, Category.name_nb).where(Category.id.in_(ids))
    ),
}
# Memberships and invitations may be gone (a removed member); their events name the organisation.
VIA_ORGANISATION = ("Membership", "Invitation")
# So may school staff rows and school invitations; their events name the school.
VIA_SCHOOL = ("SchoolStaff", "SchoolInvitation")


def _organisation_of(event: AuditEvent) -> int | None:
    value = (event.data or {}).get("organisation_id")
    return value if isinstance(value, int) else None


def _school_of(event: AuditEvent) -> int | None:
    value = (event.data or {}).get("school_id")
    return value if isinstance(value, int) else None


def _recorded_name(event: AuditEvent) -> str | None:
    """What the event itself says about an object that is gone."""
    data: dict[str, Any] = event.data or {}
    if event.object_type == "Activity" and isinstance(data.get("title"), str):
        return data["title"]
    if event.object_type == "Organisation" and isinstance(data.get("name"), str):
        return data["name"]
    if event.object_type == "DistributionRequest" and data.get("week") and data.get("school"):
        return request_name(_("aktivitet %(id)s", id=data.get("activity")), data["school"],
                            data["week"])  # fmt: skip
    return None


def describe_events(events: Iterable[tuple[AuditEvent, str | None]]) -> list[AuditRow]:
    """The events with actor names as rows with their acts in words and objects by name."""
    events = list(events)
    wanted: dict[str, set[int]] = defaultdict(set)
    for event, _actor in events:
        if event.object_type in VIA_ORGANISATION:
            organisation_id = _organisation_of(event)
            if organisation_id is not None:
                wanted["Organisation"].add(organisation_id)
        elif event.object_type in VIA_SCHOOL:
            school_id = _school_of(event)
            if school_id is not None:
                wanted["School"].add(school_id)
        elif event.object_type in LOOKUPS and event.object_id is not None:
            wanted[event.object_type].add(event.object_id)
    names = {kind: LOOKUPS[kind](ids) for kind, ids in wanted.items() if ids}

    rows = []
    for event, actor_name in events:
        if event.object_type in VIA_ORGANISATION:
            name = names.get("Organisation", {}).get(_organisation_of(event))
        elif event.object_type in VIA_SCHOOL:
            name = names.get("School", {}).get(_school_of(event))
        else:
            name = names.get(event.object_type, {}).get(event.object_id)
        if name is None:
            name = _recorded_name(event)
        rows.append(
            AuditRow(
                event=event,
                actor_name=actor_name,
                action_label=action_label(event.action),
                object_label=object_label(event.object_type, name) if name else None,
            )
        )
    return rows
