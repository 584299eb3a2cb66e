"""The municipal admin's pages: verifying organisations, the audit log, request statistics, the
municipality's settings and the shared categories."""

from __future__ import annotations

from typing import Any, ClassVar

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from directory import loading
from directory.admin.audit_log import describe_events
from directory.admin.blueprint import bp
from directory.admin.forms import (
    CategoryForm,
    MunicipalitySettingsForm,
    RejectForm,
    StatisticsFilterForm,
)
from directory.admin.operations import (
    MUNICIPALITY_FIELDS,
    all_categories,
    category_fingerprint,
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
    statistics_weeks,
    status_columns,
)
from directory.errors import DomainError, Stale
from directory.i18n import gettext as _
from directory.organisations.forms import ConfirmForm
from directory.organisations.models import VERIFICATION_STATES
from directory.permissions import (
    can_edit_municipality_settings,
    can_manage_categories,
    can_verify_organisation,
    can_view_statistics,
)
from directory.pipeline import Handler, route
from directory.reach_counts.queries import municipality_counts
from directory.web import abort_with


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


class _OneOrganisation(Handler):
    """An action on one organisation of the admin's own municipality."""

    def load(self, org_id: int) -> None:
        self.organisation = loading.organisation_by_id(org_id)

    def check(self) -> None:
        # Another municipality's organisation does not exist here: no hint that it does.
        if not can_verify_organisation(current_user, self.organisation):
            abort(404)

    def done(self, result: None):
        return redirect(url_for("admin.list_organisations"))


@route(bp, "/organisations/<int:org_id>/verify", "verify")
class VerifyOrganisation(_OneOrganisation):
    """Verify an organisation of the admin's municipality."""

    form_class = ConfirmForm

    def act(self, form: ConfirmForm) -> None:
        verify_organisation(self.organisation, actor=current_user)

    def done(self, result: None):
        flash(_("%(name)s er verifisert.", name=self.organisation.name), "success")
        return super().done(result)


@route(bp, "/organisations/<int:org_id>/reject", "reject")
class RejectOrganisation(_OneOrganisation):
    """Reject an organisation of the admin's municipality, with a reason."""

    form_class = RejectForm

    def invalid(self, form: RejectForm):
        return render_template("admin/reject.html", organisation=self.organisation, form=form), 422

    def act(self, form: RejectForm) -> None:
        reject_organisation(self.organisation, {"reason": form.reason.data}, actor=current_user)

    def done(self, result: None):
        flash(_("%(name)s er avvist.", name=self.organisation.name), "success")
        return super().done(result)


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
    form = StatisticsFilterForm(formdata=request.args, weeks=statistics_weeks(municipality))
    valid = form.validate()
    stats = reach = None
    if valid:
        weeks = form.week_range()
        stats = request_statistics(municipality, weeks)
        reach = municipality_counts(municipality, weeks.start, weeks.end)
    return render_template(
        "admin/statistics.html",
        form=form,
        stats=stats,
        reach=reach,
        statuses=status_columns(),
        municipality=municipality,
        rate_text=rate_text,
        duration_text=duration_text,
    ), (200 if valid else 400)


@route(bp, "/settings", "edit_settings")
class EditSettings(Handler):
    """The municipality's name, messaging label, number and contact e-mail (for the
    statements); a save over someone else's newer one is refused with 409 and the page."""

    methods = ["GET", "POST"]

    def load(self) -> None:
        self.municipality = current_user.admin_municipality

    def check(self) -> None:
        if not can_edit_municipality_settings(current_user, self.municipality.id):
            abort(403)

    def make_form(self) -> MunicipalitySettingsForm:
        return MunicipalitySettingsForm(obj=self.municipality if request.method == "GET" else None)

    def current_version(self) -> str:
        return municipality_fingerprint(self.municipality)

    def show(self, form: MunicipalitySettingsForm, status: int = 200, conflict: str | None = None):
        return render_template(
            "admin/settings.html", form=form, municipality=self.municipality, conflict=conflict
        ), status

    def invalid(self, form: MunicipalitySettingsForm):
        return self.show(form, 422)

    def refused(self, error: DomainError, form: MunicipalitySettingsForm):
        # The page again, with what was typed, the message and a link to the newest version.
        if isinstance(error, Stale):
            return self.show(form, error.status, conflict=error.message)
        return super().refused(error, form)

    def act(self, form: MunicipalitySettingsForm) -> bool:
        data = {name: getattr(form, name).data for name in MUNICIPALITY_FIELDS}
        return update_municipality(self.municipality, data, actor=current_user)

    def done(self, changed: bool):
        if changed:
            flash(_("Innstillingene er lagret."), "success")
        else:
            flash(_("Ingenting er endret."), "info")
        return redirect(url_for("admin.edit_settings"))


