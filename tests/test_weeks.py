"""Weeks as staff pick them: the lists of coming weeks and their labels with dates."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine

from directory.timeutil import OSLO
from directory.weeks import (
    coming_weeks,
    parse_week,
    this_week,
    week_choice_label,
    week_choices,
    week_in_text,
)

FRIDAY_EVENING = datetime(2026, 12, 4, 19, 30, tzinfo=OSLO)  # week 49


@pytest.fixture
def bokmål(app):
    with app.test_request_context("/"):
        yield


@pytest.mark.parametrize(
    ("week", "label"),
    [
        ("2026-W50", "Uke 50: 7.–13. desember"),
        ("2026-W49", "Uke 49: 30. november–6. desember"),
        ("2026-W53", "Uke 53: 28. desember–3. januar"),
        ("2027-W01", "Uke 1, 2027: 4.–10. januar"),
        ("2025-W40", "Uke 40, 2025: 29. september–5. oktober"),
    ],
)
def test_a_week_is_labelled_with_its_number_and_dates(bokmål, week, label):
    with time_machine.travel(FRIDAY_EVENING, tick=False):
        assert week_choice_label(week) == label


def test_the_labels_follow_the_language(app):
    with app.test_request_context("/?lang=en"):
        # Babel's English interval, with thin spaces round the dash.
        assert week_choice_label("2026-W50", date(2026, 12, 4)).endswith(
            ": December 7\u2009–\u200913"
        )


def test_a_week_in_a_sentence_is_lower_case_with_the_year_when_it_is_not_this_year(bokmål):
    today = date(2026, 12, 4)
    assert week_in_text("2026-W50", today) == "uke 50 (7.–13. desember)"
    assert week_in_text("2020-W10", today) == "uke 10 i 2020 (2.–8. mars)"


def test_the_coming_weeks_start_with_this_week_and_run_over_new_year():
    with time_machine.travel(FRIDAY_EVENING, tick=False):
        assert this_week() == "2026-W49"
        weeks = coming_weeks(52)
    assert weeks[:2] == ["2026-W49", "2026-W50"]
    assert "2026-W53" in weeks and "2027-W01" in weeks  # 2026 has a week 53
    assert weeks[-1] == "2027-W47"
    assert coming_weeks(2, date(2026, 12, 4), start=1) == ["2026-W50", "2026-W51"]


def test_sunday_night_in_oslo_is_still_the_same_week():
    # 23:30 on Sunday in Oslo is Sunday 22:30 UTC: still week 49.
    with time_machine.travel(datetime(2026, 12, 6, 23, 30, tzinfo=OSLO), tick=False):
        assert this_week() == "2026-W49"


def test_choices_are_in_order_once_each_and_leave_out_what_is_not_a_week(bokmål):
    choices = week_choices(
        ["2026-W51", "2026-W50", "2026-W50", "2026-W54", "UKE"], date(2026, 12, 4)
    )
    assert [week for week, _label in choices] == ["2026-W50", "2026-W51"]


@pytest.mark.parametrize("value", ["2026-W54", "2026-W00", "2026W10", "uke 50", "", None, 202650])
def test_only_real_iso_weeks_are_read(value):
    assert parse_week(value) is None


def test_week_53_is_read_only_in_years_that_have_one():
    assert parse_week(" 2026-W53 ") == "2026-W53"
    assert parse_week("2027-W53") is None
