"""The one mail component: every e-mail the directory sends goes through here.

A message is rendered from `templates/mail/<name>.subject.txt`, `<name>.txt` and `<name>.html`
in the recipient's interface language, and delivered over SMTP when MAIL_SERVER is set, or
written to the log when it is not (`make run`). The HTML part has no image, script or tracking
pixel: only text and links.

Callers commit the act first and send afterwards. `send_email` never raises: it answers whether
the message went, so a page can say that the e-mail could not be sent and show the link instead.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any

from flask import current_app, render_template, request
from flask_babel import force_locale

from directory.urls import absolute_url, request_is_local

log = logging.getLogger("directory.mail")

LANGUAGES = ("nb", "nn", "en")


class MailError(Exception):
    """The message could not be handed to the mail server."""


class NoPublicAddress(MailError):
    """PUBLIC_BASE_URL is not set and the request came to another host than this machine."""


def public_link(endpoint: str, **values: Any) -> str:
    """An absolute link to a page, for an e-mail (built by directory.urls.absolute_url).

    It is built on PUBLIC_BASE_URL. Without that setting, only a request to this machine itself
    (`make run`, tests) may lend its address: any other Host header is the client's word, and a
    password-reset or invitation link built on it would carry its token to whatever host an
    attacker named. Then NoPublicAddress is raised and nothing is to be sent.
    """
    if not current_app.config.get("PUBLIC_BASE_URL") and not request_is_local():
        raise NoPublicAddress(
            "PUBLIC_BASE_URL is not set: no link is e-mailed for a request to " + request.host
        )
    return absolute_url(endpoint, **values)


@dataclass(frozen=True)
class Email:
    """One rendered e-mail: recipients, a one-line subject, a plain text body and an HTML body."""

    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None = None


def one_line(text: str) -> str:
    """Whitespace folded to single spaces: nothing from user data may break a header line."""
    return " ".join(str(text).split())


def render_email(to: str | Iterable[str], template: str, *, locale: str | None, **context) -> Email:
    """Render mail/<template>.* in the given interface language (bokmål when unknown)."""
    recipients = (to,) if isinstance(to, str) else tuple(to)
    language = locale if locale in LANGUAGES else "nb"
    with force_locale(language):
        subject = one_line(render_template(f"mail/{template}.subject.txt", **context))
        text = render_template(f"mail/{template}.txt", **context).strip() + "\n"
        html = render_template(f"mail/{template}.html", lang=language, **context)
    return Email(to=recipients, subject=subject, text=text, html=html)


def build_message(email: Email) -> EmailMessage:
    """The MIME message: text/plain first, text/html as the alternative."""
    config = current_app.config
    sender = config["MAIL_SENDER"]
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(email.to)
    message["Subject"] = one_line(email.subject)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or None
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(email.text)
    if email.html:
        message.add_alternative(email.html, subtype="html")
    return message


def deliver(email: Email) -> None:
    """Hand the message to the SMTP server, or to the log when none is set; MailError on failure."""
    config = current_app.config
    if not email.to:
        return
    if not config.get("MAIL_SERVER"):
        log.info("e-mail to %s: %s\n%s", ", ".join(email.to), email.subject, email.text)
        return
    message = build_message(email)
    try:
        with smtplib.SMTP(
            config["MAIL_SERVER"], int(config["MAIL_PORT"]), timeout=config["MAIL_TIMEOUT"]
        ) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls(context=ssl.create_default_context())
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(str(exc)) from exc


def send_email(to: str | Iterable[str], template: str, *, locale: str | None, **context) -> bool:
    """Render and deliver one e-mail; False (and a logged error) when it could not be sent."""
    email = render_email(to, template, locale=locale, **context)
    try:
        deliver(email)
    except MailError:
        log.exception("could not send the e-mail %r to %s", template, ", ".join(email.to))
        return False
    return True
