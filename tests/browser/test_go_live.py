"""Issue 9's "done when": a municipality goes live on a fresh database without the demo.

The operator's commands (init-db, create-municipality, create-admin --password-stdin,
import-schools) set up a municipality, its admin and two schools from a CSV file. Then, in a real
Chromium without JavaScript and with every e-mail delivered to a real SMTP server in this process:
the admin logs in and enrols a second factor, invites a school admin by e-mail, who accepts,
enrols and edits the school's channel policy; an organisation registers, is verified, publishes
an activity and asks to reach the school; the school approves and downloads the backpack PDF.
Another test resets a password from the e-mailed link.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from pypdf import PdfReader
from sqlalchemy import select

from directory.accounts.models import RecoveryCode, User
from directory.approvals.display import upcoming_weeks
from directory.approvals.models import DistributionRequest
from directory.extensions import db
from directory.schools.models import ChannelPolicy, Municipality, School
from directory.timeutil import oslo_now
from tests.browser.conftest import _browser_app, _serving, finish_login, watch_for_problems
from tests.conftest import _free_port, _Inbox, mail_link

pytestmark = pytest.mark.browser

ADMIN_EMAIL = "it@fjordby.example"
ADMIN_PASSWORD = "Fjordby kommune går live 2026"
RECTOR_EMAIL = "rektor@solbakken.example"
RECTOR_PASSWORD = "Solbakken skole sitt passord"
ORGANISER_EMAIL = "leder@fjordby-il.example"
ORGANISER_PASSWORD = "Fjordby IL trener hver tirsdag"

SCHOOLS_CSV = """\
name,org_number,grade_min,grade_max,area,address,facebook_page_url,accepts_backpack_post,grade_counts
Solbakken skole,,1,7,Sentrum,"Solbakkveien 1, 3000 Fjordby",,ja,"1:2:48;2:2:45;3:2:50;4:2:44;5:2:47;6:2:46;7:2:49"
Fjordby ungdomsskole,,8,10,Nord,"Skoleveien 9, 3001 Fjordby",https://www.facebook.com/fjordbyus,nei,
"""


@dataclass
class GoLiveSite:
    """The app served on 127.0.0.1 from a database the operator's commands set up, and the
    SMTP server its mail goes to."""

    url: str
    app: Flask
    inbox: _Inbox
    command_output: list[str]

    def wait_for_mail(self, address: str, count: int = 1):
        """The newest of the first `count` messages to `address`: mail may leave just after the
        response (password resets do), so wait a little for it."""
        for _ in range(100):
            messages = self.inbox.to(address)
            if len(messages) >= count:
                return messages[count - 1]
            time.sleep(0.05)
        raise AssertionError(f"no e-mail number {count} to {address} arrived")


def _run(app: Flask, args: list[str], stdin: str | None = None) -> str:
    with app.app_context():  # as `flask --app directory ...` has one
        result = app.test_cli_runner().invoke(args=args, input=stdin)
        db.session.remove()
    assert result.exit_code == 0, f"{args}: {result.output}"
    return result.output


@pytest.fixture(scope="module")
def go_live_site(tmp_path_factory) -> Iterator[GoLiveSite]:
    from aiosmtpd.controller import Controller

    root = tmp_path_factory.mktemp("go-live")
    app = _browser_app(root, "go-live")
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_USE_TLS=False)
    csv_file = root / "skoler.csv"
    csv_file.write_text(SCHOOLS_CSV, encoding="utf-8")
    output = [
        _run(app, ["init-db"]),
        _run(
            app,
            [
                "create-municipality",
                "fjordby",
                "--name",
                "Fjordby",
                "--messaging-label",
                "Vigilo",
                "--org-number",
                "921234554",
                "--contact-email",
                "personvern@fjordby.example",
            ],
        ),
        _run(
            app,
            ["create-admin", ADMIN_EMAIL, "--municipality", "fjordby", "--password-stdin"],
            stdin=ADMIN_PASSWORD + "\n",
        ),
        _run(app, ["import-schools", str(csv_file), "--municipality", "fjordby"]),
        _run(app, ["reindex"]),
    ]
    try:
        with _serving(app) as url:
            yield GoLiveSite(url=url, app=app, inbox=inbox, command_output=output)
    finally:
        controller.stop()


def flyer_pdf() -> bytes:
    """A one-page A4 flyer, as a club would make one."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("helvetica", size=24)
    pdf.cell(text="Allidrett hver tirsdag")
    return bytes(pdf.output())


