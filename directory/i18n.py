"""Interface language: bokmål by default, nynorsk and English on request, no cookie."""

from __future__ import annotations

from flask import current_app, g, request

LANGUAGE_NAMES = {"nb": "Bokmål", "nn": "Nynorsk", "en": "English"}


def select_locale() -> str:
    """The language from ?lang=, else bokmål. No cookie is set: links carry the choice."""
    wanted = request.args.get("lang", "") if request else ""
    if wanted in current_app.config["LANGUAGES"]:
        g.lang = wanted
        return wanted
    g.lang = None
    return current_app.config["BABEL_DEFAULT_LOCALE"]
