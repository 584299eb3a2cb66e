"""E-mail notifications about distribution requests: optional, off by default, pluggable.

Operations call notify(event, request). Nothing is sent unless NOTIFICATIONS_ENABLED is set; then
the messages are built when the transaction commits (a rolled-back act notifies nobody) and handed
to the sender named by NOTIFICATION_SENDER, a dotted path to a class with `send(message)`. The
default sender hands each message to the one mail component (directory.mail): SMTP when
MAIL_SERVER is set, the application log when it is not.

Each recipient reads the message in their own interface language (User.locale): one message per
language group, plain text plus HTML, rendered from templates/mail/request_notification.*.

Recipients are staff and organisation accounts only: the directory knows no pupil or parent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Protocol

from flask import current_app, has_app_context
from flask_babel import force_locale
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event
from sqlalchemy.orm import Session

from directory.i18n import gettext as _

if TYPE_CHECKING:
    from directory.approvals.models import DistributionRequest

log = logging.getLogger("directory.notifications")
QUEUE_KEY = "notifications_queued"
# Who hears of what: the school's staff of new and changed requests (and of an approved offer
# cancelled since), the organiser's members of the school's answer.
TO_SCHOOL = ("request.created", "request.withdrawn", "request.reopened", "request.cancelled")
TO_ORGANISER = ("request.approved", "request.rejected")


@dataclass(frozen=True)
class Message:
    """One e-mail: recipients, subject, plain text body, and the HTML alternative."""

    to: tuple[str, ...]
    subject: str
    body: str
    html: str | None = None
    locale: str = "nb"


class Sender(Protocol):
    """Anything that can deliver a Message."""

    def send(self, message: Message) -> None: ...


class MailSender:
    """The default: delivers through directory.mail (SMTP, or the log without MAIL_SERVER)."""

    def send(self, message: Message) -> None:
        """Deliver the message; directory.mail.MailError when the mail server failed."""
        from directory.mail import Email, deliver

        deliver(Email(to=message.to, subject=message.subject, text=message.body, html=message.html))


def load_sender(path: str) -> Sender:
    """The sender class at `module:Class` (or `module.Class`), instantiated."""
    module_name, _sep, class_name = path.replace(":", ".").rpartition(".")
    return getattr(import_module(module_name), class_name)()


def notify(event_name: str, req: DistributionRequest) -> None:
    """Queue a notification about `req`, to be built and sent when the transaction commits."""
    if not (has_app_context() and current_app.config.get("NOTIFICATIONS_ENABLED")):
        return
    from directory.extensions import db

    # The innermost savepoint, if any: rolling it back takes back what was queued inside it.
    session = db.session()
    savepoint = session.get_nested_transaction()
    session.info.setdefault(QUEUE_KEY, []).append((event_name, req.id, savepoint))


def recipient_users(event_name: str, req: DistributionRequest) -> list:
    """The active accounts that hear of this event, one each, by e-mail address."""
    if event_name in TO_SCHOOL:
        users = [role.user for role in req.school.staff]
    else:
        users = [m.user for m in req.activity.organisation.memberships]
    unique = {u.email: u for u in users if u is not None and u.is_active}
    return [unique[email] for email in sorted(unique)]


def recipients(event_name: str, req: DistributionRequest) -> tuple[str, ...]:
    """The e-mail addresses that hear of this event."""
    return tuple(u.email for u in recipient_users(event_name, req))


def build_messages(event_name: str, req: DistributionRequest) -> list[Message]:
    """The messages for an event: one per interface language among its recipients."""
    from directory.mail import LANGUAGES, render_email

    groups: dict[str, list[str]] = {}
    for user in recipient_users(event_name, req):
        language = user.locale if user.locale in LANGUAGES else "nb"
        groups.setdefault(language, []).append(user.email)
    messages = []
    for language, to in sorted(groups.items()):
        with force_locale(language):
            names = {
                "request.created": _("Ny forespørsel"),
                "request.withdrawn": _("Forespørsel trukket tilbake"),
                "request.reopened": _("Endret aktivitet: forespørsel til ny vurdering"),
                "request.approved": _("Forespørsel godkjent"),
                "request.rejected": _("Forespørsel avvist"),
                "request.cancelled": _("Avlyst etter godkjenning"),
            }
            what = names[event_name]
        base = current_app.config.get("PUBLIC_BASE_URL")
        email = render_email(
            to,
            "request_notification",
            locale=language,
            what=what,
            title=req.activity.title,
            school=req.school.name,
            week=req.week,
            reason=req.review_reason if event_name == "request.rejected" else None,
            cancelled=event_name == "request.cancelled",
            cancellation_reason=req.cancellation_reason,
            login_url=(base.rstrip("/") + "/login") if base else None,
        )
        messages.append(
            Message(
                to=email.to,
                subject=email.subject,
                body=email.text,
                html=email.html,
                locale=language,
            )
        )
    return messages


def _deliver(session: Session) -> None:
    queued = session.info.pop(QUEUE_KEY, [])
    if not queued or not has_app_context():
        return
    try:
        _send_all([(event_name, request_id) for event_name, request_id, _sp in queued])
    except Exception:  # a mail failure must never undo or break the act itself
        log.exception("could not send the notifications")


def _send_all(queued: list[tuple[str, int]]) -> None:
    from directory.approvals.models import DistributionRequest
    from directory.extensions import db

    sender = load_sender(current_app.config["NOTIFICATION_SENDER"])
    # The committed session cannot run SQL any more: read through a new short-lived one.
    with Session(db.engine) as reader:
        for event_name, request_id in queued:
            try:
                req = reader.get(DistributionRequest, request_id)
                messages = build_messages(event_name, req) if req is not None else []
            except Exception:
                log.exception("could not build the notification %s", event_name)
                continue
            for message in messages:
                try:
                    sender.send(message)
                except Exception:  # one failed message must not keep the others from going
                    log.exception("could not send the notification %s", event_name)


def _inside(transaction, ancestor) -> bool:
    """Whether `transaction` is `ancestor` or was begun inside it."""
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(FlaskSession, "after_commit")
def _after_commit(session: Session) -> None:
    _deliver(session)


@event.listens_for(FlaskSession, "after_transaction_end")
def _after_transaction_end(session: Session, transaction) -> None:
    # The outermost transaction ended without a commit (rolled back or closed; after a commit
    # the queue is already gone): a rolled-back act notifies nobody.
    if transaction.parent is None:
        session.info.pop(QUEUE_KEY, None)


@event.listens_for(FlaskSession, "after_soft_rollback")
def _after_soft_rollback(session: Session, previous_transaction) -> None:
    # A savepoint rolled back: forget what was queued inside it, keep what the enclosing
    # transaction queued (SQLAlchemy's "after_rollback" fires for a savepoint too, and
    # dropping the whole queue there lost the enclosing transaction's notifications).
    if previous_transaction.parent is None:
        return
    queued = session.info.get(QUEUE_KEY)
    if queued:
        session.info[QUEUE_KEY] = [
            item for item in queued if not _inside(item[2], previous_transaction)
        ]
