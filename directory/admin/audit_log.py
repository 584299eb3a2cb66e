"""The audit log as the admin reads it: acts in words and objects by name, not type and id.

Names are looked up in one query per object type for the whole page, never per row. An object
deleted since (a removed membership, a deleted activity) keeps what the event itself recorded,
or its type and id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from directory.accounts.models import User
from directory.activities.models import Activity, Category
from directory.approvals.models import DistributionRequest
from directory.audit.models import AuditEvent
from directory.extensions import db
from directory.organisations.models import Organisation
from directory.schools.models import ChannelPolicy, Municipality, School

ACTION_LABELS = {
    "request.create": _l("Forespørsel sendt"),
    "request.approve": _l("Forespørsel godkjent"),
    "request.reject": _l("Forespørsel avvist"),
    "request.withdraw": _l("Forespørsel trukket tilbake"),
    "request.reopen": _l("Forespørsel sendt til ny vurdering etter endring"),
    "request.export": _l("Forespørsel eksportert"),
    "organisation.register": _l("Organisasjon registrert"),
    "organisation.edit": _l("Organisasjon endret"),
    "organisation.verify": _l("Organisasjon verifisert"),
    "organisation.reject": _l("Organisasjon avvist"),
    "activity.create": _l("Aktivitet opprettet"),
    "activity.update": _l("Aktivitet endret"),
    "activity.copy": _l("Aktivitet kopiert"),
    "activity.publish": _l("Aktivitet publisert"),
    "activity.unpublish": _l("Aktivitet avpublisert"),
    "activity.cancel": _l("Aktivitet avlyst"),
    "activity.archive": _l("Aktivitet arkivert"),
    "policy.update": _l("Kanalretningslinjer endret"),
    "policy.import": _l("Kanalretningslinjer importert"),
    "invitation.create": _l("Invitasjon sendt"),
    "invitation.accept": _l("Invitasjon godtatt"),
    "invitation.revoke": _l("Invitasjon trukket tilbake"),
    "membership.remove": _l("Medlem fjernet"),
    "membership.change_role": _l("Medlemsrolle endret"),
    "school_invitation.create": _l("Invitasjon til skolens ansatte sendt"),
    "school_invitation.accept": _l("Invitasjon til skolens ansatte godtatt"),
    "school_invitation.revoke": _l("Invitasjon til skolens ansatte trukket tilbake"),
    "school_staff.change_role": _l("Rolle ved skolen endret"),
    "school_staff.remove": _l("Ansatt fjernet fra skolen"),
    "user.register": _l("Konto registrert"),
    "user.make_admin": _l("Gjort til kommuneadmin"),
    "user.enable_two_step": _l("Totrinnsinnlogging slått på"),
    "user.disable_two_step": _l("Totrinnsinnlogging slått av"),
    "user.regenerate_recovery_codes": _l("Nye gjenopprettingskoder laget"),
    "user.use_recovery_code": _l("Innlogget med gjenopprettingskode"),
    "user.reset_two_step": _l("Totrinnsinnlogging tilbakestilt av kommuneadmin"),
    "user.deactivate": _l("Konto deaktivert"),
    "user.reactivate": _l("Konto aktivert igjen"),
    "user.change_password": _l("Passord endret"),
    "user.reset_password": _l("Passord tilbakestilt via e-post"),
    "import.activities": _l("Aktiviteter importert"),
    "import.schools": _l("Skoler importert"),
    "municipality.create": _l("Kommune opprettet"),
    "demo.seed": _l("Demodata lastet inn"),
    "school.create": _l("Skole lagt til"),
    "school.update": _l("Skole endret"),
    "school.deactivate": _l("Skole deaktivert"),
    "school.reactivate": _l("Skole aktivert igjen"),
    "category.create": _l("Kategori lagt til"),
    "category.rename": _l("Kategori fikk nytt navn"),
    "category.hide": _l("Kategori skjult"),
    "category.show": _l("Kategori vist igjen"),
    "municipality.update": _l("Kommunens innstillinger endret"),
}


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
    action_label: str
    object_label: str | None  # None when the object cannot be named

    @property
    def object_ref(self) -> str:
        """The object's type and id, as stored: 'Organisation #3'."""
        if self.event.object_id is None:
            return self.event.object_type
        return f"{self.event.object_type} #{self.event.object_id}"


def action_label(action: str) -> str:
    """The act in words, or its code when it has no label."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


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
