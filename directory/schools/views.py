"""Channel policies: a school's override, the municipal default, their files, the school list."""

from __future__ import annotations

from typing import Any, ClassVar

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from directory import loading
from directory.errors import DomainError, Stale
from directory.extensions import db
from directory.i18n import gettext as _
from directory.organisations.forms import ConfirmForm
from directory.permissions import (
    can_create_school,
    can_edit_default_policy,
    can_edit_school,
    can_edit_school_policy,
    can_manage_school_staff,
    can_view_school_policy,
    is_admin_of_municipality,
)
from directory.pipeline import INVALID_MESSAGE, Handler, route
from directory.policy.channel_policy import (
    FIXED,
    PolicyError,
    effective_policy,
    policy_to_dict,
)
from directory.schools.blueprint import bp
from directory.schools.forms import PolicyForm, PolicyImportForm, SchoolForm
from directory.schools.models import Municipality, School
from directory.schools.operations import (
    create_school,
    import_policy,
    school_fingerprint,
    set_school_active,
    stored_policy,
    update_policy,
    update_school,
)
from directory.schools.policy_files import MAX_FILE_BYTES, PolicyFileError, export_policy
from directory.schools.routing import default_settings_for
from directory.web import abort_with
from directory.weeks import week_in_text

FORMAT_TYPES = {"toml": "application/toml", "json": "application/json"}


def _admin_municipality() -> Municipality:
    """The signed-in municipal admin's municipality, or 403."""
    mid = current_user.admin_municipality_id
    if mid is None or not can_edit_default_policy(current_user, mid):
        abort(403)
    return db.session.get(Municipality, mid)


def _fixed_rules() -> list[str]:
    """The fixed rules' messages, once each, in the visitor's language."""
    seen: list[str] = []
    for template in FIXED.values():
        if template not in seen:
            seen.append(template)
    return [_(template) for template in seen]


def _context(school: School | None, municipality: Municipality) -> dict[str, Any]:
    """What both policy pages show: stored settings, the default, the effective policy."""
    default = default_settings_for(municipality.id)
    row = stored_policy(school, municipality.id)
    override = dict(row.settings) if (row is not None and school is not None) else {}
    return {
        "school": school,
        "municipality": municipality,
        "default": policy_to_dict(default),
        "override": override,
        "effective": policy_to_dict(effective_policy(default, override).__dict__),
        "week_in_text": week_in_text,
        "row": row,
        "fixed_rules": _fixed_rules(),
        "max_kb": MAX_FILE_BYTES // 1024,
        # A school's page links to its staff page for those who manage the staff.
        "can_manage_staff": school is not None and can_manage_school_staff(current_user, school),
    }


def _current_settings(school: School | None, municipality: Municipality) -> dict[str, Any]:
    row = stored_policy(school, municipality.id)
    if row is not None:
        return dict(row.settings)
    return {} if school is not None else default_settings_for(municipality.id)


def _policy_version(school: School | None, municipality: Municipality) -> int:
    """The stored policy's version column; 0 while nothing is stored."""
    row = stored_policy(school, municipality.id)
    return row.version if row is not None else 0


def _policy_form(school: School | None, municipality: Municipality) -> PolicyForm:
    """The policy form as stored, with its version (for the page next to a refused upload)."""
    form = PolicyForm(formdata=None, override=school is not None)
    form.fill(_current_settings(school, municipality))
    form.show_version(_policy_version(school, municipality))
    return form


def _policy_page(
    school: School | None,
    municipality: Municipality,
    *,
    form: PolicyForm,
    import_form: PolicyImportForm,
    can_edit: bool,
    status: int = 200,
    conflict: str | None = None,
):
    return render_template(
        "schools/policy.html",
        form=form,
        import_form=import_form,
        can_edit=can_edit,
        conflict=conflict,
        **_context(school, municipality),
    ), status


class _SettingsRefused(DomainError):
    """A setting the policy rules refuse: shown next to its field, nothing stored (422)."""

    def __init__(self, error: PolicyError):
        message = _(error.template) % error.params if error.params else _(error.template)
        super().__init__(message, 422)
        self.field = error.field


