"""Forms for channel policies: the school's override, the municipal default, a file upload."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, TextAreaField
from wtforms.validators import NumberRange, Optional, ValidationError

from directory.forms import Form
from directory.policy.channel_policy import WEEK
from directory.policy.routing import MAX_BACKPACK_QUOTA

INHERIT = "inherit"
ORDER_CHOICES = [("facebook", _l("Facebook først")), ("backpack", _l("Ranselpost først"))]
ON_OFF = [("on", _l("På")), ("off", _l("Av"))]
YES_NO = [("yes", _l("Ja")), ("no", _l("Nei"))]
SAME = (INHERIT, _l("Som kommunen"))
_SPLIT = re.compile(r"[\s,;]+")
_BOOLS = {"on": True, "off": False, "yes": True, "no": False}


def parse_weeks(text: str) -> list[str]:
    """ISO weeks from text, one per line or comma-separated; raises ValueError naming a bad one."""
    weeks = []
    for item in _SPLIT.split(text.strip()):
        if not item:
            continue
        item = item.upper()
        match = WEEK.match(item)
        if not match or not 1 <= int(match.group(2)) <= 53:
            raise ValueError(item)
        weeks.append(item)
    return sorted(set(weeks))


class PolicyForm(Form):
    """The channel settings. For a school every setting may also be 'as the municipality'."""

    order = SelectField(_l("Rekkefølge etter meldingsappen"))
    facebook_enabled = SelectField(_l("Deling på skolens Facebook-side"))
    backpack_enabled = SelectField(_l("Ranselpost"))
    backpack_weekly_quota = IntegerField(
        _l("Ukekvote for ranselpost"),
        validators=[
            Optional(),
            NumberRange(0, MAX_BACKPACK_QUOTA, _l("Skriv et helt tall fra 0 til %(max)s.")),
        ],
    )
    blackout_inherit = BooleanField(_l("Bruk kommunens stengte uker"))
    blackout_weeks = TextAreaField(_l("Uker uten ranselpost og deling"))
    municipal_in_messaging = SelectField(_l("Kommunale tilbud i meldingsappen"))
    version = HiddenField()

    def __init__(self, *args: Any, override: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.override = override
        extra = [SAME] if override else []
        self.order.choices = extra + ORDER_CHOICES
        self.facebook_enabled.choices = extra + ON_OFF
        self.backpack_enabled.choices = extra + ON_OFF
        self.municipal_in_messaging.choices = extra + YES_NO
        if not override:
            del self.blackout_inherit

    def validate_blackout_weeks(self, field) -> None:
        try:
            parse_weeks(field.data or "")
        except ValueError as exc:
            raise ValidationError(
                _l("«%(week)s» er ikke en ISO-uke på formen 2026-W52.", week=str(exc))
            ) from exc

    def fill(self, settings: dict[str, Any]) -> None:
        """Show stored settings; what a school has not set shows as 'as the municipality'."""
        if "order" in settings:
            self.order.data = settings["order"][0]
        elif self.override:
            self.order.data = INHERIT
        for name, yes in (
            ("facebook_enabled", "on"),
            ("backpack_enabled", "on"),
            ("municipal_in_messaging", "yes"),
        ):
            field = getattr(self, name)
            if name in settings:
                field.data = yes if settings[name] else ("off" if yes == "on" else "no")
            elif self.override:
                field.data = INHERIT
        self.backpack_weekly_quota.data = settings.get("backpack_weekly_quota")
        if self.override:
            self.blackout_inherit.data = "blackout_weeks" not in settings
        self.blackout_weeks.data = "\n".join(settings.get("blackout_weeks", []))

    def settings(self) -> dict[str, Any]:
        """The settings the form describes (for a school only those not left to the municipality)."""
        out: dict[str, Any] = {}
        if self.order.data != INHERIT:
            first = self.order.data
            out["order"] = [first, "backpack" if first == "facebook" else "facebook"]
        for name in ("facebook_enabled", "backpack_enabled"):
            if getattr(self, name).data != INHERIT:
                out[name] = _BOOLS[getattr(self, name).data]
        if self.backpack_weekly_quota.data is not None:
            out["backpack_weekly_quota"] = self.backpack_weekly_quota.data
        if not (self.override and self.blackout_inherit.data):
            out["blackout_weeks"] = parse_weeks(self.blackout_weeks.data or "")
        if self.municipal_in_messaging.data != INHERIT:
            out["municipal_in_messaging"] = _BOOLS[self.municipal_in_messaging.data]
        order = ["order", "facebook_enabled", "backpack_enabled", "backpack_weekly_quota",
                 "blackout_weeks", "municipal_in_messaging"]  # fmt: skip
        return {key: out[key] for key in order if key in out}


class PolicyImportForm(Form):
    """Upload a TOML or JSON policy file."""

    policy_file = FileField(
        _l("Fil med retningslinjer (TOML eller JSON)"),
        validators=[FileRequired(_l("Velg en fil."))],
        render_kw={"accept": ".toml,.json,application/json,application/toml"},
    )