# --- categories (shared by every municipality in the database) --------------------------------


def _names(form: CategoryForm) -> dict[str, Any]:
    return {"name_nb": form.name_nb.data, "name_nn": form.name_nn.data,
            "name_en": form.name_en.data}  # fmt: skip


def _categories_page(form: CategoryForm, status: int = 200):
    return render_template(
        "admin/categories.html",
        categories=all_categories(),
        form=form,
        confirm_form=ConfirmForm(formdata=None),
        municipality=current_user.admin_municipality,
    ), status


@bp.route("/categories")
def list_categories():
    """Every category (shared by the municipalities), hidden ones marked, and a form for a new one."""
    if not can_manage_categories(current_user):
        abort(403)
    return _categories_page(CategoryForm(formdata=None))


class _Categories(Handler):
    """Categories are shared, so every municipal admin manages them."""

    def check(self) -> None:
        if not can_manage_categories(current_user):
            abort(403)

    def done(self, result: Any):
        return redirect(url_for("admin.list_categories"))


@route(bp, "/categories/new", "new_category")
class NewCategory(_Categories):
    """Add a category named in bokmål, nynorsk and English."""

    form_class = CategoryForm

    def current_version(self) -> None:
        return None  # a new category: nothing to be stale against

    def invalid(self, form: CategoryForm):
        return _categories_page(form, 422)

    def act(self, form: CategoryForm):
        return create_category(_names(form), actor=current_user)

    def done(self, category):
        flash(_("Kategorien %(name)s er lagt til.", name=category.name_nb), "success")
        return super().done(category)


class _OneCategory(_Categories):
    """An action on one category (404 when unknown)."""

    def load(self, category_id: int) -> None:
        self.category = loading.category(category_id)


@route(bp, "/categories/<int:category_id>/edit", "edit_category")
class EditCategory(_OneCategory):
    """Rename a category in the three languages; its slug (in links) stays."""

    methods = ["GET", "POST"]

    def make_form(self) -> CategoryForm:
        obj = self.category if request.method == "GET" else None
        return CategoryForm(obj=obj, category=self.category)

    def current_version(self) -> str:
        return category_fingerprint(self.category)

    def show(self, form: CategoryForm, status: int = 200):
        return render_template(
            "admin/category_edit.html", form=form, category=self.category
        ), status

    def invalid(self, form: CategoryForm):
        return self.show(form, 422)

    def act(self, form: CategoryForm) -> bool:
        return rename_category(self.category, _names(form), actor=current_user)

    def done(self, changed: bool):
        if changed:
            flash(_("Kategorien er endret."), "success")
        else:
            flash(_("Ingenting er endret."), "info")
        return super().done(changed)


class _SetCategoryHidden(_OneCategory):
    """Hide a category from new choices, the filters and the API, or offer it again."""

    form_class = ConfirmForm
    hidden: ClassVar[bool]

    def act(self, form: ConfirmForm) -> bool:
        return set_category_hidden(self.category, self.hidden, actor=current_user)

    def done(self, changed: bool):
        name = self.category.name_nb
        if changed and self.hidden:
            flash(
                _(
                    "%(name)s er skjult. Aktiviteter som har kategorien, beholder den, men den "
                    "kan ikke velges på nytt og vises ikke i filtrene.",
                    name=name,
                ),
                "success",
            )
        elif changed:
            flash(_("%(name)s vises igjen.", name=name), "success")
        return super().done(changed)


@route(bp, "/categories/<int:category_id>/hide", "hide_category")
class HideCategory(_SetCategoryHidden):
    """Hide a category from new choices, the filters and the API."""

    hidden = True


@route(bp, "/categories/<int:category_id>/show", "show_category")
class ShowCategory(_SetCategoryHidden):
    """Offer a hidden category again."""

    hidden = False
