"""The languages an organiser may write an offer's text in, besides bokmål (issue 14, item 2).

Not the languages an activity is *held* in (directory.activities.languages): these are the
languages of its title, summary and description, written by the organiser (no machine
translation is sent anywhere). Names in the interface language come from the same CLDR data as
the spoken languages; the endonym is how a family reading that language knows it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l

from directory.activities.languages import language_name
from directory.i18n import gettext as _
from directory.web import abort_with

T = TypeVar("T")


@dataclass(frozen=True)
class ContentLanguage:
    """A language an offer's text may be written in."""

    code: str  # BCP 47, as in lang="…" and hreflang="…"
    endonym: str  # the language's own name for itself
    direction: str = "ltr"  # "rtl" for Arabic

    def name(self, locale: str) -> str:
        """The language's name in the interface language («polsk», «Polish»)."""
        if self.code == "nn":
            return str(_l("nynorsk"))  # CLDR says «norsk nynorsk»; in Norway it is «nynorsk»
        return language_name(self.code, locale)


CONTENT_LANGUAGES: dict[str, ContentLanguage] = {
    language.code: language
    for language in (
        ContentLanguage("nn", "Nynorsk"),
        ContentLanguage("en", "English"),
        ContentLanguage("pl", "Polski"),
        ContentLanguage("uk", "Українська"),
        ContentLanguage("lt", "Lietuvių"),
        ContentLanguage("ar", "العربية", "rtl"),
        ContentLanguage("so", "Soomaali"),
        ContentLanguage("ti", "ትግርኛ"),
    )
}
CONTENT_LANGUAGE_CODES = tuple(CONTENT_LANGUAGES)


def content_language(code: str | None) -> ContentLanguage | None:
    """The content language with this code, or None for anything else."""
    return CONTENT_LANGUAGES.get(code or "")


def in_language_order(translations: Iterable[T]) -> list[T]:
    """Translations (anything with a `language`) in the order of CONTENT_LANGUAGES, unknown
    codes left out."""
    by_code = {t.language: t for t in translations}  # type: ignore[attr-defined]
    return [by_code[code] for code in CONTENT_LANGUAGE_CODES if code in by_code]


def content_text(activity: Any, code: str | None) -> Any:
    """The activity's translation that a `?content=` parameter names (None without one); a
    language the site does not offer, or one the activity has no text in, is a 404 with a
    message (the page and the calendar file alike)."""
    if code is None:
        return None
    translation = None
    if code in CONTENT_LANGUAGES:
        translation = next((t for t in activity.translations if t.language == code), None)
    if translation is None:
        abort_with(404, _("Denne aktiviteten finnes ikke på det språket du ba om."))
    return translation
