"""Norwegian organisation numbers: nine digits, the first 8 or 9, and a mod-11 check digit."""

from __future__ import annotations

import pytest

from directory.policy.orgnumber import check_digit, is_valid_org_number, normalise_org_number


@pytest.mark.parametrize(
    "number",
    [
        "921234554",
        "974760673",
        "921 234 554",
        "NO921234554MVA",
        "no 921.234-554 mva",
        "921234570",  # the check digit is 0 when the weighted sum is a multiple of 11
        "921234511",
        "812345672",  # a number may start with 8 too
    ],
)
def test_valid_numbers(number):
    assert is_valid_org_number(number)


@pytest.mark.parametrize(
    "number",
    [
        "921234555",  # wrong check digit
        "921234571",
        "12345678",
        "1234567890",
        "abcdefghi",
        "",
        None,
        "٩٢١٢٣٤٥٥٤",  # digits, but not ASCII ones
        "123456785",  # right check digit, but numbers start with 8 or 9
        "721234568",  # the same for a 7
    ],
)
def test_invalid_numbers(number):
    assert not is_valid_org_number(number)


def test_eight_digits_whose_check_would_be_ten_make_no_number():
    assert check_digit("92123452") is None
    assert not any(is_valid_org_number(f"92123452{d}") for d in range(10))


def test_normalise():
    assert normalise_org_number(" 921 234 554 ") == "921234554"
    assert normalise_org_number("NO921234554MVA") == "921234554"
    assert normalise_org_number(None) == ""
