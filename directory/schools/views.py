"""Channel policies: a school's override, the municipal default, their files, the school list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from directory.extensions import db
from directory.organisations.forms import ConfirmForm
from directory.permissions import (
    can_create_school,
    can_edit_default_policy,
    can_edit_school,
    can_edit_school_policy,
    can_view_school_policy,
    is_admin_of_municipality,
    school_role,
)
from directory.policy.channel_policy import (
    FIXED,
    PolicyError,
    effective_policy,
    policy_to_dict,
)
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

bp = Blueprint("schools", __name__)

FORMAT_TYPES = {"toml": "application/toml", "json": "application/json"}


def load_school(slug: str, allowed: Callable[[Any, School], bool], *options) -> School:
    """The school at `slug` for a page that `allowed(user, school)` guards.

    404 when unknown, and to an admin of another municipality (who must not learn which schools
    exist elsewhere); 403 for anyone else the check refuses. `options` are loader options.
    """
    school = db.session.scalar(select(School).where(School.slug == slug).options(*options))
    if school is None:
        abort(404)
    if current_user.admin_municipality_id not in (None, school.municipality_id) and not (
        school_role(current_user, school)
    ):
        abort(404)
    if not allowed(current_user, school):
        abort(403)
    return school


def _load_school(slug: str) -> School:
    """The school whose channel policy the page shows."""
    return load_school(slug, can_view_school_policy)


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
        "row": row,
        "fixed_rules": _fixed_rules(),
        "max_kb": MAX_FILE_BYTES // 1024,
    }


def _current_settings(school: School | None, municipality: Municipality) -> dict[str, Any]:
    row = stored_policy(school, municipality.id)
    if row is not None:
        return dict(row.settings)
    return {} if school is not None else default_settings_for(municipality.id)


def _policy_page(school: School | None, municipality: Municipality, can_edit: bool):
    """Show and save the policy form; stale versions get 409 and nothing is stored."""
    submitted = request.method == "POST"
    if submitted and not can_edit:
        abort(403)
    form = PolicyForm(override=school is not None)
    row = stored_policy(school, municipality.id)
    current_version = str(row.version) if row is not None else "0"
    if not submitted:
        form.fill(_current_settings(school, municipality))
        form.version.data = current_version
    template = "schools/policy.html"
    context = _context(school, municipality)
    page = {"form": form, "import_form": PolicyImportForm(), "can_edit": can_edit, **context}
    if submitted and form.version.data != current_version:
        page["conflict"] = _(
            "Noen andre har endret retningslinjene mens du redigerte, så endringene dine er ikke "
            "lagret. Last inn siden på nytt for å se den nyeste versjonen."
        )
        return render_template(template, **page), 409
    if form.validate_on_submit():
        try:
            update_policy(
                school, form.settings(), actor=current_user, municipality_id=municipality.id
            )
        except PolicyError as exc:
            db.session.rollback()
            field = getattr(form, exc.field, None)
            message = _(exc.template) % exc.params if exc.params else _(exc.template)
            (field.errors if field is not None else form.form_errors).append(message)
        else:
            db.session.commit()
            flash(_("Retningslinjene er lagret."), "success")
            return redirect(request.path)
    return render_template(template, **page), 422 if submitted else 200


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


def _import(school: School | None, municipality: Municipality, back: str):
    """Replace the policy with an uploaded file, or show why it was refused (400)."""
    form = PolicyImportForm()
    error = None
    if form.validate_on_submit():
        upload = form.policy_file.data
        data = upload.stream.read(MAX_FILE_BYTES + 1)
        try:
            import_policy(
                school, data, upload.filename, actor=current_user, municipality_id=municipality.id
            )
        except PolicyFileError as exc:
            db.session.rollback()
            error = exc.text
        else:
            db.session.commit()
            flash(_("Retningslinjene er importert fra filen."), "success")
            return redirect(back)
    if error:
        form.policy_file.errors = [error]
    policy_form = PolicyForm(override=school is not None)
    policy_form.fill(_current_settings(school, municipality))
    row = stored_policy(school, municipality.id)
    policy_form.version.data = str(row.version) if row is not None else "0"
    page = {
        "form": policy_form,
        "import_form": form,
        "can_edit": True,
        **_context(school, municipality),
    }
    return render_template("schools/policy.html", **page), 400


@bp.route("/schools/<slug>/policy", methods=["GET", "POST"])
@login_required
def edit_policy(slug: str):
    """A school's channel policy: its admins and the municipal admin edit, its staff read."""
    school = _load_school(slug)
    return _policy_page(school, school.municipality, can_edit_school_policy(current_user, school))


@bp.route("/schools/<slug>/policy.toml")
@login_required
def export_school_toml(slug: str):
    """Download the school's override (only the settings it changed) as TOML."""
    school = _load_school(slug)
    return _download(school, school.municipality, "toml")