class _FileRefused(DomainError):
    """An uploaded policy file that cannot be imported: shown at the upload field (400)."""

    def __init__(self, error: PolicyFileError):
        super().__init__(error.text, 400)


class _PolicyPage(Handler):
    """Show and save a policy form; a stale version gets 409 and nothing is stored.

    Subclasses load `school` (None for the municipal default), `municipality` and `can_edit`.
    """

    methods = ["GET", "POST"]
    school: School | None
    municipality: Municipality
    can_edit: bool

    def check(self) -> None:
        # Those who may only read see the page, but their save is refused.
        if request.method == "POST" and not self.can_edit:
            abort(403)

    def make_form(self) -> PolicyForm:
        # The stored weeks stay on offer, past ones too, so a save keeps what it was shown.
        stored = _current_settings(self.school, self.municipality).get("blackout_weeks", [])
        return PolicyForm(override=self.school is not None, kept_weeks=stored)

    def current_version(self) -> int:
        return _policy_version(self.school, self.municipality)

    def show(self, form: PolicyForm, status: int = 200, conflict: str | None = None):
        if request.method == "GET":
            form.fill(_current_settings(self.school, self.municipality))
        return _policy_page(
            self.school,
            self.municipality,
            form=form,
            import_form=PolicyImportForm(),
            can_edit=self.can_edit,
            status=status,
            conflict=conflict,
        )

    def invalid(self, form: PolicyForm):
        return self.show(form, 422)

    def refused(self, error: DomainError, form: PolicyForm):
        if isinstance(error, Stale):
            return self.show(form, error.status, conflict=error.message)
        if isinstance(error, _SettingsRefused):
            field = getattr(form, error.field, None)
            (field.errors if field is not None else form.form_errors).append(error.message)
            return self.show(form, error.status)
        return super().refused(error, form)

    def act(self, form: PolicyForm) -> None:
        try:
            update_policy(
                self.school,
                form.settings(),
                actor=current_user,
                municipality_id=self.municipality.id,
            )
        except PolicyError as exc:
            raise _SettingsRefused(exc) from exc

    def done(self, result: None):
        flash(_("Retningslinjene er lagret."), "success")
        return redirect(request.path)


class _PolicyImport(Handler):
    """Replace a policy with an uploaded file, or show why it was refused (400).

    Subclasses load `school` (None for the municipal default) and `municipality`, and say
    where to go back to.
    """

    form_class = PolicyImportForm
    school: School | None
    municipality: Municipality

    def back(self) -> str:
        raise NotImplementedError

    def invalid(self, form: PolicyImportForm):
        return _policy_page(
            self.school,
            self.municipality,
            form=_policy_form(self.school, self.municipality),
            import_form=form,
            can_edit=True,
            status=400,
        )

    def refused(self, error: DomainError, form: PolicyImportForm):
        if isinstance(error, _FileRefused):
            form.policy_file.errors = [error.message]
            return self.invalid(form)
        return super().refused(error, form)

    def act(self, form: PolicyImportForm) -> None:
        upload = form.policy_file.data
        data = upload.stream.read(MAX_FILE_BYTES + 1)
        try:
            import_policy(
                self.school,
                data,
                upload.filename,
                actor=current_user,
                municipality_id=self.municipality.id,
            )
        except PolicyFileError as exc:
            raise _FileRefused(exc) from exc

    def done(self, result: None):
        flash(_("Retningslinjene er importert fra filen."), "success")
        return redirect(self.back())


def _download(school: School | None, municipality: Municipality, fmt: str):
    settings = _current_settings(school, municipality)
    if school is not None:
        title = f"{school.name} ({municipality.name})"
        name = f"retningslinjer-{school.slug}.{fmt}"
    else:
        title = f"{municipality.name}, standard for alle skoler"
        name = f"retningslinjer-{municipality.slug}.{fmt}"
    body = export_policy(settings, fmt, title=title)
    return (
        body,
        200,
        {
            "Content-Type": f"{FORMAT_TYPES[fmt]}; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}"',
        },
    )


