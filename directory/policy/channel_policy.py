"""Channel policies as data: validation, the school override on the municipal default, files.

A policy is a small dict of settings. The municipal default sets them all; a school's override
sets some. The fixed rules (audience, commercial, unverified, volunteer offers never in the
messaging app, urgent messages only from the school itself) are not settings: an attempt to set
one is refused with a message saying that it cannot be changed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from directory.policy.routing import MAX_BACKPACK_QUOTA, N_, REORDERABLE, Policy
from directory.policy.school_calendar import MAX_LEAD_DAYS

SETTINGS = (
    "order", "facebook_enabled", "backpack_enabled", "backpack_weekly_quota", "blackout_weeks",
    "municipal_in_messaging", "lead_days",
)  # fmt: skip
# Settings added after policies were first stored: a complete policy (the municipal default)
# without one has its default value, which keeps the behaviour it had before.
LATER_SETTINGS = {"lead_days": 0}
# Names someone might use to loosen a fixed rule, and what we tell them.
FIXED = {
    "audience": N_("Aldersregelen kan ikke endres: tilbud må passe for skolens trinn."),
    "allow_other_ages": N_("Aldersregelen kan ikke endres: tilbud må passe for skolens trinn."),
    "commercial": N_("Regelen om kommersielle tilbud kan ikke endres: skolen formidler ikke "
                     "reklame."),
    "allow_commercial": N_("Regelen om kommersielle tilbud kan ikke endres: skolen formidler "
                           "ikke reklame."),
    "unverified": N_("Regelen om uverifiserte organisasjoner kan ikke endres."),
    "allow_unverified": N_("Regelen om uverifiserte organisasjoner kan ikke endres."),
    "volunteer_in_messaging": N_("Tilbud fra lag og foreninger kan aldri sendes i "
                                 "meldingsappen."),
    "urgent_from_others": N_("Hastemeldinger kan bare sendes av skolen selv."),
}  # fmt: skip
WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


class PolicyError(ValueError):
    """A policy that cannot be accepted: the field at fault and a bokmål message."""

    def __init__(self, field: str, message: str, params: Mapping[str, object] | None = None):
        self.field = field
        self.template = message
        self.params = dict(params or {})
        super().__init__(f"{field}: {self.text}")

    @property
    def text(self) -> str:
        """The message in bokmål."""
        return self.template % self.params if self.params else self.template


def _bool(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise PolicyError(field, N_("«%(field)s» må være true eller false."), {"field": field})
    return value


def _week(field: str, value: Any) -> str:
    match = WEEK.match(value) if isinstance(value, str) else None
    if not match or not 1 <= int(match.group(2)) <= 53:
        raise PolicyError(
            field, N_("«%(value)s» er ikke en ISO-uke på formen 2026-W52."), {"value": value}
        )
    return value


def parse_settings(data: Any, *, complete: bool) -> dict[str, Any]:
    """Validated settings from a mapping; `complete` requires every setting (the default)."""
    if not isinstance(data, Mapping):
        raise PolicyError("policy", N_("Retningslinjene må være en tabell med innstillinger."))
    for key in data:
        if key in FIXED:
            raise PolicyError(key, FIXED[key])
        if key not in SETTINGS:
            raise PolicyError(key, N_("«%(field)s» er ikke en kjent innstilling."), {"field": key})
    settings: dict[str, Any] = {}
    if "order" in data:
        order = data["order"]
        if (
            not isinstance(order, list | tuple)
            or len(order) != 2
            or sorted(order) != sorted(REORDERABLE)
        ):
            raise PolicyError("order", N_("«order» må være [\"facebook\", \"backpack\"] eller "
                                          "[\"backpack\", \"facebook\"]."))  # fmt: skip
        settings["order"] = tuple(order)
    for key in ("facebook_enabled", "backpack_enabled", "municipal_in_messaging"):
        if key in data:
            settings[key] = _bool(key, data[key])
    if "backpack_weekly_quota" in data:
        quota = data["backpack_weekly_quota"]
        if (
            isinstance(quota, bool)
            or not isinstance(quota, int)
            or not (0 <= quota <= MAX_BACKPACK_QUOTA)
        ):
            raise PolicyError("backpack_weekly_quota", N_(
                "Ukekvoten for ranselpost må være et helt tall fra 0 til %(max)s."),
                {"max": MAX_BACKPACK_QUOTA})  # fmt: skip
        settings["backpack_weekly_quota"] = quota
    if "blackout_weeks" in data:
        weeks = data["blackout_weeks"]
        if not isinstance(weeks, list | tuple) or len(weeks) > 60:
            raise PolicyError("blackout_weeks", N_("«blackout_weeks» må være en liste med uker."))
        settings["blackout_weeks"] = frozenset(_week("blackout_weeks", w) for w in weeks)
    if "lead_days" in data:
        lead = data["lead_days"]
        if isinstance(lead, bool) or not isinstance(lead, int) or not 0 <= lead <= MAX_LEAD_DAYS:
            raise PolicyError("lead_days", N_(
                "Fristen må være et helt antall dager fra 0 til %(max)s."),
                {"max": MAX_LEAD_DAYS})  # fmt: skip
        settings["lead_days"] = lead
    if complete:
        for key, value in LATER_SETTINGS.items():
            settings.setdefault(key, value)
        missing = [key for key in SETTINGS if key not in settings]
        if missing:
            raise PolicyError(missing[0], N_("Innstillingen «%(field)s» mangler."),
                              {"field": missing[0]})  # fmt: skip
    return settings


def effective_policy(default: Mapping[str, Any], override: Mapping[str, Any] | None) -> Policy:
    """The policy a school works under: the municipal default with the school's settings."""
    policy = Policy(**parse_settings(default, complete=True))
    if override:
        policy = replace(policy, **parse_settings(override, complete=False))
    return policy


def policy_to_dict(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Settings as plain JSON/TOML-ready values, in a stable order (weeks sorted)."""
    out: dict[str, Any] = {}
    for key in SETTINGS:
        if key not in settings:
            continue
        value = settings[key]
        if key == "order":
            value = list(value)
        elif key == "blackout_weeks":
            value = sorted(value)
        out[key] = value
    return out


def default_settings() -> dict[str, Any]:
    """The municipal default from the Drammen answer: Facebook first, then 2 flyers a week."""
    return policy_to_dict(Policy().__dict__)
