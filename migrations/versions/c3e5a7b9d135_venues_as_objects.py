"""Venues as objects: the venue table, activity.venue_id, and the activities' venue texts
migrated into venues (one per distinct name and address within a municipality)

Revision ID: c3e5a7b9d135
Revises: b2d4f6a81024
Create Date: 2026-12-05 05:30:00.000000

The slug and match-key rules are copied here, not imported, so that the migration keeps doing
what it did when the code moves on.
"""

import hashlib
import re
import unicodedata
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c3e5a7b9d135"
down_revision = "b2d4f6a81024"
branch_labels = None
depends_on = None

_TRANSLIT = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "ae", "Ø": "o", "Å": "a"})


def _slugify(text):
    text = text.translate(_TRANSLIT)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return text[:80].rstrip("-") or "x"


def _folded(text):
    return " ".join((text or "").split()).casefold()


def _match_key(name, address):
    return hashlib.sha256(f"{_folded(name)}\n{_folded(address)}".encode()).hexdigest()[:16]


def upgrade():
    op.create_table(
        "venue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=150), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("match_key", sa.String(length=16), nullable=False),
        sa.Column("latitude", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("longitude", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("accessibility", sa.Text(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by_id"], ["organisation.id"], name="fk_venue_added_by_id_organisation"
        ),
        sa.ForeignKeyConstraint(
            ["municipality_id"], ["municipality.id"], name="fk_venue_municipality_id_municipality"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_venue"),
        sa.UniqueConstraint(
            "municipality_id", "match_key", name="uq_venue_municipality_id_match_key"
        ),
        sa.UniqueConstraint("slug", name="uq_venue_slug"),
    )
    with op.batch_alter_table("venue", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_venue_added_by_id"), ["added_by_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_venue_municipality_id"), ["municipality_id"], unique=False
        )
    # No batch copy of the activity table: other tables' foreign keys point at it, and SQLite
    # refuses to drop and recreate it once it holds rows. SQLite adds a column with its
    # REFERENCES clause in place.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE activity ADD COLUMN venue_id INTEGER "
            "CONSTRAINT fk_activity_venue_id_venue REFERENCES venue (id)"
        )
    else:
        op.add_column("activity", sa.Column("venue_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_activity_venue_id_venue", "activity", "venue", ["venue_id"], ["id"]
        )
    op.create_index("ix_activity_venue_id", "activity", ["venue_id"], unique=False)
    _migrate_venue_texts()


def _migrate_venue_texts():
    """One venue per distinct name and address within a municipality, named and addressed as its
    most recent use, with the coordinates of its most recent use that had them; added by the
    organisation of its most recent use (so a place only a draft names stays unpublished)."""
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT a.id, a.venue, a.address, a.latitude, a.longitude, a.organisation_id, "
            "o.municipality_id FROM activity a JOIN organisation o ON o.id = a.organisation_id "
            "WHERE a.venue <> '' OR a.address <> '' ORDER BY a.updated_at DESC, a.id DESC"
        )
    ).all()
    venue_table = sa.table(
        "venue",
        sa.column("id", sa.Integer),
        sa.column("municipality_id", sa.Integer),
        sa.column("slug", sa.String),
        sa.column("name", sa.String),
        sa.column("address", sa.String),
        sa.column("match_key", sa.String),
        sa.column("latitude", sa.Numeric(9, 6)),
        sa.column("longitude", sa.Numeric(9, 6)),
        sa.column("accessibility", sa.Text),
        sa.column("added_by_id", sa.Integer),
        sa.column("created_at", sa.DateTime()),
        sa.column("updated_at", sa.DateTime()),
        sa.column("version", sa.Integer),
    )
    venues = {}  # (municipality, key) -> values
    members = {}  # (municipality, key) -> activity ids
    for row in rows:
        name = " ".join((row.venue or "").split())
        address = " ".join((row.address or "").split())
        if not name:
            name, address = address, ""
        key = (row.municipality_id, _match_key(name, address))
        members.setdefault(key, []).append(row.id)
        found = venues.get(key)
        has_point = row.latitude is not None and row.longitude is not None
        if found is None:
            venues[key] = {
                "municipality_id": row.municipality_id,
                "name": name[:150],
                "address": address[:200],
                "match_key": key[1],
                "latitude": row.latitude if has_point else None,
                "longitude": row.longitude if has_point else None,
                "added_by_id": row.organisation_id,
            }
        elif found["latitude"] is None and has_point:
            found["latitude"], found["longitude"] = row.latitude, row.longitude
    now = datetime.now(UTC).replace(tzinfo=None)  # stored as naive UTC (directory.dbtypes)
    taken = set()
    for key, values in venues.items():
        base = _slugify(values["name"])
        slug, n = base, 2
        while slug in taken:
            slug = f"{base[:75]}-{n}"
            n += 1
        taken.add(slug)
        conn.execute(
            venue_table.insert().values(
                slug=slug, accessibility="", created_at=now, updated_at=now, version=1, **values
            )
        )
        venue_id = conn.execute(
            sa.text("SELECT id FROM venue WHERE slug = :slug"), {"slug": slug}
        ).scalar_one()
        ids = members[key]
        for start in range(0, len(ids), 500):
            conn.execute(
                sa.text(
                    "UPDATE activity SET venue_id = :venue, venue = :name, address = :address, "
                    "latitude = :lat, longitude = :lon WHERE id IN :ids"
                ).bindparams(sa.bindparam("ids", expanding=True)),
                {
                    "venue": venue_id,
                    "name": values["name"],
                    "address": values["address"],
                    "lat": values["latitude"],
                    "lon": values["longitude"],
                    "ids": ids[start : start + 500],
                },
            )


def downgrade():
    # Plain ALTER TABLE ... DROP (SQLite 3.35+ and PostgreSQL): a batch copy would drop and
    # recreate the activity table that other tables' foreign keys point at, which SQLite refuses.
    # The activities keep their venue texts (the copies), so nothing is lost.
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.drop_constraint("fk_activity_venue_id_venue", "activity", type_="foreignkey")
    op.drop_index("ix_activity_venue_id", table_name="activity")
    op.execute("ALTER TABLE activity DROP COLUMN venue_id")
    with op.batch_alter_table("venue", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_venue_municipality_id"))
        batch_op.drop_index(batch_op.f("ix_venue_added_by_id"))
    op.drop_table("venue")