# --- a school's policy -----------------------------------------------------------------------


@route(bp, "/schools/<slug>/policy", "edit_policy")
class EditSchoolPolicy(_PolicyPage):
    """A school's channel policy: its admins and the municipal admin edit, its staff read."""

    def load(self, slug: str) -> None:
        self.school = loading.school(slug, can_view_school_policy)
        self.municipality = self.school.municipality
        self.can_edit = can_edit_school_policy(current_user, self.school)


@bp.route("/schools/<slug>/policy.toml")
@login_required
def export_school_toml(slug: str):
    """Download the school's override (only the settings it changed) as TOML."""
    school = loading.school(slug, can_view_school_policy)
    return _download(school, school.municipality, "toml")


@bp.route("/schools/<slug>/policy.json")
@login_required
def export_school_json(slug: str):
    """Download the school's override (only the settings it changed) as JSON."""
    school = loading.school(slug, can_view_school_policy)
    return _download(school, school.municipality, "json")


@route(bp, "/schools/<slug>/policy/import", "import_school_policy")
class ImportSchoolPolicy(_PolicyImport):
    """Replace the school's override with an uploaded file."""

    def load(self, slug: str) -> None:
        self.school = loading.school(slug, can_view_school_policy)
        self.municipality = self.school.municipality

    def check(self) -> None:
        if not can_edit_school_policy(current_user, self.school):
            abort(403)

    def back(self) -> str:
        return url_for("schools.edit_policy", slug=self.school.slug)


# --- the municipal default -------------------------------------------------------------------


@route(bp, "/admin/policy", "edit_default_policy")
class EditDefaultPolicy(_PolicyPage):
    """The municipal admin edits the default policy of their municipality."""

    school = None
    can_edit = True

    def load(self) -> None:
        self.municipality = _admin_municipality()


@bp.route("/admin/policy.toml")
@login_required
def export_default_toml():
    """Download the municipal default (every setting) as TOML."""
    return _download(None, _admin_municipality(), "toml")


@bp.route("/admin/policy.json")
@login_required
def export_default_json():
    """Download the municipal default (every setting) as JSON."""
    return _download(None, _admin_municipality(), "json")


@route(bp, "/admin/policy/import", "import_default_policy")
class ImportDefaultPolicy(_PolicyImport):
    """Replace the municipal default with an uploaded file."""

    school = None

    def load(self) -> None:
        self.municipality = _admin_municipality()

    def back(self) -> str:
        return url_for("schools.edit_default_policy")


@bp.route("/admin/schools")
@login_required
def list_schools():
    """The municipal admin's schools, each with its policy page."""
    municipality = _admin_municipality()
    # Deactivated schools too, marked as such, after the active ones: their history stays.
    schools = db.session.scalars(
        select(School)
        .where(School.municipality_id == municipality.id)
        .order_by(School.active.desc(), School.name)
    ).all()
    overridden = {
        school.id for school in schools if stored_policy(school, municipality.id) is not None
    }
    return render_template(
        "schools/list.html",
        municipality=municipality,
        schools=schools,
        overridden=overridden,
        is_admin=is_admin_of_municipality(current_user, municipality.id),
        confirm_form=ConfirmForm(formdata=None),
    )


# --- the municipal admin's school register -----------------------------------------------------


def _school_form_page(
    form: SchoolForm,
    school: School | None,
    municipality: Municipality,
    status: int,
    conflict: str | None = None,
):
    return render_template(
        "schools/edit.html",
        form=form,
        school=school,
        municipality=municipality,
        grades=form.shown_grades(),
        conflict=conflict,
    ), status


