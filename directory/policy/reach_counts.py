"""Visits through the exports' short links, counted without tracking anyone: what is counted
and how a count may be shown.

A visit is counted only per activity, school, channel, ISO week of the export and day; a
count under SHOWN_FROM is shown as «under 5», never as its number, so that a count of one or
two cannot point at a family.
"""

from __future__ import annotations

from datetime import date

from directory.policy.request_states import APPROVED, CANCELLED, EXPORTED, REQUESTABLE_CHANNELS

# The week's overview (its page and PDF, with the offers near the school) is an export of its
# own: the school shares it as it chooses, so its links carry this channel.
OVERVIEW_CHANNEL = "overview"
REACH_CHANNELS = (*REQUESTABLE_CHANNELS, OVERVIEW_CHANNEL)
# The requests whose offer may have gone out in an export, so whose links may have visits.
SHOWN_FOR_STATES = (APPROVED, EXPORTED, CANCELLED)
# Counts below this are shown as «under SHOWN_FROM».
SHOWN_FROM = 5
# What shown_count gives for a count below SHOWN_FROM (a template writes it in words).
UNDER = "under"
# How far from the export's week a visit still counts: an export can be made weeks ahead and a
# flyer kept on the fridge is read for months, but a link to a week years away is made up.
WEEKS_BEFORE = 12
WEEKS_AFTER = 52


def shown_count(count: int) -> int | str:
    """The count as it may be shown: the number from SHOWN_FROM on, else UNDER."""
    return count if count >= SHOWN_FROM else UNDER


def is_reach_channel(value: object) -> bool:
    """Whether a link's channel is one the exports write."""
    return isinstance(value, str) and value in REACH_CHANNELS


def week_is_countable(week_monday: date, today: date) -> bool:
    """Whether a visit on `today` through an export of the week starting `week_monday` counts:
    from WEEKS_BEFORE weeks before the week (exports go out ahead of it) to WEEKS_AFTER after."""
    weeks_between = (today - week_monday).days // 7
    return -WEEKS_BEFORE <= weeks_between <= WEEKS_AFTER
