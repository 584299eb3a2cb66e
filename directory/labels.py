"""Stored codes in words, in the user's language: for every template, e-mail and view alike."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from directory.i18n import gettext as _
from directory.organisations.forms import KIND_LABELS, ROLE_LABELS, VERIFICATION_LABELS
from directory.policy.reach_counts import SHOWN_FROM, UNDER
from directory.schools.staff_forms import STAFF_ROLE_LABELS


def kind_label(kind: str) -> str:
    """The name of an organisation kind."""
    return str(KIND_LABELS.get(kind, kind))


def role_label(role: str) -> str:
    """The name of a member role."""
    return str(ROLE_LABELS.get(role, role))


def verification_label(state: str) -> str:
    """The name of a verification state."""
    return str(VERIFICATION_LABELS.get(state, state))


def staff_role_label(role: str) -> str:
    """A school staff role in words: 'Skoleadministrator', 'Ansatt'."""
    return str(STAFF_ROLE_LABELS.get(role, role))


# What each audited act is called in the audit log; the stored code is its key.
AUDIT_ACTION_LABELS = {
    "request.create": _l("Forespørsel sendt"),
    "request.approve": _l("Forespørsel godkjent"),
    "request.reject": _l("Forespørsel avvist"),
    "request.withdraw": _l("Forespørsel trukket tilbake"),
    "request.reopen": _l("Forespørsel sendt til ny vurdering etter endring"),
    "request.export": _l("Forespørsel eksportert"),
    "request.cancel": _l("Forespørsel avlyst etter godkjenning"),
    "organisation.register": _l("Organisasjon registrert"),
    "membership.add": _l("Medlem lagt til"),
    "organisation.edit": _l("Organisasjon endret"),
    "organisation.verify": _l("Organisasjon verifisert"),
    "organisation.reject": _l("Organisasjon avvist"),
    "activity.create": _l("Aktivitet opprettet"),
    "activity.update": _l("Aktivitet endret"),
    "activity.copy": _l("Aktivitet kopiert"),
    "activity.translate": _l("Tekst på annet språk lagret"),
    "activity.untranslate": _l("Tekst på annet språk fjernet"),
    "activity.confirm": _l("Aktivitet bekreftet som aktuell"),
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
    "import.school_calendar": _l("Skolerute importert"),
    "school_holiday.add": _l("Skoleferie lagt til"),
    "school_holiday.remove": _l("Skoleferie fjernet"),
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
    "venue.add": _l("Sted lagt til"),
    "venue.update": _l("Sted endret"),
}


# The kinds of object an audit event is about (AuditEvent.object_type, a model's class name).
OBJECT_TYPE_LABELS = {
    "DistributionRequest": _l("Forespørsel"),
    "Activity": _l("Aktivitet"),
    "Organisation": _l("Organisasjon"),
    "School": _l("Skole"),
    "ChannelPolicy": _l("Kanalretningslinjer"),
    "Membership": _l("Medlemskap"),
    "Invitation": _l("Invitasjon"),
    "SchoolInvitation": _l("Invitasjon til skolens ansatte"),
    "SchoolStaff": _l("Ansatt ved skole"),
    "User": _l("Konto"),
    "Municipality": _l("Kommune"),
    "SchoolHoliday": _l("Skoleferie"),
    "Category": _l("Kategori"),
    "Venue": _l("Sted"),
}


def audit_action_label(action: str) -> str | None:
    """An audited act in words ('Forespørsel godkjent'), or None when it has no label."""
    label = AUDIT_ACTION_LABELS.get(action)
    return None if label is None else str(label)


def object_type_label(object_type: str) -> str:
    """The kind of an audited object in words ('Organisasjon'), or its stored name."""
    return str(OBJECT_TYPE_LABELS.get(object_type, object_type))


def reach_count_text(shown: int | str) -> str:
    """A visit count as `shown_count` lets it be shown: the number, or 'under 5'."""
    if shown == UNDER:
        return _("under %(num)s", num=SHOWN_FROM)
    return str(shown)


# The template filters of the same names (registered app-wide in directory.web).
FILTERS = {
    "reach_count": reach_count_text,
    "kind_label": kind_label,
    "role_label": role_label,
    "verification_label": verification_label,
    "staff_role_label": staff_role_label,
}
