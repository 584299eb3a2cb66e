"""The distribution request state machine: which act leads where, over random sequences of acts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from directory.policy.request_states import (
    ACTS,
    APPROVED,
    CANCELLABLE_STATES,
    CANCELLED,
    DECIDED_STATES,
    EXPORTED,
    FINAL_STATES,
    LIFECYCLE_ORDER,
    MAX_REASON_LENGTH,
    PENDING,
    QUOTA_STATES,
    REJECTED,
    REOPENABLE_STATES,
    REQUESTABLE_CHANNELS,
    STATE_NAMES,
    STATES,
    WITHDRAWN,
    allowed_acts,
    blocks_new_request,
    is_requestable,
    rejection_reason_problem,
    transition,
)
from directory.policy.routing import CHANNELS

any_state = st.sampled_from(STATES)
any_act = st.sampled_from(ACTS)


@given(act=any_act)
def test_nothing_leaves_withdrawn(act):
    outcome = transition(WITHDRAWN, act)
    assert not outcome.allowed
    assert outcome.target is None
    assert "%(state)s" in outcome.refusal


@given(state=st.sampled_from(sorted(FINAL_STATES)), act=any_act)
def test_final_states_allow_no_act(state, act):
    assert not transition(state, act).allowed
    assert allowed_acts(state) == []


@pytest.mark.parametrize("state", [REJECTED, WITHDRAWN, CANCELLED])
def test_a_rejected_withdrawn_or_cancelled_request_is_settled(state):
    assert allowed_acts(state) == []
    assert all(transition(state, act).refusal for act in ACTS)


def test_an_exported_request_is_settled_but_for_the_activity_s_cancellation():
    assert allowed_acts(EXPORTED) == ["cancel"]


@given(state=any_state)
def test_only_a_yes_of_the_school_s_is_cancelled_with_the_activity(state):
    """Approved or exported go back to the school as cancelled; pending stays to be decided."""
    outcome = transition(state, "cancel")
    assert outcome.allowed is (state in (APPROVED, EXPORTED))
    assert (state in CANCELLABLE_STATES) is outcome.allowed
    if outcome.allowed:
        assert outcome.target == CANCELLED


def test_the_final_states_are_those_no_act_leaves():
    assert {state for state in STATES if not allowed_acts(state)} == FINAL_STATES


@pytest.mark.parametrize("state", [PENDING, APPROVED])
def test_a_pending_or_approved_request_can_still_be_withdrawn_rejected_or_reopened(state):
    assert {"withdraw", "reject", "reopen"} <= set(allowed_acts(state))


@given(state=any_state, act=any_act)
def test_exported_is_reached_only_by_exporting_an_approved_request(state, act):
    outcome = transition(state, act)
    if outcome.target == EXPORTED:
        assert (state, act) == (APPROVED, "export")


@given(state=any_state)
def test_export_is_allowed_only_from_approved(state):
    assert transition(state, "export").allowed == (state == APPROVED)


@given(state=any_state)
def test_approve_is_allowed_only_from_pending(state):
    outcome = transition(state, "approve")
    assert outcome.allowed == (state == PENDING)
    if outcome.allowed:
        assert outcome.target == APPROVED
    else:
        assert outcome.refusal


@given(state=any_state, act=any_act)
def test_every_allowed_transition_lands_in_a_state(state, act):
    outcome = transition(state, act)
    assert outcome.current == state
    assert outcome.act == act
    if outcome.allowed:
        assert outcome.target in STATES
        assert outcome.refusal is None
    else:
        assert outcome.refusal is not None


@given(acts=st.lists(any_act, max_size=30))
def test_random_sequences_stay_in_states_and_final_stays_final(acts):
    state = PENDING
    final_reached = False
    for act in acts:
        outcome = transition(state, act)
        if outcome.allowed:
            assert not final_reached, f"{act} moved a request out of final {state}"
            state = outcome.target
        assert state in STATES
        final_reached = final_reached or state in FINAL_STATES


@given(acts=st.lists(any_act, max_size=30))
def test_a_request_is_exported_only_after_an_approval(acts):
    state, history = PENDING, [PENDING]
    for act in acts:
        outcome = transition(state, act)
        if outcome.allowed:
            state = outcome.target
            history.append(state)
    if EXPORTED in history:
        assert history[history.index(EXPORTED) - 1] == APPROVED


@given(state=any_state)
def test_allowed_acts_agrees_with_transition(state):
    assert allowed_acts(state) == [act for act in ACTS if transition(state, act).allowed]


def test_open_states_allow_the_expected_acts():
    assert allowed_acts(PENDING) == ["approve", "reject", "withdraw", "reopen"]
    assert allowed_acts(APPROVED) == ["reject", "withdraw", "export", "reopen", "cancel"]


def test_reopening_sends_a_request_back_to_pending():
    assert transition(PENDING, "reopen").target == PENDING
    assert transition(APPROVED, "reopen").target == PENDING


def test_an_unknown_act_is_a_programming_error():
    with pytest.raises(ValueError):
        transition(PENDING, "delete")


def test_every_state_has_a_name_and_a_column():
    assert set(STATE_NAMES) == set(STATES)
    assert all(STATE_NAMES[state].strip() for state in STATES)
    assert sorted(LIFECYCLE_ORDER) == sorted(STATES)


@pytest.mark.parametrize(
    ("state", "blocks"),
    [
        (PENDING, True),
        (APPROVED, True),
        (EXPORTED, True),
        (REJECTED, False),
        (WITHDRAWN, False),
        (CANCELLED, False),
    ],
)
def test_an_earlier_request_blocks_a_new_one_until_it_is_rejected_or_withdrawn(state, blocks):
    """Same activity, school and week: an exported request went out, so asking again is no."""
    assert blocks_new_request(state) is blocks


@pytest.mark.parametrize("state", STATES)
def test_only_what_the_school_said_yes_to_holds_a_quota_place(state):
    """A yes (approved, or already exported) takes a place; a no, or no answer yet, does not."""
    said_yes = transition(state, "export").allowed or state == EXPORTED
    assert (state in QUOTA_STATES) is said_yes
    assert (state in DECIDED_STATES) is (said_yes or state == REJECTED)


@pytest.mark.parametrize("state", STATES)
def test_an_edit_sends_back_to_review_exactly_what_can_be_reopened(state):
    assert (state in REOPENABLE_STATES) is transition(state, "reopen").allowed


@pytest.mark.parametrize("reason", [None, "", "   ", "\n\t "])
def test_rejecting_needs_a_reason(reason):
    assert rejection_reason_problem(reason)


def test_a_too_long_reason_is_refused_and_the_limit_itself_is_accepted():
    assert rejection_reason_problem("x" * 1001)
    assert rejection_reason_problem("x" * 1000) is None
    # Surrounding spaces do not count against the limit.
    assert rejection_reason_problem("  " + "x" * MAX_REASON_LENGTH + "  ") is None


@given(reason=st.text(min_size=1, max_size=MAX_REASON_LENGTH).filter(lambda s: s.strip()))
def test_any_non_blank_reason_within_the_limit_is_accepted(reason):
    assert rejection_reason_problem(reason) is None


@given(reason=st.text(alphabet=" \t\n\r", max_size=50))
def test_blank_reasons_are_always_refused(reason):
    assert rejection_reason_problem(reason)


@pytest.mark.parametrize("channel", CHANNELS)
def test_only_the_three_school_channels_are_requestable(channel):
    expected = channel in {"school_messaging", "facebook_share", "backpack_post"}
    assert is_requestable(channel) == expected


def test_requestable_channels_are_routing_channels():
    assert set(REQUESTABLE_CHANNELS) <= set(CHANNELS)
    assert not is_requestable("directory_only")
    assert not is_requestable("not_eligible")
    assert not is_requestable("")
