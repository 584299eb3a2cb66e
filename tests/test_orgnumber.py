"""Norwegian organisation numbers: the mod-11 check."""

import pytest

from directory.policy.orgnumber import is_valid_org_number, normalise_org_number


@pytest.mark.parametrize("number", ["921234554", "974760673", "921 234 554", "NO921234554MVA"])
def test_valid_numbers(number):
    assert is_valid_org_number(number)


@pytest.mark.parametrize(
    "number",
    ["921234555", "12345678", "1234567890", "abcdefghi", "", None, "٩٢١٢٣٤٥٥٤", "123456785"],
)
def test_invalid_numbers(number):
    assert not is_valid_org_number(number)


def test_normalise():
    assert normalise_org_number(" 921 234 554 ") == "921234554"
