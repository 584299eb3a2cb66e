"""The Facebook share channel: a page to work through, with a suggested text for each post to
share on the school's Facebook page."""

from __future__ import annotations

from flask import render_template

from directory.exports.formats.shared import Batch, Offer
from directory.i18n import gettext as _


def facebook_text(offer: Offer) -> str:
    """A suggested text to go with the shared post: who it is for, when (the schedules as
    sentences, each ending in its own full stop, then the next time of a repeating one), the
    price, the offer's other languages with their titles, and the link."""
    parts = [
        _(
            "Tips til foresatte på %(grades)s: %(title)s med %(organiser)s.",
            grades=offer.grades_text or offer.ages,
            title=offer.title,
            organiser=offer.organiser,
        )
    ]
    parts.extend(offer.schedule)
    if offer.next_time:
        parts.append(_("Neste gang: %(when)s.", when=offer.next_time))
    parts.append(_("Pris: %(price)s.", price=offer.price))
    if offer.translations:
        parts.append(_("Også på: %(languages)s.", languages=offer.other_languages()))
    parts.append(_("Les mer: %(url)s", url=offer.short_url))
    return " ".join(parts)


def facebook_share_html(batch: Batch) -> bytes:
    """A page to work through, one request after the other: what to share, with which text."""
    html = render_template(
        "exports/facebook_share.html",
        batch=batch,
        items=[(offer, facebook_text(offer)) for offer in batch.offers],
    )
    return html.encode("utf-8")