@route(bp, "/admin/schools/new", "new_school")
class NewSchool(Handler):
    """The municipal admin adds a school to their municipality."""

    methods = ["GET", "POST"]

    def load(self) -> None:
        self.municipality = _admin_municipality()

    def check(self) -> None:
        if not can_create_school(current_user, self.municipality.id):
            abort(403)

    def make_form(self) -> SchoolForm:
        return SchoolForm(municipality_id=self.municipality.id)

    def current_version(self) -> None:
        return None  # a new school: nothing to be stale against

    def show(self, form: SchoolForm, status: int = 200):
        if request.method == "GET":
            form.grade_min.data, form.grade_max.data = 1, 7
            form.accepts_backpack_post.data = True
        return _school_form_page(form, None, self.municipality, status)

    def invalid(self, form: SchoolForm):
        return self.show(form, 422)

    def act(self, form: SchoolForm) -> School:
        return create_school(self.municipality, form.school_data(), actor=current_user)

    def done(self, school: School):
        flash(_("%(name)s er lagt til.", name=school.name), "success")
        return redirect(url_for("schools.list_schools"))


@route(bp, "/admin/schools/<slug>/edit", "edit_school")
class EditSchool(Handler):
    """The municipal admin edits a school, refusing to overwrite someone else's newer save.

    A school has no version column: its version is a fingerprint of what the form edits.
    """

    methods = ["GET", "POST"]

    def load(self, slug: str) -> None:
        self.school = loading.school(slug, can_edit_school, selectinload(School.grade_counts))

    def make_form(self) -> SchoolForm:
        school = self.school
        stored = None if request.method == "POST" else school
        return SchoolForm(obj=stored, school=school, municipality_id=school.municipality_id)

    def current_version(self) -> str:
        return school_fingerprint(self.school)

    def show(self, form: SchoolForm, status: int = 200, conflict: str | None = None):
        if request.method == "GET":
            form.fill_counts({c.grade: (c.classes, c.pupils) for c in self.school.grade_counts})
        return _school_form_page(form, self.school, self.school.municipality, status, conflict)

    def invalid(self, form: SchoolForm):
        return self.show(form, 422)

    def refused(self, error: DomainError, form: SchoolForm):
        # The page again, with what was typed (to copy) and a link to the newest version.
        if isinstance(error, Stale):
            return self.show(form, error.status, conflict=error.message)
        return super().refused(error, form)

    def act(self, form: SchoolForm) -> bool:
        return update_school(self.school, form.school_data(), actor=current_user)

    def done(self, changed: bool):
        if changed:
            flash(_("Endringene er lagret."), "success")
        else:
            flash(_("Ingenting er endret."), "info")
        return redirect(url_for("schools.list_schools"))


class _SetActive(Handler):
    """Deactivate or reactivate a school (a button on the school list)."""

    form_class = ConfirmForm
    active: ClassVar[bool]

    def load(self, slug: str) -> None:
        self.school = loading.school(slug, can_edit_school)

    def invalid(self, form: ConfirmForm):
        abort_with(400, str(INVALID_MESSAGE))

    def act(self, form: ConfirmForm) -> bool:
        return set_school_active(self.school, self.active, actor=current_user)

    def done(self, changed: bool):
        name = self.school.name
        if not changed:
            message = (
                _("%(name)s er allerede aktiv.")
                if self.active
                else _("%(name)s er allerede deaktivert.")
            )
            flash(message % {"name": name}, "info")
        elif self.active:
            flash(_("%(name)s er aktiv igjen og kan få forespørsler.", name=name), "success")
        else:
            flash(
                _(
                    "%(name)s er deaktivert. Skolen får ingen nye forespørsler og vises ikke "
                    "lenger i søket eller API-et; det som er sendt og eksportert, er tatt vare på.",
                    name=name,
                ),
                "success",
            )
        return redirect(url_for("schools.list_schools"))


@route(bp, "/admin/schools/<slug>/deactivate", "deactivate_school")
class DeactivateSchool(_SetActive):
    """Take a school out of routing, search and the API; it is never deleted."""

    active = False


@route(bp, "/admin/schools/<slug>/reactivate", "reactivate_school")
class ReactivateSchool(_SetActive):
    """Bring a deactivated school back."""

    active = True
