"""The `flask --app directory ...` commands."""

from __future__ import annotations

import click
from flask import Flask
from sqlalchemy import select


def init_app(app: Flask) -> None:
    """Register the commands on the app."""
    for command in (init_db, create_admin):
        app.cli.add_command(command)


@click.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema to the newest migration."""
    from flask_migrate import upgrade

    upgrade()
    click.echo("Databasen er oppdatert.")


@click.command("create-admin")
@click.argument("email")
@click.option("--municipality", "municipality_slug", help="Kommunens kortnavn (slug).")
@click.option("--name", default="Kommuneadministrator", show_default=True)
@click.password_option(help="Passord (spørres om når det mangler).")
def create_admin(email: str, municipality_slug: str | None, name: str, password: str) -> None:
    """Create a municipal admin, or make an existing user one."""
    from directory.accounts.models import User
    from directory.accounts.operations import create_user, normalise_email
    from directory.audit.operations import record
    from directory.extensions import db
    from directory.schools.models import Municipality

    municipalities = db.session.scalars(select(Municipality).order_by(Municipality.id)).all()
    if municipality_slug:
        municipality = next((m for m in municipalities if m.slug == municipality_slug), None)
        if municipality is None:
            raise click.UsageError(f"Ukjent kommune: {municipality_slug}")
    elif len(municipalities) == 1:
        municipality = municipalities[0]
    else:
        raise click.UsageError("Oppgi kommunen med --municipality (kortnavn).")
    if len(password) < 10:
        raise click.UsageError("Passordet må ha minst 10 tegn.")

    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        user = create_user(email, name, password)
    user.admin_municipality_id = municipality.id
    record("user.make_admin", user, actor=None, municipality_id=municipality.id)
    db.session.commit()
    click.echo(f"{user.email} er kommuneadministrator for {municipality.name}.")
