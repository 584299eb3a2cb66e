"""The Norwegian analysis: compounds, stems, stop words and folding, at index and query time."""

from __future__ import annotations

import pytest

from directory.search.analysis import (
    analyse,
    compound_parts,
    fold,
    index_analyzer,
    spelling_analyzer,
    stem,
)
from directory.search.whoosh_backend import parse_text


@pytest.mark.parametrize(
    ("word", "parts"),
    [
        ("fotballtrening", ["fotball", "trening"]),
        ("svømmekurs", ["svømme", "kurs"]),
        ("barnekoret", ["barn", "koret"]),  # the linking e is dropped
        ("håndballtreninger", ["håndball", "treninger"]),
        ("jentefotball", ["jente", "fotball"]),
        ("jentefotballtrening", ["jente", "fotballtrening", "fotball", "trening"]),
        ("sommerleir", ["sommer", "leir"]),
        ("linedans", ["dans"]),  # a known tail after an unknown first part
        ("korpsmusikk", ["korps", "musikk"]),  # the longest head wins over "kor"
    ],
)
def test_compounds_split_into_their_parts(word, parts):
    assert compound_parts(word) == parts


@pytest.mark.parametrize(
    "word",
    ["fotball", "korps", "turnering", "matematikk", "kortspill", "turist", "skilt", "ungdommen"],
)
def test_words_that_only_look_like_compounds_stay_whole(word):
    assert compound_parts(word) == []


def test_index_time_splits_the_query_side_does_not():
    assert analyse("Fotballtreningen", index_analyzer()) == ["fotballtrening", "fotball", "trening"]
    (word,) = parse_text("Fotballtreningen").parsed
    assert word.stemmed == "fotballtrening"  # one word to match: the index holds the parts
    assert analyse("Barnekoret", index_analyzer()) == ["barnekor", "barn", "kor"]


@pytest.mark.parametrize(
    ("forms", "shared"),
    [
        (["fotball", "fotballen", "fotballer"], "fotball"),
        (["trening", "treningen", "treninger", "treningene"], "trening"),
        (["kurs", "kurset", "kursene"], "kurs"),  # Snowball alone: kurs -> kur, kurset -> kurs
        (["dans", "dansen", "danse", "dansing"], "dans"),  # Snowball alone: dans -> dan
        (["svømme", "svømming"], "svømm"),
        (["svømmekurs", "svømmekurset"], "svømmekurs"),  # compound-aware
        (["barnekor", "barnekoret"], "barnekor"),
    ],
)
def test_forms_of_a_word_share_a_stem(forms, shared):
    assert {stem(f) for f in forms} == {shared}


def test_stop_words_are_dropped_but_activity_words_kept():
    assert [w.stemmed for w in parse_text("Fotball for barn og unge i Drammen").parsed] == [
        "fotball",
        "barn",
        "ung",
        "dramm",
    ]
    assert [w.stemmed for w in parse_text("kor").parsed] == ["kor"]


def test_folding():
    assert fold("Svømmekurs på Ærøy, café") == "Svommekurs pa AEroy, cafe"
    assert analyse("Svømmekurs", index_analyzer(folded=True)) == ["svommekurs", "svomm", "kurs"]
    assert parse_text("svommekurs").parsed[0].folded == "svommekurs"


def test_spelling_keeps_whole_words_and_parts_unstemmed():
    assert analyse("Fotballtreningen for jenter", spelling_analyzer()) == [
        "fotballtreningen",
        "fotball",
        "treningen",
        "jenter",
    ]
