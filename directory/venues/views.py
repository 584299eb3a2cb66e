"""Venue pages: the public page of a venue, its edit form, and the admin's list of venues."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from directory import loading
from directory.admin.blueprint import bp as admin_bp
from directory.errors import DomainError
from directory.i18n import gettext as _
from directory.permissions import can_edit_venue
from directory.pipeline import Handler, route
from directory.venues.forms import VenueForm
from directory.venues.models import Venue
from directory.venues.operations import (
    activities_at,
    add_venue,
    municipality_venues,
    update_venue,
    venue_values,
    visible_venue,
)

bp = Blueprint("venues", __name__)


@bp.route("/venues/<slug>")
def show_venue(slug: str):
    """A venue: where it is, how accessible, and the public activities there that have not
    ended. A venue only a draft names is unknown to the public (404)."""
    venue = loading.venue(slug)
    can_edit = can_edit_venue(current_user, venue)
    if not can_edit and not visible_venue(venue):
        abort(404)
    return render_template(
        "venues/show.html",
        venue=venue,
        listed=activities_at(venue),
        can_edit=can_edit,
    )


@route(bp, "/venues/<slug>/edit", "edit_venue")
class EditVenue(Handler):
    """Correct a venue; every activity there shows the change."""

    methods = ["GET", "POST"]

    def load(self, slug: str) -> None:
        self.venue: Venue = loading.venue(slug)

    def check(self) -> None:
        if not can_edit_venue(current_user, self.venue):
            abort(403 if visible_venue(self.venue) else 404)

    def make_form(self) -> VenueForm:
        if request.method == "POST":
            return VenueForm()
        return VenueForm(data=venue_values(self.venue))

    def current_version(self) -> int:
        return self.venue.version

    def show(self, form: VenueForm, status: int = 200):
        return render_template("venues/edit.html", form=form, venue=self.venue), status

    def invalid(self, form: VenueForm):
        return self.show(form, 400)

    def refused(self, error: DomainError, form: VenueForm):
        form.name.errors = [*form.name.errors, error.message]
        return self.show(form, error.status)

    def act(self, form: VenueForm) -> bool:
        return update_venue(self.venue, form.values(), actor=current_user)

    def done(self, changed: bool):
        flash(_("Stedet er endret.") if changed else _("Ingenting er endret."), "info")
        return redirect(url_for("venues.show_venue", slug=self.venue.slug))


# --- the municipal admin's list (behind the admin blueprint's gate) -----------------------------


def _venues_page(form: VenueForm, status: int = 200):
    municipality = current_user.admin_municipality
    return render_template(
        "venues/admin_list.html",
        listed=municipality_venues(municipality.id),
        form=form,
        municipality=municipality,
    ), status


@admin_bp.route("/venues")
def list_venues():
    """The municipality's venues (drafts' places too) with how many activities use each, and a
    form for a new one."""
    return _venues_page(VenueForm(formdata=None))


@route(admin_bp, "/venues/new", "new_venue")
class NewVenue(Handler):
    """The municipality adds a venue of its own (a school, a hall, a park)."""

    form_class = VenueForm

    def current_version(self) -> None:
        return None  # a new venue: nothing to be stale against

    def invalid(self, form: VenueForm):
        return _venues_page(form, 400)

    def refused(self, error: DomainError, form: VenueForm):
        form.name.errors = [*form.name.errors, error.message]
        return _venues_page(form, error.status)

    def act(self, form: VenueForm) -> Venue:
        return add_venue(
            current_user.admin_municipality, form.values(), added_by=None, actor=current_user
        )

    def done(self, venue: Venue):
        flash(_("%(name)s er lagt til.", name=venue.name), "success")
        return redirect(url_for("venues.show_venue", slug=venue.slug))
