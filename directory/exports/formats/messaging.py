"""The school messaging channel: the messages to paste into the school's messaging app, as a
text file and as a CSV file for spreadsheets."""

from __future__ import annotations

from directory.approvals.display import grades_text
from directory.csvexport import csv_bytes
from directory.exports.formats.shared import Batch, Offer
from directory.i18n import gettext as _
from directory.i18n import ngettext


def message_text(offer: Offer) -> str:
    """One message for the messaging app, ready to paste: the facts and the short link."""
    lines = [offer.title]
    if offer.summary:
        lines.append(offer.summary)
    lines.append("")
    lines.append(_("Når: %(when)s", when=" ".join(offer.schedule)))
    if offer.next_time:
        lines.append(_("Neste gang: %(when)s", when=offer.next_time))
    if offer.where:
        lines.append(_("Hvor: %(where)s", where=offer.where))
    lines.append(_("For: %(audience)s", audience=offer.audience))
    lines.append(_("Pris: %(price)s", price=offer.price))
    if offer.registration_url:
        lines.append(_("Påmelding: %(url)s", url=offer.registration_url))
    lines.append(_("Arrangør: %(name)s", name=offer.organiser))
    lines.append(_("Les mer: %(url)s", url=offer.short_url))
    lines.append("")
    lines.append(_("Skolen formidler tilbudet, men er ikke arrangør. Spørsmål går til arrangøren."))
    return "\n".join(lines)


def messaging_text(batch: Batch) -> str:
    """All messages of the batch, each between rules, after a header saying whom to send to."""
    count = len(batch.offers)
    rule = "-" * 60
    lines = [
        _(
            "Meldinger til foresatte – %(school)s, %(week)s",
            school=batch.school_name,
            week=batch.week_label,
        ),
        _("Kanal: %(label)s", label=batch.messaging_label),
        _("Send til: %(grades)s", grades=grades_text(batch.grades)),
        ngettext(
            "%(num)s melding. Lim inn teksten mellom strekene i %(label)s.",
            "%(num)s meldinger. Lim inn teksten mellom strekene i %(label)s, én melding om gangen.",
            count,
            label=batch.messaging_label,
        ),
    ]
    for number, offer in enumerate(batch.offers, start=1):
        lines += [
            "",
            rule,
            _(
                "Melding %(number)s av %(count)s – send til %(grades)s",
                number=number,
                count=count,
                grades=offer.grades_text,
            ),
            _("Aktivitetens side: %(url)s", url=offer.page_url),
            rule,
            message_text(offer),
        ]
    lines += ["", rule]
    return "\n".join(lines) + "\n"


def messaging_text_bytes(batch: Batch) -> bytes:
    """The messaging text as a UTF-8 file."""
    return messaging_text(batch).encode("utf-8")


def csv_header() -> list[str]:
    """The CSV columns, in bokmål."""
    return [
        _("ID"),
        _("Tittel"),
        _("Når"),
        _("Neste gang"),
        _("Hvor"),
        _("For"),
        _("Trinn"),
        _("Pris"),
        _("Påmelding"),
        _("Arrangør"),
        _("Lenke"),
        _("Kort lenke"),
        _("Melding"),
    ]


def messaging_csv(batch: Batch) -> bytes:
    """One row per request: the facts in columns and the whole message in the last one.

    Semicolon-separated UTF-8 with a byte-order mark, for Excel with a Norwegian locale; a cell
    an organiser could turn into a formula is neutralised (directory.csvexport).
    """
    rows = (
        [
            offer.activity_id,
            offer.title,
            " ".join(offer.schedule),
            offer.next_time or "",
            offer.where,
            offer.ages,
            ", ".join(str(g) for g in offer.grades),
            offer.price,
            offer.registration_url or "",
            offer.organiser,
            offer.page_url,
            offer.short_url,
            message_text(offer),
        ]
        for offer in batch.offers
    )
    return csv_bytes(csv_header(), rows)
