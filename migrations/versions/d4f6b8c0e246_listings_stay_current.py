"""Listings stay current: activity.confirmed_until, filled for the public activities with the
end of the current season (at most six months ahead), and the listing_reminder table

Revision ID: d4f6b8c0e246
Revises: c3e5a7b9d135
Create Date: 2026-12-05 06:00:00.000000

The season rule is copied here (from directory.policy.listing_dates), not imported, so that the
migration keeps doing what it did when the code moves on.
"""

import calendar
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d4f6b8c0e246"
down_revision = "c3e5a7b9d135"
branch_labels = None
depends_on = None


def _season_end(day):
    return date(day.year, 6, 30) if day.month <= 6 else date(day.year, 12, 31)


def _add_months(day, months):
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _default_confirmed_until(today):
    end = _season_end(today)
    if (end - today).days < 30:
        end = _season_end(end + timedelta(days=1))
    return min(end, _add_months(today, 6))


def upgrade():
    # Plain ADD COLUMN: other tables' foreign keys point at activity, so no batch copy.
    op.add_column("activity", sa.Column("confirmed_until", sa.Date(), nullable=True))
    today = datetime.now(ZoneInfo("Europe/Oslo")).date()
    activity = sa.table(
        "activity", sa.column("status", sa.String), sa.column("confirmed_until", sa.Date)
    )
    op.execute(
        activity.update()
        .where(activity.c.status.in_(("published", "cancelled")))
        .values(confirmed_until=_default_confirmed_until(today))
    )
    op.create_table(
        "listing_reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("confirmed_until", sa.Date(), nullable=False),
        sa.Column("days_before", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_listing_reminder_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_listing_reminder_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listing_reminder")),
        sa.UniqueConstraint(
            "activity_id",
            "confirmed_until",
            "days_before",
            "user_id",
            name="uq_listing_reminder_once",
        ),
    )
    op.create_index(
        op.f("ix_listing_reminder_activity_id"), "listing_reminder", ["activity_id"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_listing_reminder_activity_id"), table_name="listing_reminder")
    op.drop_table("listing_reminder")
    op.execute("ALTER TABLE activity DROP COLUMN confirmed_until")
