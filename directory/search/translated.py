"""The analysis of an offer's text in other languages (issue 14, item 2): one index field per
content language, each with an analyser that fits it.

Whoosh ships Snowball stemmers for English and Norwegian and an ISRI stemmer for Arabic
(`whoosh.lang.has_stemmer`); for Polish, Ukrainian, Lithuanian, Somali and Tigrinya it has none,
so their words are only lowercased and folded (accents and marks removed, as the Norwegian
`fold` does: "piłkę" stays itself, "Тренування" becomes "тренування"). Nynorsk uses the site's
own Norwegian analysis, compounds included. A search word is analysed by each language's
chain and looked up in that language's field; both backends use the functions below.
"""

from __future__ import annotations

from functools import cache

from whoosh.analysis import LowercaseFilter, RegexTokenizer, StemFilter
from whoosh.lang import has_stemmer, stemmer_for_language

from directory.activities.content_languages import CONTENT_LANGUAGE_CODES
from directory.search.analysis import (
    WORD_PATTERN,
    FoldFilter,
    NorwegianStemFilter,
    analyse,
    fold,
    index_analyzer,
)

FIELD_PREFIX = "content_"


def field_name(language: str) -> str:
    """The index field holding the offers' text in this language."""
    return f"{FIELD_PREFIX}{language}"


def stems(language: str) -> bool:
    """Whether words in this language are stemmed (Norwegian analysis or a Whoosh stemmer)."""
    return language == "nn" or has_stemmer(language)


@cache
def translation_analyzer(language: str):
    """The index analyser of a content language: Norwegian for nynorsk, a stemmer where Whoosh
    has one (English, Arabic), else words -> lowercase -> fold."""
    if language == "nn":
        return index_analyzer(folded=True)
    chain = RegexTokenizer(WORD_PATTERN) | LowercaseFilter() | FoldFilter()
    if has_stemmer(language):
        chain = chain | StemFilter(stemfn=stemmer_for_language(language), cachesize=50_000)
    return chain


@cache
def _query_analyzer(language: str):
    if language == "nn":  # the index splits compounds; a query word is stemmed whole
        return (
            RegexTokenizer(WORD_PATTERN)
            | LowercaseFilter()
            | FoldFilter()
            | NorwegianStemFilter(folded=True)
        )
    return translation_analyzer(language)


def query_terms(word: str) -> dict[str, str]:
    """A search word (lowercase, no *) as each language's field holds it: {field: term}."""
    terms: dict[str, str] = {}
    for language in CONTENT_LANGUAGE_CODES:
        tokens = analyse(word, _query_analyzer(language))
        if tokens:
            terms[field_name(language)] = tokens[0]
    return terms


def query_prefix(prefix: str) -> str:
    """A search prefix ("fotb*" without its *) as the translation fields are matched by it."""
    return fold(prefix.lower())


def translation_text(title: str, summary: str, description: str) -> str:
    """What the index holds of one translation: its three texts as one."""
    return " ".join(part for part in (title, summary, description) if part)


def tokens_by_field(texts: dict[str, str]) -> dict[str, set[str]]:
    """{field: tokens} of an activity's translations ({language: text}), for the database
    backend's matching in Python."""
    return {
        field_name(language): set(analyse(text, translation_analyzer(language)))
        for language, text in texts.items()
        if language in CONTENT_LANGUAGE_CODES
    }