@bp.route("/schools/<slug>/policy.json")
@login_required
def export_school_json(slug: str):
    """Download the school's override (only the settings it changed) as JSON."""
    school = _load_school(slug)
    return _download(school, school.municipality, "json")


@bp.route("/schools/<slug>/policy/import", methods=["POST"])
@login_required
def import_school_policy(slug: str):
    """Replace the school's override with an uploaded file."""
    school = _load_school(slug)
    if not can_edit_school_policy(current_user, school):
        abort(403)
    return _import(school, school.municipality, url_for("schools.edit_policy", slug=slug))


@bp.route("/admin/policy", methods=["GET", "POST"])
@login_required
def edit_default_policy():
    """The municipal admin edits the default policy of their municipality."""
    municipality = _admin_municipality()
    return _policy_page(None, municipality, True)


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


@bp.route("/admin/policy/import", methods=["POST"])
@login_required
def import_default_policy():
    """Replace the municipal default with an uploaded file."""
    municipality = _admin_municipality()
    return _import(None, municipality, url_for("schools.edit_default_policy"))


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


def _school_form_page(form: SchoolForm, school: School | None, status: int, conflict=None):
    return render_template(
        "schools/edit.html",
        form=form,
        school=school,
        municipality=school.municipality if school is not None else _admin_municipality(),
        grades=form.shown_grades(),
        conflict=conflict,
    ), status


@bp.route("/admin/schools/new", methods=["GET", "POST"])
@login_required
def new_school():
    """The municipal admin adds a school to their municipality."""
    municipality = _admin_municipality()
    if not can_create_school(current_user, municipality.id):
        abort(403)
    form = SchoolForm(municipality_id=municipality.id)
    if request.method == "GET":
        form.grade_min.data, form.grade_max.data = 1, 7
        form.accepts_backpack_post.data = True
    if form.validate_on_submit():
        school = create_school(municipality, form.school_data(), actor=current_user)
        db.session.commit()
        flash(_("%(name)s er lagt til.", name=school.name), "success")
        return redirect(url_for("schools.list_schools"))
    return _school_form_page(form, None, 422 if form.is_submitted() else 200)


@bp.route("/admin/schools/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit_school(slug: str):
    """The municipal admin edits a school, refusing to overwrite someone else's newer save."""
    school = load_school(slug, can_edit_school, selectinload(School.grade_counts))
    submitted = request.method == "POST"
    form = SchoolForm(
        obj=None if submitted else school, school=school, municipality_id=school.municipality_id
    )
    current = school_fingerprint(school)
    if not submitted:
        form.version.data = current
        form.fill_counts({c.grade: (c.classes, c.pupils) for c in school.grade_counts})
    elif form.version.data != current:
        message = _(
            "Noen andre har endret skolen mens du redigerte, så endringene dine er ikke lagret. "
            "Last inn siden på nytt for å se den nyeste versjonen."
        )
        return _school_form_page(form, school, 409, conflict=message)
    if form.validate_on_submit():
        if update_school(school, form.school_data(), actor=current_user):
            db.session.commit()
            flash(_("Endringene er lagret."), "success")
        else:
            flash(_("Ingenting er endret."), "info")
        return redirect(url_for("schools.list_schools"))
    return _school_form_page(form, school, 422 if submitted else 200)


def _set_active(slug: str, active: bool):
    school = load_school(slug, can_edit_school)
    if not ConfirmForm().validate_on_submit():
        abort_with(400, _("Skjemaet var ugyldig. Last inn siden på nytt og prøv igjen."))
    changed = set_school_active(school, active, actor=current_user)
    db.session.commit()
    if not changed:
        message = (
            _("%(name)s er allerede aktiv.") if active else _("%(name)s er allerede deaktivert.")
        )
        flash(message % {"name": school.name}, "info")
    elif active:
        flash(_("%(name)s er aktiv igjen og kan få forespørsler.", name=school.name), "success")
    else:
        flash(
            _(
                "%(name)s er deaktivert. Skolen får ingen nye forespørsler og vises ikke lenger "
                "i søket eller API-et; det som er sendt og eksportert, er tatt vare på.",
                name=school.name,
            ),
            "success",
        )
    return redirect(url_for("schools.list_schools"))


@bp.route("/admin/schools/<slug>/deactivate", methods=["POST"])
@login_required
def deactivate_school(slug: str):
    """Take a school out of routing, search and the API; it is never deleted."""
    return _set_active(slug, False)


@bp.route("/admin/schools/<slug>/reactivate", methods=["POST"])
@login_required
def reactivate_school(slug: str):
    """Bring a deactivated school back."""
    return _set_active(slug, True)
