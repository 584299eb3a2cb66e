"""The municipal admin's pages: verifying organisations, the audit log, request statistics."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from directory.activities.models import Category
from directory.admin.audit_log import describe_events
from directory.admin.forms import (
    CategoryForm,
    MunicipalitySettingsForm,
    RejectForm,
    StatisticsFilterForm,
)
from directory.admin.operations import (
    MUNICIPALITY_FIELDS,
    all_categories,
    create_category,
    municipality_fingerprint,
    municipality_organisations,
    recent_audit_events,
    reject_organisation,
    rename_category,
    set_category_hidden,
    update_municipality,
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
    can_edit_municipality_settings,
    can_manage_categories,
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


@bp.route("/settings", methods=["GET", "POST"])
def edit_settings():
    """The municipality's name, messaging label, number and contact e-mail (for the
    statements); a save over someone else's newer one is refused with 409."""
    municipality = current_user.admin_municipality
    if not can_edit_municipality_settings(current_user, municipality.id):
        abort(403)
    submitted = request.method == "POST"
    form = MunicipalitySettingsForm(obj=None if submitted else municipality)
    current = municipality_fingerprint(municipality)
    page = {"form": form, "municipality": municipality, "conflict": None}
    if not submitted:
        form.version.data = current
    elif form.version.data != current:
        page["conflict"] = _(
            "Noen andre har endret innstillingene mens du redigerte, så endringene dine er ikke "
            "lagret. Last inn siden på nytt for å se den nyeste versjonen."
        )
        return render_template("admin/settings.html", **page), 409
    if form.validate_on_submit():
        data = {name: getattr(form, name).data for name in MUNICIPALITY_FIELDS}
        if update_municipality(municipality, data, actor=current_user):
            db.session.commit()
            flash(_("Innstillingene er lagret."), "success")
        else:
            flash(_("Ingenting er endret."), "info")
        return redirect(url_for("admin.edit_settings"))
    return render_template("admin/settings.html", **page), 422 if submitted else 200


def _categories_page(form: CategoryForm, status: int = 200):
    return render_template(
        "admin/categories.html",
        categories=all_categories(),
        form=form,
        confirm_form=ConfirmForm(formdata=None),
        municipality=current_user.admin_municipality,
    ), status


def _load_category(category_id: int) -> Category:
    """The category, or 404; categories are shared, so every municipal admin manages them."""
    category = db.session.get(Category, category_id)
    if category is None:
        abort(404)
    if not can_manage_categories(current_user):
        abort(403)
    return category


@bp.route("/categories")
def list_categories():
    """Every category (shared by the municipalities), hidden ones marked, and a form for a new one."""
    if not can_manage_categories(current_user):
        abort(403)
    return _categories_page(CategoryForm(formdata=None))


@bp.route("/categories/new", methods=["POST"])
def new_category():
    """Add a category named in bokmål, nynorsk and English."""
    if not can_manage_categories(current_user):
        abort(403)
    form = CategoryForm()
    if form.validate_on_submit():
        category = create_category(
            {"name_nb": form.name_nb.data, "name_nn": form.name_nn.data,
             "name_en": form.name_en.data},
            actor=current_user,
        )  # fmt: skip
        db.session.commit()
        flash(_("Kategorien %(name)s er lagt til.", name=category.name_nb), "success")
        return redirect(url_for("admin.list_categories"))
    return _categories_page(form, 422)


@bp.route("/categories/<int:category_id>/edit", methods=["GET", "POST"])
def edit_category(category_id: int):
    """Rename a category in the three languages; its slug (in links) stays."""
    category = _load_category(category_id)
    submitted = request.method == "POST"
    form = CategoryForm(obj=None if submitted else category, category=category)
    if form.validate_on_submit():
        data = {"name_nb": form.name_nb.data, "name_nn": form.name_nn.data,
                "name_en": form.name_en.data}  # fmt: skip
        if rename_category(category, data, actor=current_user):
            db.session.commit()
            flash(_("Kategorien er endret."), "success")
        else:
            flash(_("Ingenting er endret."), "info")
        return redirect(url_for("admin.list_categories"))
    return render_template(
        "admin/category_edit.html", form=form, category=category
    ), 422 if submitted else 200


def _set_category_hidden(category_id: int, hidden: bool):
    category = _load_category(category_id)
    if not ConfirmForm().validate_on_submit():
        abort_with(400, _("Skjemaet var ugyldig. Last inn siden på nytt og prøv igjen."))
    changed = set_category_hidden(category, hidden, actor=current_user)
    db.session.commit()
    if changed and hidden:
        flash(
            _(
                "%(name)s er skjult. Aktiviteter som har kategorien, beholder den, men den "
                "kan ikke velges på nytt og vises ikke i filtrene.",
                name=category.name_nb,
            ),
            "success",
        )
    elif changed:
        flash(_("%(name)s vises igjen.", name=category.name_nb), "success")
    return redirect(url_for("admin.list_categories"))


@bp.route("/categories/<int:category_id>/hide", methods=["POST"])
def hide_category(category_id: int):
    """Hide a category from new choices, the filters and the API."""
    return _set_category_hidden(category_id, True)


@bp.route("/categories/<int:category_id>/show", methods=["POST"])
def show_category(category_id: int):
    """Offer a hidden category again."""
    return _set_category_hidden(category_id, False)


# The account administration pages register on this blueprint.
from directory.admin import account_views  # noqa: E402, F401