def new_page(browser, site: GoLiveSite) -> Page:
    """A page in its own context (own cookies), JavaScript off: the site needs none."""
    context = browser.new_context(
        base_url=site.url, locale="nb-NO", java_script_enabled=False, accept_downloads=True
    )
    return context.new_page()


def fill_login(page: Page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("E-post", exact=True).fill(email)
    page.get_by_label("Passord", exact=True).fill(password)
    page.get_by_role("main").get_by_role("button", name="Logg inn", exact=True).click()


def test_the_operator_s_commands_set_up_a_municipality_without_demo_data(go_live_site):
    with go_live_site.app.app_context():
        municipality = db.session.scalar(select(Municipality))
        assert municipality.slug == "fjordby"
        assert municipality.contact_email == "personvern@fjordby.example"
        assert [s.name for s in municipality.schools] == ["Fjordby ungdomsskole", "Solbakken skole"]
        solbakken = db.session.scalar(select(School).where(School.slug == "solbakken-skole"))
        assert [(c.grade, c.classes, c.pupils) for c in solbakken.grade_counts][:2] == [
            (1, 2, 48),
            (2, 2, 45),
        ]
        default = db.session.scalar(select(ChannelPolicy).where(ChannelPolicy.school_id.is_(None)))
        assert default.municipality_id == municipality.id
        admin = db.session.scalar(select(User).where(User.email == ADMIN_EMAIL))
        assert admin.admin_municipality_id == municipality.id
        assert db.session.scalar(select(db.func.count()).select_from(User)) == 1
        db.session.remove()


def test_a_municipality_goes_live_from_the_first_login_to_the_backpack_pdf(
    browser, go_live_site, artifacts_dir
):
    site = go_live_site
    admin = new_page(browser, site)
    rector = new_page(browser, site)
    organiser = new_page(browser, site)
    problems = [watch_for_problems(p) for p in (admin, rector, organiser)]
    try:
        # --- the municipal admin logs in and must enrol a second factor first ----------------
        fill_login(admin, ADMIN_EMAIL, ADMIN_PASSWORD)
        expect(admin).to_have_url(re.compile(r"/account/two-step/enrol"))
        admin.goto("/admin/schools")  # nothing else until enrolled
        expect(admin).to_have_url(re.compile(r"/account/two-step/enrol"))
        main = admin.get_by_role("main")
        main.get_by_role("button", name="Start oppsettet", exact=True).click()
        expect(admin.locator("figure.qr svg")).to_have_count(1)
        secret = admin.locator("#totp-secret").inner_text().replace(" ", "")
        main.get_by_label("Kode fra appen", exact=True).fill(pyotp.TOTP(secret).now())
        main.get_by_role("button", name="Bekreft og slå på", exact=True).click()
        expect(admin.locator("ul.recovery-codes li")).to_have_count(10)
        shown_codes = admin.locator("ul.recovery-codes li").all_inner_texts()
        with site.app.app_context():
            user = db.session.scalar(select(User).where(User.email == ADMIN_EMAIL))
            assert user.totp_enabled_at is not None
            stored = db.session.scalars(
                select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)
            ).all()
            assert len(stored) == 10
            assert not set(stored) & {code.strip() for code in shown_codes}  # hashes only
            db.session.remove()
        main.get_by_role("link", name="Jeg har tatt vare på kodene. Gå videre").click()

        # --- the imported schools are there; the admin invites Solbakken's principal ---------
        admin.goto("/admin/schools")
        expect(admin.get_by_role("main")).to_contain_text("Solbakken skole")
        expect(admin.get_by_role("main")).to_contain_text("Fjordby ungdomsskole")
        admin.goto("/schools/solbakken-skole/staff")
        expect(admin.get_by_role("heading", level=1)).to_have_text("Ansatte ved Solbakken skole")
        invite = admin.locator("form", has=admin.get_by_role("button", name="Send invitasjon"))
        invite.get_by_label("E-post", exact=True).fill(RECTOR_EMAIL)
        invite.get_by_label("Rolle", exact=True).select_option(label="Skoleadministrator")
        invite.get_by_role("button", name="Send invitasjon", exact=True).click()
        expect(admin.locator("ul.invitations")).to_contain_text(RECTOR_EMAIL)

        invitation = site.wait_for_mail(RECTOR_EMAIL)
        assert "Solbakken skole" in invitation["Subject"]
        link = mail_link(invitation, "/schools/invitations/")

        # --- the principal accepts, creates an account and enrols too ------------------------
        rector.goto(link)
        expect(rector.get_by_role("heading", level=1)).to_have_text(
            "Invitasjon til Solbakken skole"
        )
        rector.get_by_label("Navnet ditt", exact=True).fill("Randi Rektor")
        rector.get_by_label("Passord", exact=True).fill(RECTOR_PASSWORD)
        rector.get_by_label("Gjenta passordet", exact=True).fill(RECTOR_PASSWORD)
        rector.get_by_role("button", name="Lag konto og bli ansatt", exact=True).click()
        expect(rector).to_have_url(re.compile(r"/account/two-step/enrol"))
        finish_login(rector, RECTOR_EMAIL)  # enrols as the admin did, reading the secret

        # ... and edits the school's channel policy: backpack post first, two flyers a week.
        rector.goto("/schools/solbakken-skole/policy")
        rector.get_by_label("Rekkefølge etter meldingsappen", exact=True).select_option(
            label="Ranselpost først"
        )
        rector.get_by_label("Ukekvote for ranselpost", exact=True).fill("2")
        rector.get_by_role("button", name="Lagre", exact=True).click()
        expect(rector.locator(".flashes")).to_be_visible()
        with site.app.app_context():
            school = db.session.scalar(select(School).where(School.slug == "solbakken-skole"))
            override = db.session.scalar(
                select(ChannelPolicy).where(ChannelPolicy.school_id == school.id)
            )
            assert override.settings["order"] == ["backpack", "facebook"]
            assert override.settings["backpack_weekly_quota"] == 2
            db.session.remove()

        # --- an organisation registers and publishes an activity -----------------------------
        organiser.goto("/register")
        organiser.get_by_label("Navnet ditt", exact=True).fill("Ola Leder")
        organiser.get_by_label("E-postadressen din", exact=True).fill(ORGANISER_EMAIL)
        organiser.get_by_label("Passord", exact=True).fill(ORGANISER_PASSWORD)
        organiser.get_by_label("Gjenta passordet", exact=True).fill(ORGANISER_PASSWORD)
        organiser.get_by_label("Kommune", exact=True).select_option(label="Fjordby")
        organiser.get_by_label("Navn på organisasjonen", exact=True).fill("Fjordby IL")
        organiser.get_by_label("Type organisasjon", exact=True).select_option(
            label="Frivillig lag/forening"
        )
        organiser.get_by_role("button", name="Registrer", exact=True).click()
        # Nothing is stored until the address is confirmed from the e-mail.
        expect(organiser.get_by_role("heading", level=1)).to_have_text("Sjekk e-posten din")
        organiser.goto(mail_link(site.wait_for_mail(ORGANISER_EMAIL), "/register/confirm/"))
        organiser.get_by_role("button", name="Fullfør registreringen", exact=True).click()
        expect(organiser).to_have_url(re.compile(r"/organisations/fjordby-il$"))

        organiser.get_by_role("link", name="Ny aktivitet", exact=True).click()
        first = oslo_now().date() + timedelta(days=7)
        organiser.get_by_label("Tittel", exact=True).fill("Allidrett for 3.–7. trinn")
        organiser.get_by_label("Kort om aktiviteten", exact=True).fill("Lek og idrett.")
        organiser.get_by_label("Kategori", exact=True).select_option(label="Idrett")
        organiser.get_by_label("Alder fra", exact=True).fill("8")
        organiser.get_by_label("Alder til", exact=True).fill("12")
        organiser.get_by_label("Første dato", exact=True).fill(first.isoformat())
        organiser.get_by_label("Starter kl.", exact=True).fill("17:00")
        organiser.get_by_label("Slutter kl.", exact=True).fill("18:30")
        organiser.get_by_label("Gjentas", exact=True).select_option(label="Hver uke")
        organiser.get_by_label("Siste dato", exact=True).fill(
            (first + timedelta(days=56)).isoformat()
        )
        organiser.get_by_label("Navn på nytt sted", exact=True).fill("Fjordbyhallen")
        organiser.get_by_label("Adresse til nytt sted", exact=True).fill(
            "Hallveien 2, 3000 Fjordby"
        )
        organiser.get_by_label("Pris i kroner", exact=True).fill("0")
        # Backpack post needs a printable flyer.
        organiser.get_by_label("Flygeblad (PDF)", exact=True).set_input_files(
            files=[{"name": "allidrett.pdf", "mimeType": "application/pdf", "buffer": flyer_pdf()}]
        )
        organiser.get_by_role("button", name="Lagre utkast", exact=True).click()
        expect(organiser).to_have_url(re.compile(r"/activities/\d+$"))
        activity_id = int(re.search(r"/activities/(\d+)$", organiser.url).group(1))
        organiser.get_by_role("button", name="Publiser", exact=True).click()
        expect(organiser.get_by_text("Aktiviteten er publisert.")).to_be_visible()

        # --- the municipality verifies it ----------------------------------------------------
        admin.goto("/admin/organisations")
        admin.get_by_role("button", name="Verifiser Fjordby IL", exact=True).click()
        expect(admin.locator(".flashes")).to_be_visible()

        # --- the organiser asks Solbakken to send the flyer home next week -------------------
        with site.app.test_request_context("/"):
            week = upcoming_weeks()[1]
        organiser.goto(f"/activities/{activity_id}/reach")
        organiser.get_by_label("Uke", exact=True).select_option(week)
        organiser.get_by_role("button", name="Vis", exact=True).click()
        row = organiser.locator('li.reach-school[data-school="solbakken-skole"]')
        expect(row).to_have_attribute("data-channel", "backpack_post")
        # The lower secondary school is outside the activity's ages: it cannot be asked.
        expect(organiser.get_by_label("Fjordby ungdomsskole", exact=True)).to_have_count(0)
        organiser.get_by_label("Solbakken skole", exact=True).check()
        organiser.get_by_role("button", name="Send forespørsel til skolene", exact=True).click()
        expect(organiser.locator(".flashes")).to_contain_text("Forespørselen er sendt til 1 skole")
        with site.app.app_context():
            request_id = db.session.scalar(
                select(DistributionRequest.id).where(DistributionRequest.activity_id == activity_id)
            )
            db.session.remove()

        # --- the principal approves it and downloads the week's backpack post ----------------
        rector.goto("/schools/solbakken-skole/requests")
        inbox_row = rector.locator(f"table.inbox tr#request-{request_id}")
        expect(inbox_row).to_contain_text("Allidrett")
        inbox_row.get_by_role("link", name=re.compile(r"^Vurder")).click()
        rector.get_by_role("button", name="Godkjenn", exact=True).click()
        expect(rector.locator(".flashes")).to_contain_text("er godkjent")

        rector.goto(f"/schools/solbakken-skole/exports/{week}/backpack_post")
        with rector.expect_download() as download_info:
            rector.get_by_role(
                "button", name="Last ned PDF og merk som eksportert", exact=True
            ).click()
        raw = Path(download_info.value.path()).read_bytes()
        (artifacts_dir / "go-live-backpack.pdf").write_bytes(raw)
        reader = PdfReader(io.BytesIO(raw))
        assert len(reader.pages) == 2, "a cover sheet and the one flyer"
        cover = " ".join(reader.pages[0].extract_text().split())
        assert "Ranselpost – Solbakken skole" in cover
        flyer = " ".join(reader.pages[1].extract_text().split())
        assert "Allidrett" in flyer and "Fjordby IL" in flyer
        with site.app.app_context():
            assert db.session.get(DistributionRequest, request_id).status == "exported"
            db.session.remove()

        assert problems == [[], [], []]
    finally:
        for page in (admin, rector, organiser):
            page.context.close()


