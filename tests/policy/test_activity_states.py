"""An activity's status: which buttons an organiser gets, and where each one leads."""

from __future__ import annotations

import pytest

from directory.policy.activity_states import (
    ACTIONS,
    ARCHIVED,
    CANCELLED,
    DRAFT,
    PUBLIC_STATES,
    PUBLISHED,
    allowed_actions,
    check_transition,
)


@pytest.mark.parametrize(
    ("status", "buttons"),
    [
        (DRAFT, ["publish", "archive"]),
        (PUBLISHED, ["unpublish", "cancel", "archive"]),
        (CANCELLED, ["publish", "unpublish", "archive"]),
        # An archived activity comes back only as a draft, to be looked over before it is public.
        (ARCHIVED, ["unpublish"]),
    ],
)
def test_the_organiser_gets_the_buttons_of_the_status(status, buttons):
    assert allowed_actions(status) == buttons


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        (DRAFT, PUBLISHED, True),
        (DRAFT, CANCELLED, False),  # only what was public can be cancelled
        (PUBLISHED, CANCELLED, True),
        (CANCELLED, PUBLISHED, True),
        (ARCHIVED, PUBLISHED, False),
        (ARCHIVED, DRAFT, True),
        (PUBLISHED, PUBLISHED, False),
        ("unknown", DRAFT, False),
    ],
)
def test_a_move_is_allowed_only_along_the_transitions(current, target, allowed):
    check = check_transition(current, target)
    assert check.allowed is allowed
    assert (check.current, check.target) == (current, target)


def test_every_button_leads_to_a_status_it_is_offered_for():
    for status in (DRAFT, PUBLISHED, CANCELLED, ARCHIVED):
        for action in allowed_actions(status):
            assert check_transition(status, ACTIONS[action]).allowed


@pytest.mark.parametrize(
    ("status", "public"), [(DRAFT, False), (PUBLISHED, True), (CANCELLED, True), (ARCHIVED, False)]
)
def test_a_cancelled_activity_stays_visible_until_it_is_archived(status, public):
    assert (status in PUBLIC_STATES) is public
