"""Activity status transitions: which status may follow which, and which action leads where."""

from __future__ import annotations

from dataclasses import dataclass

DRAFT = "draft"
PUBLISHED = "published"
CANCELLED = "cancelled"
ARCHIVED = "archived"

# A cancelled activity stays visible (with its note) until it is archived; an archived one
# can only come back as a draft, so that it is reviewed before it is public again.
TRANSITIONS: dict[str, frozenset[str]] = {
    DRAFT: frozenset({PUBLISHED, ARCHIVED}),
    PUBLISHED: frozenset({DRAFT, CANCELLED, ARCHIVED}),
    CANCELLED: frozenset({PUBLISHED, DRAFT, ARCHIVED}),
    ARCHIVED: frozenset({DRAFT}),
}

# The organiser's buttons and the status each one leads to.
ACTIONS: dict[str, str] = {
    "publish": PUBLISHED,
    "unpublish": DRAFT,
    "cancel": CANCELLED,
    "archive": ARCHIVED,
}

PUBLIC_STATES = frozenset({PUBLISHED, CANCELLED})
# A cancelled activity stays visible, marked, but is not passed on to parents through schools.
DISTRIBUTABLE_STATES = frozenset({PUBLISHED})


@dataclass(frozen=True)
class TransitionCheck:
    """Whether moving from `current` to `target` is allowed."""

    current: str
    target: str
    allowed: bool


def check_transition(current: str, target: str) -> TransitionCheck:
    """Whether an activity in status `current` may move to status `target`."""
    return TransitionCheck(current, target, target in TRANSITIONS.get(current, frozenset()))


def allowed_actions(current: str) -> list[str]:
    """The actions (publish, unpublish, cancel, archive) open from status `current`, in order."""
    targets = TRANSITIONS.get(current, frozenset())
    return [action for action, target in ACTIONS.items() if target in targets]