def test_a_forgotten_password_is_reset_from_the_e_mailed_link(browser, go_live_site):
    site = go_live_site
    email, old = "glemsk@fjordby-il.example", "Gammelt passord som glemmes"
    new = "Nytt og bedre passord 2026"
    with site.app.app_context():
        from directory.accounts.operations import create_user

        create_user(email, "Glemsk Leder", old)
        db.session.commit()
        db.session.remove()
    page = new_page(browser, site)
    try:
        page.goto("/login")
        page.get_by_role("link", name="Glemt passordet?", exact=True).click()
        page.get_by_label("E-postadressen til kontoen", exact=True).fill(email)
        page.get_by_role("button", name="Send lenke", exact=True).click()
        expect(page.get_by_role("main")).to_contain_text(email)

        link = mail_link(site.wait_for_mail(email), "/account/password/reset/")
        page.goto(link)
        page.get_by_label("Passord", exact=True).fill(new)
        page.get_by_label("Gjenta passordet", exact=True).fill(new)
        page.get_by_role("button", name="Lagre nytt passord", exact=True).click()
        expect(page).to_have_url(re.compile(r"/login$"))

        fill_login(page, email, old)
        expect(page.get_by_text("Feil e-post eller passord.")).to_be_visible()
        fill_login(page, email, new)
        expect(page).to_have_url(re.compile(r"/account$"))

        page.goto(link)  # the link works once
        expect(page.get_by_role("heading", level=1)).to_have_text("Lenken virker ikke")
    finally:
        page.context.close()
