"""The municipal admin's pages: verifying organisations, the audit log, request statistics."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from directory.admin.audit_log import describe_events
from directory.admin.forms import RejectForm, StatisticsFilterForm
from directory.admin.operations import (
    municipality_organisations,
    recent_audit_events,
    reject_organisation,
    verify_organisation,
)
from directory.admin.statistics import (
    duration_text,
    rate_text,
    request_statistics,
    status_columns,
)
from directory.extensions import db, login_manager
from directory.organisations.forms import ConfirmForm
from directory.organisations.models import VERIFICATION_STATES, Organisation
from directory.permissions import (
    can_administer_municipality,
    can_verify_organisation,
    can_view_statistics,
)
from directory.web import abort_with

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def require_municipal_admin():
    """Every admin page needs a signed-in municipal admin: others get the login page or 403."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not can_administer_municipality(current_user):
        abort(403)
    return None


def _load_organisation(org_id: int) -> Organisation:
    """The organisation, or 404 also when it belongs to another municipality (no hint it exists)."""
    organisation = db.session.get(Organisation, org_id)
    if organisation is None or organisation.municipality_id != current_user.admin_municipality_id:
        abort(404)
    return organisation


@bp.route("/organisations")
def list_organisations():
    """The admin's own municipality's organisations, pending first."""
    status = request.args.get("status") or None
    if status is not None and status not in VERIFICATION_STATES:
        abort_with(400, _("Ukjent status. Velg venter, verifisert eller avvist."))
    return render_template(
        "admin/organisations.html",
        organisations=municipality_organisations(current_user.admin_municipality_id, status),
        status=status,
        states=VERIFICATION_STATES,
        municipality=current_user.admin_municipality,
    )


@bp.route("/organisations/<int:org_id>/verify", methods=["POST"])
def verify(org_id: int):
    """Verify an organisation of the admin's municipality."""
    organisation = _load_organisation(org_id)
    if not can_verify_organisation(current_user, organisation):
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    verify_organisation(organisation, actor=current_user)
    db.session.commit()
    flash(_("%(name)s er verifisert.", name=organisation.name), "success")
    return redirect(url_for("admin.list_organisations"))


@bp.route("/organisations/<int:org_id>/reject", methods=["POST"])
def reject(org_id: int):
    """Reject an organisation of the admin's municipality, with a reason."""
    organisation = _load_organisation(org_id)
    if not can_verify_organisation(current_user, organisation):
        abort(404)
    form = RejectForm()
    if form.validate_on_submit():
        reject_organisation(organisation, {"reason": form.reason.data}, actor=current_user)
        db.session.commit()
        flash(_("%(name)s er avvist.", name=organisation.name), "success")
        return redirect(url_for("admin.list_organisations"))
    return render_template("admin/reject.html", organisation=organisation, form=form), 422


@bp.route("/audit")
def audit_log():
    """The newest audit events of the admin's municipality."""
    events = recent_audit_events(current_user.admin_municipality_id)
    return render_template(
        "admin/audit.html",
        events=describe_events(events),
        municipality=current_user.admin_municipality,
    )


@bp.route("/statistics")
def statistics():
    """Counts of the municipality's distribution requests, optionally for a range of weeks: a
    week range that cannot be read is a 400 with the form and its errors, and no numbers."""
    municipality = current_user.admin_municipality
    if not can_view_statistics(current_user, municipality.id):
        abort(403)
    form = StatisticsFilterForm(formdata=request.args)
    valid = form.validate()
    return render_template(
        "admin/statistics.html",
        form=form,
        stats=request_statistics(municipality, form.week_range()) if valid else None,
        statuses=status_columns(),
        municipality=municipality,
        rate_text=rate_text,
        duration_text=duration_text,
    ), (200 if valid else 400)
