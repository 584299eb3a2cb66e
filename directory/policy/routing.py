"""The routing rule: which channel carries an offer to one school's parents, and why.

Pure: plain dataclasses in, a Decision out; standard library only. The rules are applied in the
order of DESIGN §4 and the first that settles wins. Every rule that was considered adds one
reason, a full sentence in bokmål; the templates are marked with N_() so the interface can
translate them (Reason.template and Reason.params), while Reason.text gives the bokmål.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from directory.policy.audience import ages_meet, grades_ages

CHANNELS = ("school_messaging", "facebook_share", "backpack_post", "directory_only", "not_eligible")
RULES = (
    "school-own", "audience", "commercial", "unverified", "messaging-reserved", "facebook",
    "backpack", "fallback",
)  # fmt: skip
VOLUNTEER, MUNICIPAL, SCHOOL, COMMERCIAL = "volunteer", "municipal", "school", "commercial"
ORGANISATION_KINDS = (VOLUNTEER, MUNICIPAL, SCHOOL, COMMERCIAL)
REORDERABLE = ("facebook", "backpack")
DEFAULT_BACKPACK_QUOTA = 2
MAX_BACKPACK_QUOTA = 20


def N_(message: str) -> str:
    """Mark a message for translation without translating it here (the interface does)."""
    return message


@dataclass(frozen=True)
class Offer:
    """What the rule needs to know about an activity and its organiser."""

    organisation_kind: str  # volunteer, municipal, school, commercial
    organisation_verified: bool
    age_min: int
    age_max: int
    has_facebook_post: bool = False
    has_flyer: bool = False
    # For an organisation of kind "school": the slug of the school it is (or whose SFO/AKS it is).
    school_slug: str | None = None
    school_business: bool = False  # about school matters (SFO/AKS places, absence, consents...)
    urgent: bool = False


@dataclass(frozen=True)
class SchoolInfo:
    """What the rule needs to know about a school."""

    slug: str
    grade_min: int
    grade_max: int
    has_facebook_page: bool
    accepts_backpack_post: bool
    messaging_label: str = "Vigilo"

    @property
    def age_min(self) -> int:
        """The youngest pupils' age."""
        return grades_ages(self.grade_min, self.grade_max)[0]

    @property
    def age_max(self) -> int:
        """The oldest pupils' age."""
        return grades_ages(self.grade_min, self.grade_max)[1]


@dataclass(frozen=True)
class Policy:
    """A school's effective channel policy: the municipal default with the school's changes.

    Only these settings exist: the audience, commercial and unverified rules, 'volunteer offers
    never in messaging' and 'urgent only from the school itself' are not settings at all, so no
    policy can loosen them.
    """

    order: tuple[str, str] = ("facebook", "backpack")
    facebook_enabled: bool = True
    backpack_enabled: bool = True
    backpack_weekly_quota: int = DEFAULT_BACKPACK_QUOTA
    blackout_weeks: frozenset[str] = field(default_factory=frozenset)  # ISO weeks, "2026-W52"
    municipal_in_messaging: bool = False
    lead_days: int = 0  # a request must arrive this many days before its week's Monday
    # Not a setting: the municipality's school holidays that close whole weeks
    # (directory.policy.school_calendar), given with the school's policy.
    holiday_weeks: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class WeekUsage:
    """How much of a school's channels is used in one ISO week."""

    week: str  # "2026-W48"
    backpack_used: int = 0


