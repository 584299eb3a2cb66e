"""Forms of the school staff page: invite, change a role, remove, revoke."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from directory.forms import Form
from directory.organisations.forms import invitee_email_field

STAFF_ROLE_LABELS = {"admin": _l("Skoleadministrator"), "staff": _l("Ansatt")}
ROLE_CHOICE_MESSAGE = _l("Velg skoleadministrator eller ansatt.")


def staff_role_choices() -> list[SelectChoice]:
    """The school staff roles."""
    return [SelectChoice(value, label) for value, label in STAFF_ROLE_LABELS.items()]


class StaffInviteForm(Form):
    """Invite someone by e-mail to the school's staff as admin or staff."""

    email = invitee_email_field(autocomplete="off")
    role = SelectField(
        _l("Rolle"),
        choices=staff_role_choices(),
        default="staff",
        invalid_choice_message=ROLE_CHOICE_MESSAGE,
    )

    def __init__(self, *args, school=None, **kwargs):
        self.school = school
        super().__init__(*args, **kwargs)

    def validate_email(self, field):
        """Someone already on the staff needs no invitation; change their role instead."""
        from directory.schools.staff import is_staff_email

        if self.school is not None and field.data and is_staff_email(self.school, field.data):
            raise ValidationError(
                _l("Denne personen er allerede ansatt ved skolen. Endre rollen i listen i stedet.")
            )


class LastAdminConfirmation(Form):
    """A button that may take away the school's last admin, with the municipal admin's box."""

    # Only the municipal admin sees the box; a school admin never leaves the school without one.
    confirm_no_admin = BooleanField(_l("Ja, skolen skal stå uten skoleadministrator inntil videre"))


class StaffRoleForm(LastAdminConfirmation):
    """Change a staff member's role."""

    role = SelectField(
        _l("Rolle"), choices=staff_role_choices(), invalid_choice_message=ROLE_CHOICE_MESSAGE
    )


class StaffRemoveForm(LastAdminConfirmation):
    """Take someone off the school's staff."""
