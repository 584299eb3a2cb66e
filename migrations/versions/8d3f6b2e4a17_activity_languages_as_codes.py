"""Activity languages as codes: «norsk, engelsk» becomes «no, en»

Revision ID: 8d3f6b2e4a17
Revises: 5c1e0a7d2b94
Create Date: 2026-12-05 12:30:00.000000

Only data changes: the column stays a string. Free text that names a listed language becomes
its code; anything else is kept as written (the page shows it as it is). The mapping is copied
here, not imported, so that the migration keeps doing what it did when the code moves on.
"""

import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "8d3f6b2e4a17"
down_revision = "5c1e0a7d2b94"
branch_labels = None
depends_on = None

CODES = ("no", "en", "se", "nsl", "pl", "uk", "ar", "so", "ti", "fa", "ur", "lt", "es", "de", "fr")
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
NAMES = {
    "no": "norsk", "en": "engelsk", "se": "nordsamisk", "nsl": "norsk tegnspråk", "pl": "polsk",
    "uk": "ukrainsk", "ar": "arabisk", "so": "somali", "ti": "tigrinja", "fa": "persisk",
    "ur": "urdu", "lt": "litauisk", "es": "spansk", "de": "tysk", "fr": "fransk",
}  # fmt: skip
SEPARATORS = re.compile(r"\s*(?:,|;|/|\bog\b|\band\b)\s*", re.IGNORECASE)

activity = sa.table("activity", sa.column("id", sa.Integer), sa.column("languages", sa.String(100)))


def as_codes(text):
    found = []
    for piece in SEPARATORS.split(text or ""):
        piece = " ".join(piece.split())
        if not piece:
            continue
        folded = piece.casefold()
        value = folded if folded in CODES else ALIASES.get(folded, piece)
        if value not in found:
            found.append(value)
    return ", ".join(found)


def as_names(text):
    pieces = [" ".join(p.split()) for p in (text or "").split(",")]
    return ", ".join(NAMES.get(p, p) for p in pieces if p)


def _rewrite(convert):
    conn = op.get_bind()
    for row_id, languages in conn.execute(sa.select(activity.c.id, activity.c.languages)).all():
        new = convert(languages)[:100]
        if new != languages:
            conn.execute(activity.update().where(activity.c.id == row_id).values(languages=new))


def upgrade():
    _rewrite(as_codes)


def downgrade():
    _rewrite(as_names)
