"""The languages an activity is held in: stored as codes, shown in the reader's language.

An activity stores its languages as comma-separated codes ("no, en"); a language the list does
not know is kept as the organiser wrote it. Names come from the locale data Babel ships (CLDR),
so «norsk» reads «Norwegian» on an English page without a translation of our own.
"""

from __future__ import annotations

import re

from babel import Locale, UnknownLocaleError
from flask_babel import lazy_gettext as _l

# The languages the form offers, most asked for in Norwegian municipalities first.
LANGUAGE_CODES = (
    "no", "en", "se", "nsl", "pl", "uk", "ar", "so", "ti", "fa", "ur", "lt", "es", "de", "fr",
)  # fmt: skip
DEFAULT_LANGUAGES = ("no",)
# Languages CLDR has no name for.
OWN_NAMES = {"nsl": _l("norsk tegnspråk")}
# Free text as organisers wrote it before the list (bokmål, nynorsk, English), to its code.
ALIASES = {
    "norsk": "no", "bokmål": "no", "nynorsk": "no", "norwegian": "no", "nb": "no", "nn": "no",
    "engelsk": "en", "english": "en",
    "samisk": "se", "nordsamisk": "se", "sami": "se", "sámi": "se", "northern sami": "se",
    "tegnspråk": "nsl", "teiknspråk": "nsl", "norsk tegnspråk": "nsl", "norsk teiknspråk": "nsl",
    "sign language": "nsl", "norwegian sign language": "nsl",
    "polsk": "pl", "polish": "pl", "ukrainsk": "uk", "ukrainian": "uk",
    "arabisk": "ar", "arabic": "ar", "somali": "so", "somalisk": "so",
    "tigrinja": "ti", "tigrinya": "ti", "persisk": "fa", "persian": "fa", "farsi": "fa",
    "urdu": "ur", "litauisk": "lt", "lithuanian": "lt", "spansk": "es", "spanish": "es",
    "tysk": "de", "german": "de", "fransk": "fr", "french": "fr",
}  # fmt: skip
_SEPARATORS = re.compile(r"\s*(?:,|;|/|\bog\b|\band\b)\s*", re.IGNORECASE)


def parse_languages(text: str | None) -> list[str]:
    """The languages in stored or typed text: known ones as codes, others as written, each once."""
    found: list[str] = []
    for piece in _SEPARATORS.split(text or ""):
        piece = " ".join(piece.split())
        if not piece:
            continue
        folded = piece.casefold()
        value = folded if folded in LANGUAGE_CODES else ALIASES.get(folded, piece)
        if value not in found:
            found.append(value)
    return found


def stored_languages(values: list[str]) -> str:
    """The text to store for these codes and written names."""
    return ", ".join(values)


def language_name(code: str, locale: str) -> str:
    """The language's name in the interface language ('norsk', 'Norwegian'); text that is no
    known code is returned as written."""
    if code in OWN_NAMES:
        return str(OWN_NAMES[code])
    if code not in LANGUAGE_CODES:
        return code
    try:
        names = Locale.parse(locale).languages
    except (UnknownLocaleError, ValueError):
        names = Locale.parse("nb").languages
    return names.get(code, code)


def language_names(text: str | None, locale: str) -> list[str]:
    """The stored languages by name in the interface language, in the stored order."""
    return [language_name(value, locale) for value in parse_languages(text)]
