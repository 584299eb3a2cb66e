"""The password rule, pure: length in characters, the account's own e-mail and name, common ones."""

from __future__ import annotations

import pytest

from directory.policy.passwords import PasswordProblem, check_password, fold

COMMON = frozenset({"qwertyuiop", "passord123"})


def problem(password: str, **account) -> PasswordProblem | None:
    return check_password(password, common=COMMON, **account)


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("a" * 9, PasswordProblem.TOO_SHORT),
        ("a" * 10, None),
        ("a" * 200, None),
        ("a" * 201, PasswordProblem.TOO_LONG),
        ("æøå" * 4, None),  # twelve characters, whatever their bytes
        ("ﬃ" * 4, None),  # each ligature counts as the three letters it stands for
    ],
)
def test_the_length_counts_characters_from_ten_to_two_hundred(password, expected):
    assert problem(password) is expected


@pytest.mark.parametrize(
    "password",
    ["kari.nordmann@example.org", " KARI.NORDMANN@EXAMPLE.ORG ", "kari.nordmann", "Kari.Nordmann"],
)
def test_the_accounts_address_or_its_local_part_is_refused(password):
    assert problem(password, email="Kari.Nordmann@example.org") is PasswordProblem.EMAIL


def test_the_name_is_refused_as_a_whole_but_may_be_part_of_a_phrase():
    assert problem("Kari Nordmann", name="kari nordmann") is PasswordProblem.NAME
    assert problem("kari nordmann går på tur", name="Kari Nordmann") is None


@pytest.mark.parametrize("password", ["QwertyUiop", " passord123 ", "ＱＷＥＲＴＹＵＩＯＰ"])
def test_a_common_password_is_refused_in_any_case_or_width(password):
    assert problem(password) is PasswordProblem.COMMON


def test_the_first_problem_is_named():
    # Too short before anything else; the e-mail before the name before the common list.
    assert problem("kari", email="kari@example.org") is PasswordProblem.TOO_SHORT
    assert (
        problem("qwertyuiop", email="qwertyuiop@example.org", name="qwertyuiop")
        is PasswordProblem.EMAIL
    )
    assert problem("qwertyuiop", name="QWERTYUIOP") is PasswordProblem.NAME


def test_any_other_password_is_accepted():
    assert problem("🐴🔋 tre lange ord", email="kari@example.org", name="Kari") is None


def test_passwords_are_compared_folded():
    assert fold("  Ｋari\u00a0 ") == "kari"
