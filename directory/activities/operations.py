"""Activity operations: create, update, change status, copy. They flush and audit; never commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select

from directory.activities.listings import oslo_today
from directory.activities.models import Activity, ActivityTranslation, Schedule
from directory.activities.schedule import next_start, shift_schedule
from directory.activities.uploads import delete_stored
from directory.approvals.operations import cancel_requests, reopen_requests
from directory.audit.operations import record
from directory.errors import DomainError
from directory.extensions import db
from directory.i18n import gettext as _
from directory.organisations.models import Organisation
from directory.policy.activity_states import ACTIONS, PUBLIC_STATES, check_transition
from directory.policy.listing_dates import default_confirmed_until
from directory.timeutil import utcnow

# Columns that are the activity's content; a copy takes these and nothing else.
CONTENT_COLUMNS = (
    "organisation_id", "category_id", "title", "summary", "description", "tags", "age_min",
    "age_max", "price_nok", "price_note", "venue_id", "venue", "address", "latitude",
    "longitude", "accessibility", "accessible", "languages", "registration_url", "capacity", "image_filename",
    "image_alt", "flyer_filename", "facebook_post_url", "fritidskort", "trial_session",
    "equipment_provided",
)  # fmt: skip
SCHEDULE_COLUMNS = ("dtstart", "duration_minutes", "rrule", "rdates", "exdates")
WEEKS_TO_NEXT_SEASON = 52


class ActivityActionError(DomainError):
    """An action the activity's state does not allow; the message (bokmål) is for the user."""


@dataclass
class ActivityData:
    """What the organiser's form sets: Activity columns and, when changed, the first schedule."""

    fields: dict[str, Any]
    schedule: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _schedule_snapshot(activity: Activity) -> list[dict[str, Any]]:
    return [
        {name: _jsonable(getattr(s, name)) for name in SCHEDULE_COLUMNS} for s in activity.schedules
    ]


def _municipality_id(activity: Activity) -> int:
    return activity.organisation.municipality_id


def _school_business_allowed(fields: dict[str, Any], organisation: Organisation) -> dict[str, Any]:
    """The fields with `school_business` forced off unless the organiser is a school."""
    if "school_business" in fields and organisation.kind != "school":
        return {**fields, "school_business": False}
    return fields


def create_activity(organisation: Organisation, data: ActivityData, *, actor) -> Activity:
    """Add a draft activity for the organisation with one schedule."""
    fields = _school_business_allowed(data.fields, organisation)
    activity = Activity(organisation=organisation, status="draft", **fields)
    if data.schedule is not None:
        activity.schedules.append(Schedule(**data.schedule))
    db.session.add(activity)
    db.session.flush()
    record(
        "activity.create",
        activity,
        actor=actor,
        municipality_id=organisation.municipality_id,
        data={"title": activity.title, "organisation_id": organisation.id},
    )
    return activity


def update_activity(activity: Activity, data: ActivityData, *, actor) -> dict[str, list]:
    """Apply the form's values; the first schedule changes only when given. Returns the changes."""
    changes: dict[str, list] = {}
    for name, value in _school_business_allowed(data.fields, activity.organisation).items():
        before = getattr(activity, name)
        if before != value:
            changes[name] = [_jsonable(before), _jsonable(value)]
            setattr(activity, name, value)
    if data.schedule is not None:
        before = _schedule_snapshot(activity)
        if activity.schedules:
            for name, value in data.schedule.items():
                setattr(activity.schedules[0], name, value)
        else:
            activity.schedules.append(Schedule(**data.schedule))
        after = _schedule_snapshot(activity)
        if before != after:
            changes["schedule"] = [before, after]
    if not changes:
        return changes  # nothing to write, nothing to record
    # Touching the row even when only the schedule changed moves the version on, so a
    # concurrent editor's stale form is refused.
    activity.updated_at = utcnow()
    db.session.flush()
    record(
        "activity.update",
        activity,
        actor=actor,
        municipality_id=_municipality_id(activity),
        data={"changes": changes},
    )
    reopen_requests(activity, changes, actor=actor)
    return changes


def change_activity_status(activity: Activity, data: dict[str, Any], *, actor) -> str:
    """Carry out a status action ('publish', 'unpublish', 'cancel', 'archive').

    data may hold a 'note' shown with a cancellation. Raises ActivityActionError when the
    current status does not allow the action, or publishing an activity with no future date.
    """
    action = data["action"]
    target = ACTIONS[action]
    current = activity.status
    if not check_transition(current, target).allowed:
        raise ActivityActionError(
            _(
                "Dette går ikke: en aktivitet med status «%(current)s» kan ikke %(action)s.",
                current=status_label(current),
                action=action_phrase(action),
            )
        )
    if target == "published" and next_start(activity.schedules) is None:
        raise ActivityActionError(
            _(
                "Aktiviteten har ingen datoer fram i tid og kan derfor ikke publiseres. "
                "Endre tidsplanen først."
            )
        )
    activity.status = target
    if target == "published":
        activity.published_at = utcnow()
        activity.confirmed_until = default_confirmed_until(oslo_today())
    if target == "cancelled":
        activity.cancellation_note = data.get("note") or ""
    elif target in ("published", "draft"):
        activity.cancellation_note = ""
    activity.updated_at = utcnow()
    db.session.flush()
    record(
        f"activity.{action}",
        activity,
        actor=actor,
        municipality_id=_municipality_id(activity),
        data={"from": current, "to": target, "note": activity.cancellation_note},
    )
    if target == "cancelled":
        # What schools approved or exported goes back to them with the reason.
        cancel_requests(activity, activity.cancellation_note, actor=actor)
    if target != "published":
        # Schools must not pass on an offer that is no longer public as it was approved.
        reopen_requests(activity, ["status"], actor=actor)
    return target


