"""The `flask --app directory ...` commands."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select


def init_app(app: Flask) -> None:
    """Register the commands on the app."""
    for command in (init_db, create_admin, import_activities, seed_demo, backup):
        app.cli.add_command(command)
    for command in (create_municipality, import_schools, import_school_calendar):
        app.cli.add_command(command)
    for command in (reindex, check_index):
        app.cli.add_command(command)
    app.cli.add_command(route)
    app.cli.add_command(reset_two_step)
    app.cli.add_command(export)
    app.cli.add_command(review_listings)
    app.cli.add_command(move_uploads)


def _fail(message: str) -> NoReturn:
    """Print an error in bokmål on stderr and exit with status 1, having written nothing."""
    from directory.extensions import db

    db.session.rollback()
    click.echo(f"Feil: {message}", err=True)
    raise click.exceptions.Exit(1)


@click.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema, and add the standard categories to a new one."""
    from flask_migrate import upgrade

    upgrade()
    click.echo("Databasen er oppdatert.")
    _add_standard_categories()


def _add_standard_categories() -> None:
    from directory.activities.categories import create_standard_categories
    from directory.extensions import db

    added = create_standard_categories()
    db.session.commit()
    if added:
        click.echo(f"{added} standardkategorier er opprettet (bokmål, nynorsk og engelsk).")
    else:
        click.echo("Kategoriene finnes allerede; ingen er lagt til.")


@click.command("create-municipality")
@click.argument("slug")
@click.option("--name", required=True, help="Kommunens navn, f.eks. Drammen.")
@click.option(
    "--messaging-label",
    default="Vigilo",
    show_default=True,
    help="Hva meldingsappen mellom skole og hjem heter i kommunen.",
)
@click.option("--org-number", help="Kommunens organisasjonsnummer (ni sifre).")
@click.option(
    "--contact-email", help="Kontaktadresse for personvern og tilgjengelighet i erklæringene."
)
def create_municipality(
    slug: str,
    name: str,
    messaging_label: str,
    org_number: str | None,
    contact_email: str | None,
) -> None:
    """Create a municipality with the default channel policy."""
    from directory.extensions import db
    from directory.policy.orgnumber import is_valid_org_number, normalise_org_number
    from directory.schools.forms import SLUG_PATTERN
    from directory.schools.models import Municipality
    from directory.schools.operations import create_municipality as create

    slug, name, messaging_label = slug.strip(), name.strip(), messaging_label.strip()
    if not SLUG_PATTERN.match(slug) or len(slug) > 80:
        _fail(
            f"kortnavnet «{slug}» kan bare ha små bokstaver a–z, sifre og bindestrek "
            "(høyst 80 tegn), for eksempel drammen eller nord-aurdal."
        )
    if not name or len(name) > 120:
        _fail("--name må ha fra 1 til 120 tegn.")
    if not messaging_label or len(messaging_label) > 60:
        _fail("--messaging-label må ha fra 1 til 60 tegn.")
    number = None
    if org_number is not None:
        number = normalise_org_number(org_number)
        if not is_valid_org_number(number):
            _fail(
                f"«{org_number}» er ikke et gyldig organisasjonsnummer "
                "(ni sifre med riktig kontrollsiffer)."
            )
    email = _checked_email(contact_email, "--contact-email") if contact_email is not None else None
    taken = db.session.scalar(select(Municipality).where(Municipality.slug == slug))
    if taken is not None:
        _fail(f"kortnavnet «{slug}» er allerede i bruk av {taken.name}.")

    municipality = create(
        {
            "slug": slug,
            "name": name,
            "messaging_label": messaging_label,
            "org_number": number,
            "contact_email": email,
        },
        actor=None,
    )
    db.session.commit()
    click.echo(
        f"Kommunen {municipality.name} ({municipality.slug}) er opprettet med standard "
        "kanalretningslinjer."
    )


def _checked_email(value: str, what: str) -> str:
    """The address normalised, or a refusal naming the argument."""
    from email_validator import EmailNotValidError, validate_email

    from directory.accounts.operations import normalise_email

    email = normalise_email(value)
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        _fail(f"{what}: «{value.strip()}» er ikke en gyldig e-postadresse.")
    if len(email) > 254:
        _fail(f"{what}: e-postadressen kan ha høyst 254 tegn.")
    return email


