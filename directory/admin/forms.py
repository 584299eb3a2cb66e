"""The municipal admin's forms."""

from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from directory.forms import Form
from directory.organisations.forms import strip

REJECTION_REASON_MAX = 500


class RejectForm(Form):
    """Why the organisation is rejected; the organisation's members see the reason."""

    reason = TextAreaField(
        _l("Begrunnelse"),
        filters=[strip],
        validators=[
            DataRequired(_l("Skriv en begrunnelse. Organisasjonen ser den.")),
            Length(max=REJECTION_REASON_MAX, message=_l("Begrunnelsen kan ha høyst 500 tegn.")),
        ],
    )