def confirm_listing(activity: Activity, data: dict[str, Any] | None = None, *, actor) -> date:
    """Confirm that a public activity is still current: `confirmed_until` moves to the default
    date from today (directory.policy.listing_dates). `data` may say `via` ('button', 'link').

    Raises ActivityActionError (409) for an activity that is not public (a draft or archived
    one is confirmed by publishing it).
    """
    if activity.status not in PUBLIC_STATES:
        raise ActivityActionError(
            _("Bare publiserte aktiviteter kan bekreftes som fortsatt aktuelle."), 409
        )
    before = activity.confirmed_until
    activity.confirmed_until = default_confirmed_until(oslo_today())
    activity.updated_at = utcnow()
    db.session.flush()
    record(
        "activity.confirm",
        activity,
        actor=actor,
        municipality_id=_municipality_id(activity),
        data={
            "from": before.isoformat() if before else None,
            "to": activity.confirmed_until.isoformat(),
            "via": (data or {}).get("via", "button"),
        },
    )
    return activity.confirmed_until


def copy_activity(activity: Activity, data: dict[str, Any] | None = None, *, actor) -> Activity:
    """A new draft of the activity for next season, every date moved by whole weeks.

    52 weeks keeps each date on the same weekday, about a year later. Image and flyer files
    are shared with the original, not duplicated.
    """
    weeks = (data or {}).get("weeks", WEEKS_TO_NEXT_SEASON)
    copy = Activity(
        **{name: getattr(activity, name) for name in CONTENT_COLUMNS},
        status="draft",
        copied_from_id=activity.id,
    )
    try:
        for schedule in activity.schedules:
            moved = shift_schedule(schedule, weeks)
            copy.schedules.append(
                Schedule(
                    dtstart=moved.dtstart,
                    duration_minutes=schedule.duration_minutes,
                    rrule=moved.rrule,
                    rdates=moved.rdates,
                    exdates=moved.exdates,
                )
            )
    except (OverflowError, ValueError) as exc:
        raise ActivityActionError(
            _("Tidsplanen kan ikke flyttes et år fram. Rett tidsplanen og prøv igjen."), 400
        ) from exc
    for translation in activity.translations:
        copy.translations.append(
            ActivityTranslation(
                language=translation.language,
                **{name: getattr(translation, name) for name in TRANSLATION_FIELDS},
            )
        )
    db.session.add(copy)
    db.session.flush()
    record(
        "activity.copy",
        copy,
        actor=actor,
        municipality_id=_municipality_id(activity),
        data={"copied_from_id": activity.id, "weeks": weeks},
    )
    return copy


def discard_unused_files(names: list[str | None]) -> None:
    """Delete stored uploads that no activity refers to any more (copies share files).

    Called after the commit, so a failed request never loses a file still in use.
    """
    for name in {n for n in names if n}:
        in_use = db.session.scalar(
            select(Activity.id)
            .where(or_(Activity.image_filename == name, Activity.flyer_filename == name))
            .limit(1)
        )
        if in_use is None:
            delete_stored(name)


def status_label(status: str) -> str:
    """The status in bokmål."""
    return {
        "draft": _("utkast"),
        "published": _("publisert"),
        "cancelled": _("avlyst"),
        "archived": _("arkivert"),
    }.get(status, status)


def action_phrase(action: str) -> str:
    """The action as the end of a sentence: '... kan ikke publiseres'."""
    return {
        "publish": _("publiseres"),
        "unpublish": _("gjøres om til utkast"),
        "cancel": _("avlyses"),
        "archive": _("arkiveres"),
    }.get(action, action)


# --- the offer in other languages (issue 14) ---------------------------------------------------

TRANSLATION_FIELDS = ("title", "summary", "description")


def translate_activity(activity: Activity, language: str, data: dict[str, Any], *, actor) -> bool:
    """Add or replace the activity's text in `language` (a content language code). Returns
    whether anything changed. The activity's row is touched so its version moves on: the
    search index re-reads it, and a form showing the old text is refused as stale."""
    translation = next((t for t in activity.translations if t.language == language), None)
    values = {name: (data.get(name) or "").strip() for name in TRANSLATION_FIELDS}
    if translation is None:
        translation = ActivityTranslation(language=language, **values)
        activity.translations.append(translation)
        changes = {name: [None, value] for name, value in values.items() if value}
    else:
        changes = {}
        for name, value in values.items():
            if getattr(translation, name) != value:
                changes[name] = [getattr(translation, name), value]
                setattr(translation, name, value)
        if not changes:
            return False
    activity.updated_at = utcnow()
    db.session.flush()
    record(
        "activity.translate",
        activity,
        actor=actor,
        municipality_id=_municipality_id(activity),
        data={"language": language, "changes": changes},
    )
    return True


def untranslate_activity(activity: Activity, language: str, *, actor) -> None:
    """Remove the activity's text in `language`; raises ActivityActionError when there is none."""
    translation = next((t for t in activity.translations if t.language == language), None)
    if translation is None:
        raise ActivityActionError(_("Aktiviteten har ingen tekst på dette språket."), 404)
    activity.translations.remove(translation)
    activity.updated_at = utcnow()
    db.session.flush()
    record(
        "activity.untranslate",
        activity,
        actor=actor,
        municipality_id=_municipality_id(activity),
        data={"language": language, "title": translation.title},
    )