@click.command("create-admin")
@click.argument("email")
@click.option("--municipality", "municipality_slug", help="Kommunens kortnavn (slug).")
@click.option("--name", default="Kommuneadministrator", show_default=True)
@click.option("--password", help="Passord (spørres om når det mangler; helst --password-stdin).")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Les passordet fra første linje på standard inn (for skript).",
)
def create_admin(
    email: str,
    municipality_slug: str | None,
    name: str,
    password: str | None,
    password_stdin: bool,
) -> None:
    """Create a municipal admin, or make an existing user one."""
    from directory.accounts.models import User
    from directory.accounts.operations import create_user
    from directory.accounts.passwords import password_problem
    from directory.audit.operations import record
    from directory.extensions import db
    from directory.schools.models import Municipality

    municipalities = db.session.scalars(select(Municipality).order_by(Municipality.slug)).all()
    if municipality_slug:
        municipality = next((m for m in municipalities if m.slug == municipality_slug), None)
        if municipality is None:
            known = ", ".join(m.slug for m in municipalities) or "ingen"
            _fail(f"ukjent kommune «{municipality_slug}». Kjente kommuner: {known}.")
    elif len(municipalities) == 1:
        municipality = municipalities[0]
    elif not municipalities:
        _fail("det finnes ingen kommune ennå. Opprett en med create-municipality først.")
    else:
        _fail("oppgi kommunen med --municipality (kortnavn).")
    address = _checked_email(email, "e-postadressen")
    name = name.strip()
    if not name or len(name) > 120:
        _fail("--name må ha fra 1 til 120 tegn.")
    if password_stdin and password is not None:
        _fail("bruk enten --password eller --password-stdin, ikke begge.")
    if password_stdin:
        password = _password_from_stdin()
    elif password is None:
        password = click.prompt("Passord", hide_input=True, confirmation_prompt=True)
    problem = password_problem(password, email=address, name=name)
    if problem:
        _fail(problem)

    user = db.session.scalar(select(User).where(User.email == address))
    if user is None:
        user = create_user(address, name, password)
        created = True
    else:
        created = False
    before = user.admin_municipality_id
    user.admin_municipality_id = municipality.id
    record(
        "user.make_admin",
        user,
        actor=None,
        municipality_id=municipality.id,
        data={
            "before": {"admin_municipality_id": before},
            "after": {"admin_municipality_id": municipality.id},
        },
    )
    db.session.commit()
    click.echo(f"{user.email} er kommuneadministrator for {municipality.name}.")
    if not created:
        click.echo("Kontoen fantes fra før; passordet er ikke endret.")


def _password_from_stdin() -> str:
    """The first line of standard input without its line ending, or a refusal when empty."""
    import sys

    line = sys.stdin.readline()
    password = line.rstrip("\r\n")
    if not password:
        _fail("standard inn er tom; send passordet på første linje (printf '%s\\n' \"$PW\" | ...).")
    return password


def _import_csv(run_import, csv_file, municipality_slug: str | None, dry_run: bool):
    """Run an import (activities or schools) on the file; print its warnings, and its errors
    with exit status 1. Answers the municipality and the import's report; the caller commits."""
    from directory.csvimport import MAX_FILE_BYTES, ImportAborted, choose_municipality

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
    return municipality, report


@click.command("import-activities")
@with_appcontext
@click.argument("csv_file", metavar="FILE.csv", type=click.File("rb"))
@click.option("--municipality", "municipality_slug", help="Kommunens kortnavn (slug).")
@click.option("--dry-run", is_flag=True, help="Kontroller filen og vis hva som ville skjedd.")
def import_activities(csv_file, municipality_slug: str | None, dry_run: bool) -> None:
    """Import activities from a CSV file: every row valid, or nothing is written."""
    from directory.extensions import db
    from directory.importing import import_activities as run_import

    municipality, report = _import_csv(run_import, csv_file, municipality_slug, dry_run)
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


