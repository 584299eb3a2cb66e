"""Search finds an offer by the words of its text in another language (issue 14, item 2), on
the index and on the database alike; Norwegian words still find it."""

from __future__ import annotations

import pytest

from directory.activities.models import ActivityTranslation
from directory.extensions import db


@pytest.fixture
def football(make_activity):
    """A Norwegian football offer with Polish and Ukrainian texts, and a choir without any."""
    make_activity(title="Barnekor", summary="Vi synger sammen.")
    return make_activity(
        title="Fotballtrening",
        summary="Vi spiller fotball.",
        translations=[
            ActivityTranslation(
                language="pl",
                title="Trening piłki nożnej",
                summary="Gramy razem w piłkę nożną na boisku.",
            ),
            ActivityTranslation(
                language="uk", title="Тренування з футболу", summary="Граємо у футбол разом."
            ),
            ActivityTranslation(language="en", title="Football practice", summary="We play."),
        ],
    )


def test_a_polish_word_finds_the_offer(backend_kind, football, titles):
    assert titles("boisku") == ["Fotballtrening"]
    assert titles("piłki") == ["Fotballtrening"]


def test_a_polish_word_typed_without_accents_finds_the_offer(backend_kind, football, titles):
    assert titles("noznej") == ["Fotballtrening"]


def test_a_ukrainian_word_finds_the_offer_whatever_its_case(backend_kind, football, titles):
    assert titles("футболу") == ["Fotballtrening"]
    assert titles("ТРЕНУВАННЯ") == ["Fotballtrening"]


def test_an_english_word_is_stemmed(backend_kind, football, titles):
    assert titles("practicing") == ["Fotballtrening"]


def test_norwegian_and_translated_words_combine(backend_kind, football, titles):
    assert titles("fotball boisku") == ["Fotballtrening"]
    assert titles("boisku synger") == []


def test_a_prefix_reaches_the_translations(backend_kind, football, titles):
    assert titles("трен*") == ["Fotballtrening"]


def test_a_removed_translation_is_no_longer_found(backend_kind, football, titles):
    football.translations = [t for t in football.translations if t.language != "uk"]
    db.session.commit()
    assert titles("футболу") == []
    assert titles("boisku") == ["Fotballtrening"]


def test_a_word_in_no_text_finds_nothing(backend_kind, football, titles):
    assert titles("koszykówka") == []
