"""The standard categories every new directory starts with, named in bokmål, nynorsk and English.

`flask init-db` adds them to a database without categories, and the demo uses the same ones;
a municipal admin renames, hides or adds categories afterwards.
"""

from __future__ import annotations

from sqlalchemy import select

from directory.activities.models import Category
from directory.extensions import db

STANDARD_CATEGORIES = (
    # slug, bokmål, nynorsk, English
    ("idrett", "Idrett", "Idrett", "Sports"),
    ("musikk", "Musikk", "Musikk", "Music"),
    ("kunst-og-kultur", "Kunst og kultur", "Kunst og kultur", "Arts and culture"),
    ("dans", "Dans", "Dans", "Dance"),
    ("friluftsliv", "Friluftsliv", "Friluftsliv", "Outdoor life"),
    ("teknologi-og-spill", "Teknologi og spill", "Teknologi og spel", "Technology and games"),
    ("sprak-og-lekser", "Språk og lekser", "Språk og lekser", "Languages and homework"),
    ("natur-og-dyr", "Natur og dyr", "Natur og dyr", "Nature and animals"),
    ("drama-og-teater", "Drama og teater", "Drama og teater", "Drama and theatre"),
    ("mat-og-helse", "Mat og helse", "Mat og helse", "Food and health"),
)


def add_missing_standard_categories() -> dict[str, Category]:
    """Every category by slug, after adding the standard ones that are missing (flushed)."""
    existing = {c.slug: c for c in db.session.scalars(select(Category))}
    for slug, nb, nn, en in STANDARD_CATEGORIES:
        if slug not in existing:
            existing[slug] = Category(slug=slug, name_nb=nb, name_nn=nn, name_en=en)
            db.session.add(existing[slug])
    db.session.flush()
    return existing


def create_standard_categories() -> int:
    """Add the standard categories when there is no category at all; how many were added.

    A directory that has categories keeps them as its admins left them: a renamed, hidden or
    deleted standard category is not brought back.
    """
    if db.session.scalar(select(Category.id).limit(1)) is not None:
        return 0
    add_missing_standard_categories()
    return len(STANDARD_CATEGORIES)