@click.command("import-schools")
@click.argument("csv_file", metavar="FILE.csv", type=click.File("rb"))
@click.option("--municipality", "municipality_slug", help="Kommunens kortnavn (slug).")
@click.option("--dry-run", is_flag=True, help="Kontroller filen og vis hva som ville skjedd.")
def import_schools(csv_file, municipality_slug: str | None, dry_run: bool) -> None:
    """Import or update the municipality's schools from a CSV file: every row valid, or nothing
    is written."""
    from directory.extensions import db
    from directory.schools.importing import import_schools as run_import

    municipality, report = _import_csv(run_import, csv_file, municipality_slug, dry_run)
    if dry_run:
        db.session.rollback()
        click.echo(f"Prøvekjøring, ingenting er lagret. Skoler: {report.summary()}.")
        return
    db.session.commit()
    click.echo(f"Skoler importert til {municipality.name}: {report.summary()}.")


@click.command("import-school-calendar")
@click.argument("calendar_file", metavar="FILE", type=click.File("rb"))
@click.option("--municipality", "municipality_slug", help="Kommunens kortnavn (slug).")
@click.option("--dry-run", is_flag=True, help="Kontroller filen og vis hva som ville skjedd.")
def import_school_calendar(calendar_file, municipality_slug: str | None, dry_run: bool) -> None:
    """Import the municipality's school holidays from a CSV or iCalendar file: every holiday
    valid, or nothing is written. Each school year in the file replaces that year's holidays."""
    from directory.extensions import db
    from directory.schools.calendar_import import import_school_calendar as run_import

    municipality, report = _import_csv(run_import, calendar_file, municipality_slug, dry_run)
    if dry_run:
        db.session.rollback()
        click.echo(f"Prøvekjøring, ingenting er lagret. Skolerute: {report.years_summary()}.")
        return
    db.session.commit()
    click.echo(f"Skolerute importert til {municipality.name}: {report.years_summary()}.")


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
    """Back up the database to FILE, and the uploads to FILE.uploads.tar.gz (when they are kept
    in a folder; in the database they are in FILE)."""
    from flask import current_app

    from directory.backup import BackupError, make_backup
    from directory.extensions import db
    from directory.storage import FolderStorage, upload_storage

    in_database = current_app.config["UPLOAD_STORAGE"] == "database"
    # With the uploads in the database, the copy of the database holds them: no archive.
    folder = None if in_database else current_app.config.get("UPLOAD_FOLDER")
    try:
        result = make_backup(db.engine.url, folder, target, force=force)
    except BackupError as exc:
        _fail(exc.message)
    click.echo(f"Databasen er kopiert til {result.database_file}.")
    if in_database:
        count = len(list(upload_storage().names()))
        click.echo(
            f"De opplastede filene ({count}) ligger i databasen og er med i kopien; "
            "ingen egen fil for dem."
        )
        left = len(list(FolderStorage(current_app.config["UPLOAD_FOLDER"]).names()))
        if left:
            click.echo(
                f"Merk: mappen {current_app.config['UPLOAD_FOLDER']} har {left} filer som ikke "
                "er med. Flytt dem inn med: flask move-uploads --to database"
            )
    elif result.uploads_file:
        click.echo(f"{result.upload_count} opplastede filer er pakket i {result.uploads_file}.")
    else:
        click.echo("Ingen opplastede filer å ta med.")


MOVE_BATCH = 50  # files per commit: bounds the memory a move of thousands of files holds
MOVE_USAGE = "Bruk: flask move-uploads --to database|folder [--delete-source]"


