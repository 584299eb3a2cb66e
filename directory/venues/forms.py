"""The venue form: the municipality's admin (or the organisation that added it) corrects a venue."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from directory.activities.forms import ActivityForm
from directory.pipeline import VersionedForm


def _strip(value: Any) -> Any:
    return " ".join(value.split()) if isinstance(value, str) else value


class VenueForm(VersionedForm):
    """Name, address, coordinates and accessibility notes of a venue."""

    name = StringField(
        _l("Navn på stedet"),
        validators=[
            InputRequired(_l("Skriv navnet på stedet.")),
            Length(max=150, message=_l("Høyst 150 tegn.")),
        ],
        filters=[_strip],
    )
    address = StringField(
        _l("Adresse"),
        validators=[Length(max=200, message=_l("Høyst 200 tegn."))],
        filters=[_strip],
    )
    # The same coordinate fields as the activity form's new place (decimal comma accepted).
    latitude = ActivityForm.latitude
    longitude = ActivityForm.longitude
    accessibility = TextAreaField(
        _l("Tilgjengelighet på stedet"),
        validators=[Length(max=2000, message=_l("Høyst 2000 tegn."))],
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        render_kw={"rows": 3},
    )

    def validate(self, extra_validators=None) -> bool:
        """The fields, and both coordinates or neither."""
        ok = super().validate(extra_validators)
        lat, lon = self.latitude, self.longitude
        if not lat.errors and not lon.errors and (lat.data is None) != (lon.data is None):
            blank = lat if lat.data is None else lon
            blank.errors = [
                *blank.errors,
                str(_l("Fyll inn begge koordinatene, eller ingen av dem.")),
            ]
            ok = False
        return ok

    def values(self) -> dict[str, Any]:
        """The venue's new values (for directory.venues.operations)."""
        return {
            "name": self.name.data,
            "address": self.address.data or "",
            "latitude": self.latitude.data,
            "longitude": self.longitude.data,
            "accessibility": self.accessibility.data or "",
        }
