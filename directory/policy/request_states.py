"""Distribution request states: which act moves a request where, and what may be requested.

Pure: standard library only. An organiser sends a request (pending) and may withdraw it until it
is exported; school staff approve or reject it, and export what they approved; an edit of the
activity sends a pending or approved request back to review. When the organiser cancels the
activity, what the school approved or exported goes back to the school as cancelled, with the
reason, so that staff can take the flyer or post down. Withdrawn, rejected and cancelled are
final, and exported is too but for the cancellation: a new request starts over. The messages are bokmål templates marked with N_() for the
interface to translate.
"""

from __future__ import annotations

from dataclasses import dataclass

from directory.policy.routing import N_

PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
WITHDRAWN = "withdrawn"
EXPORTED = "exported"
CANCELLED = "cancelled"  # the activity was cancelled after the school said yes
STATES = (PENDING, APPROVED, REJECTED, WITHDRAWN, EXPORTED, CANCELLED)

# Each act and the states it may start from, with the state it leads to.
TRANSITIONS: dict[str, dict[str, str]] = {
    "approve": {PENDING: APPROVED},
    "reject": {PENDING: REJECTED, APPROVED: REJECTED},
    "withdraw": {PENDING: WITHDRAWN, APPROVED: WITHDRAWN},
    "export": {APPROVED: EXPORTED},
    "reopen": {PENDING: PENDING, APPROVED: PENDING},
    # The organiser cancelled the activity: a yes of the school's is taken back. (A pending
    # request stays pending: it cannot be approved while the activity is cancelled.)
    "cancel": {APPROVED: CANCELLED, EXPORTED: CANCELLED},
}
ACTS = tuple(TRANSITIONS)
FINAL_STATES = frozenset({REJECTED, WITHDRAWN, CANCELLED})
# The states the school has said yes to. Their requests hold a place in the school's weekly
# backpack-post quota (pending requests compete for the places; approving one re-checks the
# quota), go into the week's export (exporting again gives the same file) and count as approved
# in the statistics.
QUOTA_STATES = (APPROVED, EXPORTED)
# The states the school has decided: yes (QUOTA_STATES) or no. Pending and withdrawn requests
# were never decided.
DECIDED_STATES = (*QUOTA_STATES, REJECTED)
# States that count as "already asked" for an activity, school and week: a new request waits
# until the earlier one is rejected, withdrawn or cancelled (an activity published again after
# its cancellation is asked for anew).
OPEN_STATES = (PENDING, APPROVED, EXPORTED)
# The states whose decision is not settled yet: an edit of the activity sends them back to review,
# and the review page checks the rule again for them.
REOPENABLE_STATES = tuple(TRANSITIONS["reopen"])
# The states the activity's cancellation takes back to the school: those it said yes to.
CANCELLABLE_STATES = tuple(TRANSITIONS["cancel"])
# The states in the order a request lives through them, for tables: from the start to the ends.
LIFECYCLE_ORDER = (PENDING, APPROVED, EXPORTED, CANCELLED, REJECTED, WITHDRAWN)
# Only channels that a school carries can be requested; the page says why the others cannot.
REQUESTABLE_CHANNELS = ("school_messaging", "facebook_share", "backpack_post")
MAX_REASON_LENGTH = 1000

REFUSALS: dict[str, str] = {
    "approve": N_("Bare ventende forespørsler kan godkjennes (denne er %(state)s)."),
    "reject": N_("Bare ventende eller godkjente forespørsler kan avvises (denne er %(state)s)."),
    "withdraw": N_(
        "Bare ventende eller godkjente forespørsler kan trekkes tilbake (denne er %(state)s)."
    ),
    "export": N_("Bare godkjente forespørsler kan eksporteres (denne er %(state)s)."),
    "reopen": N_("Forespørselen er avsluttet (%(state)s) og kan ikke vurderes på nytt."),
    "cancel": N_("Bare godkjente eller eksporterte forespørsler avlyses (denne er %(state)s)."),
}
STATE_NAMES: dict[str, str] = {
    PENDING: N_("venter"),
    APPROVED: N_("godkjent"),
    REJECTED: N_("avvist"),
    WITHDRAWN: N_("trukket tilbake"),
    EXPORTED: N_("eksportert"),
    CANCELLED: N_("avlyst etter godkjenning"),
}


@dataclass(frozen=True)
class Transition:
    """The outcome of trying `act` on a request in `current`: the new state, or why not."""

    current: str
    act: str
    target: str | None
    refusal: str | None = None  # a template with %(state)s, when the act is not allowed

    @property
    def allowed(self) -> bool:
        """Whether the act may be done."""
        return self.target is not None


def transition(current: str, act: str) -> Transition:
    """What `act` (approve, reject, withdraw, export, reopen, cancel) does to a request in
    `current`."""
    if act not in TRANSITIONS:
        raise ValueError(f"unknown act {act!r}")
    target = TRANSITIONS[act].get(current)
    if target is None:
        return Transition(current, act, None, REFUSALS[act])
    return Transition(current, act, target)


def allowed_acts(current: str) -> list[str]:
    """The acts open from `current`, in the order of ACTS."""
    return [act for act in ACTS if current in TRANSITIONS[act]]


def blocks_new_request(state: str) -> bool:
    """Whether an earlier request in `state` stops a new one for the same activity, school and
    week: a pending, approved or exported one does, a rejected, withdrawn or cancelled one does
    not."""
    return state in OPEN_STATES


def is_requestable(channel: str) -> bool:
    """Whether a routing decision for this channel can become a request to the school."""
    return channel in REQUESTABLE_CHANNELS


def rejection_reason_problem(reason: str | None) -> str | None:
    """Why a rejection reason is not acceptable (a template), or None when it is."""
    text = (reason or "").strip()
    if not text:
        return N_("Skriv en begrunnelse: arrangøren ser den.")
    if len(text) > MAX_REASON_LENGTH:
        return N_("Begrunnelsen kan være på høyst %(max)s tegn.")
    return None
