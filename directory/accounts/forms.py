"""Account forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, Length


class LoginForm(FlaskForm):
    """E-mail and password."""

    email = EmailField(
        _l("E-post"),
        validators=[DataRequired(_l("Skriv inn e-postadressen din.")), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Passord"),
        validators=[DataRequired(_l("Skriv inn passordet ditt.")), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )


__all__ = ["Email", "LoginForm"]