@dataclass(frozen=True)
class Reason:
    """One considered rule and the fact that decided it."""

    rule: str
    template: str
    params: Mapping[str, object] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The sentence in bokmål."""
        return self.template % dict(self.params) if self.params else self.template


@dataclass(frozen=True)
class Decision:
    """The channel, the id of the rule that settled it, and a reason per considered rule."""

    channel: str
    rule: str
    reasons: tuple[Reason, ...]

    @property
    def reason_texts(self) -> list[str]:
        """The reasons as bokmål sentences."""
        return [r.text for r in self.reasons]


def week_number(week: str) -> str:
    """'2026-W05' as '5' for sentences."""
    return str(int(week.rsplit("W", 1)[1])) if "W" in week else week


def decide(offer: Offer, school: SchoolInfo, policy: Policy, week_usage: WeekUsage) -> Decision:
    """Decide the channel for this offer at this school under this policy in this week."""
    reasons: list[Reason] = []

    def settle(channel: str, rule: str) -> Decision:
        return Decision(channel=channel, rule=rule, reasons=tuple(reasons))

    label = school.messaging_label

    # 1. school-own
    own = offer.organisation_kind == SCHOOL and offer.school_slug == school.slug
    if own and (offer.school_business or offer.urgent):
        reasons.append(Reason("school-own", N_(
            "Avsenderen er skolen selv, og meldingen gjelder skolen, så den går i %(label)s."),
            {"label": label}))  # fmt: skip
        return settle("school_messaging", "school-own")
    if offer.urgent:
        reasons.append(Reason("school-own", N_(
            "Hastemeldinger kan bare sendes av skolen selv; dette tilbudet behandles som et "
            "vanlig fritidstilbud.")))  # fmt: skip
    elif own:
        reasons.append(
            Reason(
                "school-own",
                N_("Avsenderen er skolen selv, men dette er et fritidstilbud, ikke en skolesak."),
            )
        )
    else:
        reasons.append(Reason("school-own", N_("Avsenderen er ikke skolen selv.")))

    # 2. audience
    # Numbers only: each language's sentence carries its own words for "years" and "grade".
    params = {
        "age_min": offer.age_min,
        "age_max": offer.age_max,
        "grade_min": school.grade_min,
        "grade_max": school.grade_max,
        "school_age_min": school.age_min,
        "school_age_max": school.age_max,
    }
    if not ages_meet(offer.age_min, offer.age_max, school.age_min, school.age_max):
        reasons.append(Reason("audience", N_(
            "Tilbudet er for %(age_min)s–%(age_max)s år, men skolen har %(grade_min)s.–%(grade_max)s. "
            "trinn (%(school_age_min)s–%(school_age_max)s år)."),
            params))  # fmt: skip
        return settle("not_eligible", "audience")
    reasons.append(
        Reason(
            "audience",
            N_(
                "Tilbudet for %(age_min)s–%(age_max)s år passer for elever på skolen "
                "(%(grade_min)s.–%(grade_max)s. trinn)."
            ),
            params,
        )
    )

    # 3. commercial
    if offer.organisation_kind == COMMERCIAL:
        reasons.append(
            Reason(
                "commercial",
                N_("Arrangøren er kommersiell, og skolen skal ikke formidle reklame til elevene."),
            )
        )
        return settle("directory_only", "commercial")
    reasons.append(Reason("commercial", N_("Arrangøren er ikke kommersiell.")))

    # 4. unverified
    if not offer.organisation_verified:
        reasons.append(
            Reason("unverified", N_("Organisasjonen er ikke verifisert av kommunen ennå."))
        )
        return settle("directory_only", "unverified")
    reasons.append(Reason("unverified", N_("Organisasjonen er verifisert av kommunen.")))

    # 5. messaging-reserved
    if offer.organisation_kind == MUNICIPAL and policy.municipal_in_messaging:
        reasons.append(Reason("messaging-reserved", N_(
            "Skolen tillater kommunale tilbud i %(label)s, og dette er et kommunalt tilbud."),
            {"label": label}))  # fmt: skip
        return settle("school_messaging", "messaging-reserved")
    if offer.organisation_kind == MUNICIPAL:
        reasons.append(Reason("messaging-reserved", N_(
            "%(label)s er forbeholdt skolesaker; skolen tar ikke kommunale fritidstilbud der."),
            {"label": label}))  # fmt: skip
    else:
        reasons.append(Reason("messaging-reserved", N_(
            "%(label)s er forbeholdt skolesaker; fritidstilbud fra lag og foreninger sendes "
            "aldri der."), {"label": label}))  # fmt: skip

    # 6 and 7, in the school's order
    for rule in policy.order:
        if rule == "facebook":
            reason = _facebook(offer, school, policy)
            reasons.append(reason)
            if reason.template == _FACEBOOK_YES:
                return settle("facebook_share", "facebook")
        else:
            reason = _backpack(offer, school, policy, week_usage)
            reasons.append(reason)
            if reason.template == _BACKPACK_YES:
                return settle("backpack_post", "backpack")

    # 8. fallback
    reasons.append(
        Reason(
            "fallback", N_("Ingen av skolens kanaler passer, så tilbudet vises bare i katalogen.")
        )
    )
    return settle("directory_only", "fallback")


_FACEBOOK_YES = N_(
    "Arrangøren har et eget Facebook-innlegg, og skolen kan dele det på sin Facebook-side."
)
_BACKPACK_YES = N_(
    "Tilbudet har en trykkbar flyer, og skolen har plass til ranselpost i uke %(week)s "
    "(%(used)s av %(quota)s brukt)."
)

# The backpack reasons that hold for one week only: another week may have room.
BLACKOUT_WEEK = N_("Uke %(week)s er stengt for ranselpost ved skolen.")
HOLIDAY_WEEK = N_("Uke %(week)s er skoleferie, så skolen deler ikke ut ranselpost.")
QUOTA_USED_UP = N_("Ukekvoten for ranselpost (%(quota)s) er brukt opp i uke %(week)s.")
WEEK_BOUND = (BLACKOUT_WEEK, HOLIDAY_WEEK, QUOTA_USED_UP)


def _facebook(offer: Offer, school: SchoolInfo, policy: Policy) -> Reason:
    if not policy.facebook_enabled:
        return Reason("facebook", N_("Skolen deler ikke tilbud på Facebook."))
    if not school.has_facebook_page:
        return Reason("facebook", N_("Skolen har ingen Facebook-side."))
    if not offer.has_facebook_post:
        return Reason("facebook", N_("Arrangøren har ikke et eget Facebook-innlegg å dele."))
    return Reason("facebook", _FACEBOOK_YES)


def _backpack(offer: Offer, school: SchoolInfo, policy: Policy, usage: WeekUsage) -> Reason:
    week = week_number(usage.week)
    if not policy.backpack_enabled or not school.accepts_backpack_post:
        return Reason("backpack", N_("Skolen tar ikke imot ranselpost."))
    if not offer.has_flyer:
        return Reason("backpack", N_("Tilbudet har ingen trykkbar flyer til ranselpost."))
    if usage.week in policy.holiday_weeks:
        return Reason("backpack", HOLIDAY_WEEK, {"week": week})
    if usage.week in policy.blackout_weeks:
        return Reason("backpack", BLACKOUT_WEEK, {"week": week})
    if usage.backpack_used >= policy.backpack_weekly_quota:
        return Reason("backpack", QUOTA_USED_UP,
                      {"quota": policy.backpack_weekly_quota, "week": week})  # fmt: skip
    return Reason(
        "backpack", _BACKPACK_YES,
        {"week": week, "used": usage.backpack_used, "quota": policy.backpack_weekly_quota},
    )  # fmt: skip