class _MoveCommand(click.Command):
    """A command line it cannot read is bad input like any other: status 1, not Click's 2."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            click.echo(f"Feil: {exc.format_message()} {MOVE_USAGE}", err=True)
            raise click.exceptions.Exit(1) from None


@click.command("move-uploads", cls=_MoveCommand)
@with_appcontext
@click.option("--to", "target", metavar="database|folder", help="Hvor filene skal flyttes.")
@click.option(
    "--delete-source", is_flag=True, help="Slett filene fra kilden når de er trygt flyttet."
)
def move_uploads(target: str | None, delete_source: bool) -> None:
    """Move the uploaded files between the folder (UPLOAD_FOLDER) and the database; files
    already there are left as they are, so running it again does nothing new."""
    from flask import current_app

    from directory.activities.uploads import CARD_NAME, STORED_NAME
    from directory.extensions import db
    from directory.storage import STORAGES, content_type_of, storage_of_kind

    if target not in STORAGES:
        given = "ingen" if target is None else f"«{target}»"
        _fail(f"--to må være database eller folder (mappen), ikke {given}. {MOVE_USAGE}")
    source_kind = "folder" if target == "database" else "database"
    source, destination = storage_of_kind(source_kind), storage_of_kind(target)
    place = {
        "database": "databasen",
        "folder": f"mappen {current_app.config['UPLOAD_FOLDER']}",
    }
    moved, present, foreign = 0, 0, 0
    done: list[str] = []
    for name in list(source.names()):
        if not (STORED_NAME.fullmatch(name) or CARD_NAME.fullmatch(name)):
            foreign += 1  # not a name the app makes (a leftover, someone's own file): left
            continue
        if destination.exists(name):
            present += 1
        else:
            content = source.read(name)
            if content is None:  # removed meanwhile
                continue
            try:
                destination.put(name, content, content_type_of(name))
            except OSError as exc:
                db.session.commit()  # what was moved so far stays; running again goes on
                _fail(f"{name} kunne ikke skrives til {place[target]}: {exc.strerror or exc}.")
            moved += 1
        done.append(name)
        if len(done) % MOVE_BATCH == 0:
            db.session.commit()
    db.session.commit()
    click.echo(f"{moved} filer kopiert fra {place[source_kind]} til {place[target]}.")
    if present:
        click.echo(f"{present} filer fantes der allerede og er ikke endret.")
    if foreign:
        click.echo(
            f"{foreign} filer med navn appen ikke lager er latt være i {place[source_kind]}."
        )
    if delete_source:
        # Only after the copies are committed: a failure before this leaves two copies.
        for number, name in enumerate(done, 1):
            source.delete(name)
            if number % MOVE_BATCH == 0:
                db.session.commit()
        db.session.commit()
        click.echo(f"{len(done)} filer slettet fra {place[source_kind]}.")
    elif done:
        click.echo(
            f"Kildene er beholdt; bruk --delete-source for å slette dem fra {place[source_kind]}."
        )
    if current_app.config["UPLOAD_STORAGE"] != target:
        click.echo(
            f"Merk: appen bruker nå {place[current_app.config['UPLOAD_STORAGE']]}. "
            f"Sett DIRECTORY_UPLOAD_STORAGE={target} for at den skal lese filene fra "
            f"{place[target]}."
        )


@click.command("reindex")
@with_appcontext
@click.option(
    "--pending", is_flag=True, help="Skriv bare aktivitetene som venter i køen (search_backlog)."
)
def reindex(pending: bool) -> None:
    """Rebuild the search index from the database (run nightly), or catch up its backlog."""
    from directory.search.base import SearchUnavailable
    from directory.search.service import (
        catch_up_backlog,
        public_activity_count,
        rebuild_index,
    )

    kind = current_app.config.get("SEARCH_BACKEND")
    if kind == "database":
        click.echo("Ingenting å gjøre: søket leser databasen direkte (SEARCH_BACKEND=database).")
        return
    postgres = kind == "postgres"
    if pending and postgres:
        click.echo(
            "Ingenting å gjøre: PostgreSQL-søket skrives i samme transaksjon som endringene, "
            "så ingenting venter i kø."
        )
        return
    label = "Frisker opp søkedataene i PostgreSQL" if postgres else "Bygger søkeindeksen"
    try:
        if pending:
            written = catch_up_backlog()
            click.echo(f"{written} aktiviteter fra køen er skrevet til søkeindeksen.")
            return
        with click.progressbar(length=public_activity_count(), label=label) as bar:
            count = rebuild_index(progress=bar.update)
    except SearchUnavailable as exc:
        _fail(f"søkeindeksen kunne ikke skrives ({exc}).")
    if postgres:
        click.echo(
            f"Søkedataene i PostgreSQL er friske: {count} aktiviteter er skrevet på nytt "
            "(datoene flyttet med kalenderen, ordlisten for skrivefeil bygget på nytt). "
            "Søket svarte hele tiden."
        )
    else:
        click.echo(f"Søkeindeksen er bygget med {count} aktiviteter.")


@click.command("check-index")
@with_appcontext
def check_index() -> None:
    """Compare the search index with the database; exit 1 and list the difference if they differ."""
    from directory.search.base import SearchUnavailable
    from directory.search.service import check_index as compare
    from directory.search.service import pending_count

    try:
        diff = compare()
    except SearchUnavailable as exc:
        _fail(f"søkeindeksen kan ikke leses ({exc}). Kjør «flask --app directory reindex».")
    postgres = current_app.config.get("SEARCH_BACKEND") == "postgres"
    if diff.clean:
        if postgres:
            click.echo(
                "Søkedataene i PostgreSQL stemmer med databasen (de skrives i samme "
                "transaksjon som endringene)."
            )
        else:
            click.echo("Indeksen stemmer med databasen.")
        return
    for label, ids in (
        ("Mangler i indeksen", diff.missing),
        ("Skulle ikke vært i indeksen", diff.extra),
        ("Utdatert i indeksen", diff.stale),
    ):
        if ids:
            click.echo(f"{label} ({len(ids)}):")
            for activity_id in ids:
                click.echo(f"  {activity_id}  {diff.titles.get(activity_id, '(slettet)')}")
    pending = 0 if postgres else pending_count()
    if pending:
        click.echo(
            f"{pending} aktiviteter venter i køen; «flask --app directory reindex --pending» "
            "skriver dem."
        )
    click.echo("Kjør «flask --app directory reindex» for å bygge indeksen på nytt.")
    raise click.exceptions.Exit(1)


@click.command("route")
@with_appcontext
@click.argument("activity_id", type=int)
@click.argument("school_slug")
@click.option("--week", help="ISO-uke, for eksempel 2026-W48 (denne uken når den mangler).")
def route(activity_id: int, school_slug: str, week: str | None) -> None:
    """Print the routing decision for an activity at a school as JSON."""
    import json

    from directory.activities.models import Activity
    from directory.approvals.display import parse_week
    from directory.extensions import db
    from directory.schools.models import School
    from directory.schools.routing import decide_for, decision_json

    if week is not None and parse_week(week) is None:
        raise click.BadParameter(
            "skriv uken som år og ukenummer, for eksempel 2026-W48.", param_hint="--week"
        )
    activity = db.session.get(Activity, activity_id) if 0 < activity_id < 2**31 else None
    if activity is None:
        raise click.UsageError(f"Aktiviteten med id {activity_id} finnes ikke.")
    school = db.session.scalar(select(School).where(School.slug == school_slug))
    if school is None:
        raise click.UsageError(f"Skolen «{school_slug}» finnes ikke.")
    if school.municipality_id != activity.organisation.municipality_id:
        raise click.UsageError(
            f"Skolen «{school_slug}» hører ikke til kommunen der aktiviteten er."
        )
    if not school.active:
        raise click.UsageError(f"Skolen «{school_slug}» er deaktivert og formidler ingen tilbud.")
    decision = decide_for(activity, school, parse_week(week) if week else None)
    click.echo(json.dumps(decision_json(decision), ensure_ascii=False, indent=2))


# Where `make run` serves the site: the links in an exported file point here when neither
# --base-url nor PUBLIC_BASE_URL says where the public site is.
DEFAULT_EXPORT_BASE_URL = "http://127.0.0.1:5000"


@click.command("export")
@with_appcontext
@click.argument("school_slug")
@click.option("--week", required=True, help="ISO-uke, for eksempel 2026-W48.")
@click.option(
    "--channel", required=True, help="school_messaging, facebook_share eller backpack_post."
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Filen: .txt eller .csv (school_messaging), .html (facebook_share), .pdf (backpack_post).",
)
@click.option("--base-url", help="Nettstedets adresse i lenkene (ellers PUBLIC_BASE_URL).")
def export(school_slug: str, week: str, channel: str, out: Path, base_url: str | None) -> None:
    """Write a school's approved announcements of a week and channel to FILE, as staff download
    them, and mark them exported."""
    from flask import current_app

    from directory.approvals.display import parse_week
    from directory.exports.formats import CHANNEL_FORMATS
    from directory.exports.operations import NothingToExport, export_requests
    from directory.extensions import db
    from directory.schools.models import School

    iso = parse_week(week)
    if iso is None:
        raise click.BadParameter(
            "skriv uken som år og ukenummer, for eksempel 2026-W48.", param_hint="--week"
        )
    if channel not in CHANNEL_FORMATS:
        raise click.BadParameter(
            f"«{channel}» kan ikke eksporteres; velg {', '.join(CHANNEL_FORMATS)}.",
            param_hint="--channel",
        )
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in CHANNEL_FORMATS[channel]:
        wanted = " eller ".join(f".{f}" for f in CHANNEL_FORMATS[channel])
        raise click.BadParameter(
            f"{channel} eksporteres som {wanted}, ikke «{out.suffix or out.name}».",
            param_hint="--out",
        )
    base = base_url or current_app.config.get("PUBLIC_BASE_URL")
    if base and not base.startswith(("http://", "https://")):
        raise click.BadParameter(
            "adressen må begynne med http:// eller https://.", param_hint="--base-url"
        )
    school = db.session.scalar(select(School).where(School.slug == school_slug))
    if school is None:
        raise click.UsageError(f"Skolen «{school_slug}» finnes ikke.")
    if not base:
        base = DEFAULT_EXPORT_BASE_URL
        click.echo(f"Merk: PUBLIC_BASE_URL er ikke satt; lenkene i filen går til {base}.", err=True)
    try:
        result = export_requests(
            school, iso, channel, fmt, actor=None, base_url=base.rstrip("/"), source="cli"
        )
    except NothingToExport:
        _fail(f"{school.name} har ingen godkjente forespørsler i {channel} for {iso}.")
    partial = out.with_name(out.name + ".part")
    try:
        partial.write_bytes(result.file.content)
    except OSError as exc:
        _fail(f"{out} kunne ikke skrives ({exc.strerror}).")
    db.session.commit()
    partial.replace(out)
    requests = "forespørsel" if result.included == 1 else "forespørsler"
    click.echo(
        f"{out}: {result.included} {requests} fra {school.name}, {iso}, {channel}"
        f" ({result.newly_exported} merket som eksportert nå)."
    )


@click.command("review-listings")
@with_appcontext
@click.option("--base-url", help="Nettstedets adresse i lenkene (ellers PUBLIC_BASE_URL).")
def review_listings(base_url: str | None) -> None:
    """E-mail the organisations whose listings run out in 14 or 3 days (run daily)."""
    from flask import current_app

    from directory.activities.reminders import review_listings as run_review

    base = base_url or current_app.config.get("PUBLIC_BASE_URL")
    if base and not base.startswith(("http://", "https://")):
        raise click.BadParameter(
            "adressen må begynne med http:// eller https://.", param_hint="--base-url"
        )
    if not base:
        base = DEFAULT_EXPORT_BASE_URL
        click.echo(f"Merk: PUBLIC_BASE_URL er ikke satt; lenkene går til {base}.", err=True)
    result = run_review(base_url=base)
    mails = "påminnelse" if result.sent == 1 else "påminnelser"
    activities = "aktivitet" if result.activities == 1 else "aktiviteter"
    click.echo(
        f"{result.sent} {mails} sendt om {result.activities} {activities}"
        f" ({result.failed} kunne ikke sendes)."
    )
    if result.failed:
        click.echo(
            f"Feil: {result.failed} e-poster kunne ikke sendes; de prøves igjen neste gang.",
            err=True,
        )
        raise click.exceptions.Exit(1)


@click.command("reset-two-step")
@click.argument("email")
def reset_two_step(email: str) -> None:
    """Clear an account's second step (a lost phone and lost recovery codes) and end its
    sessions; an admin enrols again at the next login."""
    from directory.accounts.models import User
    from directory.accounts.operations import normalise_email
    from directory.accounts.two_factor import reset_two_step as reset
    from directory.extensions import db

    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        _fail(f"ingen konto har e-postadressen «{email[:254]}».")
    reset(user, actor=None)
    db.session.commit()
    click.echo(f"Totrinnsinnloggingen til {user.email} er tilbakestilt, og kontoen er logget ut.")
