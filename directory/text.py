"""Text helpers: slugs for URLs."""

from __future__ import annotations

import re
import unicodedata

_TRANSLIT = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "ae", "Ø": "o", "Å": "a"})


def slugify(text: str, max_length: int = 80) -> str:
    """A URL slug in ASCII: 'Åssiden Idrettsforening' becomes 'assiden-idrettsforening'."""
    text = text.translate(_TRANSLIT)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return text[:max_length].rstrip("-") or "x"


def unique_slug(text: str, taken) -> str:
    """A slug for `text` that `taken(slug)` says is free, adding -2, -3, ... when needed."""
    base = slugify(text)
    slug, n = base, 2
    while taken(slug):
        slug = f"{base[:75]}-{n}"
        n += 1
    return slug
