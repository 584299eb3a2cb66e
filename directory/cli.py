"""The `flask --app directory ...` commands."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import select


def init_app(app: Flask) -> None:
    """Register the commands on the app."""
    for command in (init_db, create_admin, import_activities, seed_demo, backup):
        app.cli.add_command(command)


def _fail(message: str) -> NoReturn:
    """Print an error in bokmål on stderr and exit with status 1, having written nothing."""
    from directory.extensions import db

    db.session.rollback()
    click.echo(f"Feil: {message}", err=True)
    raise click.exceptions.Exit(1)


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


@click.command("import-activities")
@with_appcontext
@click.argument("csv_file", metavar="FILE.csv", type=click.File("rb"))
@click.option("--municipality", "municipality_slug", help="Kommunens kortnavn (slug).")
@click.option("--dry-run", is_flag=True, help="Kontroller filen og vis hva som ville skjedd.")
def import_activities(csv_file, municipality_slug: str | None, dry_run: bool) -> None:
    """Import activities from a CSV file: every row valid, or nothing is written."""
    from directory.extensions import db
    from directory.importing import MAX_FILE_BYTES, ImportAborted, choose_municipality
    from directory.importing import import_activities as run_import

    try:
        municipality = choose_municipality(municipality_slug)
        report = run_import(
            csv_file.read(MAX_FILE_BYTES + 1),  # enough to tell that a file is too large
            municipality,
            dry_run=dry_run,
            source_name=Path(csv_file.name).name,
        )
    except ImportAborted as exc:
        _fail(exc.message)
    for warning in report.warnings:
        click.echo(warning, err=True)
    if report.errors:
        for error in report.errors:
            click.echo(str(error), err=True)
        _fail(f"ingenting er importert; filen har {len(report.errors)} feil.")
    created = report.organisations_created
    organisations = (
        f" ({created} {'ny organisasjon' if created == 1 else 'nye organisasjoner'})"
        if created
        else ""
    )
    if dry_run:
        db.session.rollback()
        click.echo(f"Prøvekjøring, ingenting er lagret: {report.summary()}{organisations}.")
        return
    db.session.commit()
    click.echo(f"Importert til {municipality.name}: {report.summary()}{organisations}.")


@click.command("seed-demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Gjør ingenting når databasen har en kommune.")
def seed_demo(if_empty: bool) -> None:
    """Load the demo municipalities, organisations, activities and accounts."""
    import time

    from directory.demo import DemoError, database_has_municipality, load_demo
    from directory.extensions import db

    if if_empty and database_has_municipality():
        click.echo("Databasen har allerede data; demodata lastes ikke.")
        return
    started = time.perf_counter()
    try:
        summary = load_demo()
    except DemoError as exc:
        _fail(exc.message)
    db.session.commit()
    click.echo(summary.describe(time.perf_counter() - started))  # timed with the commit


@click.command("backup")
@with_appcontext
@click.argument("target", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overskriv FILE om den finnes.")
def backup(target: Path, force: bool) -> None:
    """Back up the database to FILE, and the uploads to FILE.uploads.tar.gz."""
    from flask import current_app

    from directory.backup import BackupError, make_backup
    from directory.extensions import db

    try:
        result = make_backup(
            db.engine.url, current_app.config.get("UPLOAD_FOLDER"), target, force=force
        )
    except BackupError as exc:
        _fail(exc.message)
    click.echo(f"Databasen er kopiert til {result.database_file}.")
    if result.uploads_file:
        click.echo(f"{result.upload_count} opplastede filer er pakket i {result.uploads_file}.")
    else:
        click.echo("Ingen opplastede filer å ta med.")
