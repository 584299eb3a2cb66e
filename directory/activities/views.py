"""Activities: the public pages, the organiser's management, and uploaded media."""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from datetime import time as clock_time
from typing import ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit

from babel.dates import get_day_names
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    send_from_directory,
    url_for,
)
from flask_babel import format_date, format_datetime, format_decimal, format_time, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from directory import data_version, loading
from directory.activities import clashes
from directory.activities.cards import page_cards, result_card
from directory.activities.content_languages import (
    CONTENT_LANGUAGES,
    ContentLanguage,
    content_language,
    content_text,
    in_language_order,
)
from directory.activities.display import (
    describe_schedule,
    event_json_ld,
    fritidskort_hint,
    this_week,
)
from directory.activities.forms import (
    ActivityForm,
    ConfirmListingForm,
    StatusForm,
    TranslationForm,
    activity_form_data,
)
from directory.activities.forms import schedule_form_data as _schedule_form_data
from directory.activities.languages import language_names
from directory.activities.listings import LinkRefused, oslo_today, resolve_confirmation_link
from directory.activities.models import Activity, ActivityTranslation, Category
from directory.activities.operations import (
    ActivityData,
    change_activity_status,
    confirm_listing,
    copy_activity,
    create_activity,
    discard_unused_files,
    translate_activity,
    untranslate_activity,
    update_activity,
)
from directory.activities.schedule import next_occurrences, next_start, summarise_rule
from directory.activities.search_form import Choice
from directory.activities.uploads import (
    STORED_NAME,
    card_image_names,
    card_name,
    ensure_card_rendition,
    store,
)
from directory.extensions import db, limiter
from directory.feeds.links import activity_calendar_links, feed_urls
from directory.forms import Form
from directory.i18n import current_language, ngettext
from directory.i18n import gettext as _
from directory.icons import rendered_apart, use_icons
from directory.organisations.models import Organisation
from directory.permissions import (
    activity_refusal_status,
    can_edit_activity,
    can_edit_organisation,
    can_view_activity,
    can_view_organisation,
)
from directory.pipeline import Handler, VersionedForm, route, run_in_transaction
from directory.policy.activity_states import allowed_actions
from directory.policy.listing_dates import default_confirmed_until
from directory.search.base import MULTI_SELECT_FACETS
from directory.search.query import (
    QueryError,
    SearchQuery,
    clean_search_args,
    default_sort,
    parse_search_args,
    query_to_args,
)
from directory.search.service import UnknownFilterValue, count_matches, search_activities
from directory.shelf import Shelf
from directory.storage import upload_storage
from directory.timeutil import OSLO, utcnow
from directory.urls import kept_url_for
from directory.venues.operations import known_venues, placement, venue_for
from directory.web import abort_with

bp = Blueprint("activities", __name__)


# --- helpers ---------------------------------------------------------------------------------


def _locale() -> str:
    locale = get_locale()
    return locale.language if locale else "nb"


def _categories(*, keep_id: int | None = None) -> list[Category]:
    """The categories on offer: hidden ones left out, except `keep_id` (the one an activity
    already has, which it keeps)."""
    offered = Category.hidden.is_(False)
    if keep_id is not None:
        offered = offered | (Category.id == keep_id)
    return list(db.session.scalars(select(Category).where(offered).order_by(Category.name_nb)))


def _activity_form(activity: Activity | None, organisation: Organisation) -> ActivityForm:
    """The activity form: filled from the stored activity on GET, from the request on POST.

    The venue is offered from the places the organisation added or used and the municipality's
    other public venues; an activity's own venue is chosen in the list (the fields for a new
    place left empty).
    """
    initial_schedule = None
    if activity is not None and activity.schedules:
        initial_schedule = _schedule_form_data(activity.schedules[0])
    venues = known_venues(organisation, current=activity)
    data = None
    if request.method == "GET":
        data = activity_form_data(activity) if activity is not None else None
        if data is not None and activity.venue_id is not None:
            data.update(venue_choice=str(activity.venue_id))
    return ActivityForm(
        data=data,
        categories=_categories(keep_id=activity.category_id if activity is not None else None),
        locale=_locale(),
        stored_image=bool(activity and activity.image_filename),
        initial_schedule=initial_schedule,
        venues=venues,
    )


def _placement(form: ActivityForm, organisation: Organisation) -> dict:
    """The venue columns: the venue chosen from the list, else the new place typed in (found
    again by its name and address, or added for the organisation), else none."""
    venue = form.chosen_venue() or venue_for(
        organisation, form.new_venue_values(), actor=current_user
    )
    return placement(venue)


def _file_changes(
    form: ActivityForm, activity: Activity | None, stored: list[str]
) -> tuple[dict, list[str | None]]:
    """Store newly uploaded files (adding their names to `stored`); the file columns to set and
    the names that may be unused now."""
    values: dict = {}
    replaced: list[str | None] = []
    old_image = activity.image_filename if activity else None
    old_flyer = activity.flyer_filename if activity else None
    if form.prepared_image is not None:
        values["image_filename"] = store(form.prepared_image)
        stored.append(values["image_filename"])
        replaced.append(old_image)
    elif form.remove_image.data and old_image:
        values["image_filename"] = None
        values["image_alt"] = ""
        replaced.append(old_image)
    if form.prepared_flyer is not None:
        values["flyer_filename"] = store(form.prepared_flyer)
        stored.append(values["flyer_filename"])
        replaced.append(old_flyer)
    elif form.remove_flyer.data and old_flyer:
        values["flyer_filename"] = None
        replaced.append(old_flyer)
    if activity is None and form.prepared_image is None:
        values["image_alt"] = ""  # alt text without an image means nothing
    return values, replaced


# --- public pages ----------------------------------------------------------------------------


# --- the search page -------------------------------------------------------------------------

AGES = range(0, 20)
GRADES = range(1, 14)
# Parameters naming something in the database: their count of matches is one extra query each.
LOOKUP_PARAMS = ("school", "organisation", "municipality")
# The «Innen» choices (km from the `near` school); any other `within_km` is shown as given.
WITHIN_KM_CHOICES = (1.0, 2.0, 5.0, 10.0)


# A search that found nothing tries itself without each of at most this many filters.
MAX_LOOSENED = 12


@dataclass(frozen=True)
class Chip:
    """An active filter, with a link that removes just that one and the search it leads to."""

    label: str
    url: str
    counts_as_filter: bool = True  # the search text is shown, but is not one of the filters
    phrase: str = ""  # the filter within a sentence or the summary bar ("tirsdag")
    # The link's parameters, for loosening (None: this filter is not loosened on its own).
    loosening_args: dict[str, object] | None = None

    @property
    def loosened(self) -> SearchQuery | None:
        """The same search without this filter, parsed from the link's parameters (so that its
        count is the link's); only a search that found nothing asks."""
        if self.loosening_args is None:
            return None
        return parse_search_args(_as_multidict(self.loosening_args))


@dataclass(frozen=True)
class Loosening:
    """A search that found nothing, without one of its filters: how many that brings back."""

    phrase: str
    url: str
    total: int


def time_of_day_labels() -> dict[str, str]:
    """The names of the times of day, in the interface language."""
    return {"after_school": _("Etter skoletid"), "evening": _("Kveld"), "weekend": _("Helg")}


def time_of_day_phrases() -> dict[str, str]:
    """The times of day as written within a sentence ("9 år · tirsdag · etter skoletid")."""
    return {"after_school": _("etter skoletid"), "evening": _("kveld"), "weekend": _("helg")}


def weekday_names() -> dict[int, str]:
    """ISO weekday -> its name in the interface language (Mandag, Måndag, Monday)."""
    names = get_day_names("wide", locale=get_locale())
    return {day: names[day - 1].capitalize() for day in range(1, 8)}


def grade_label(grade: int) -> str:
    """'5. trinn'; the three upper-secondary years as 'Vg1'–'Vg3'."""
    if grade > 10:
        return _("Vg%(n)d", n=grade - 10)
    return _("%(n)d. trinn", n=grade)


@dataclass(frozen=True)
class FilterLabels:
    """The search form's fixed choices with their names in one interface language."""

    ages: list[tuple[int, str]]
    grades: list[tuple[int, str]]
    weekdays: dict[int, str]
    times: dict[str, str]
    within: dict[float, str]
    marks: dict[str, str]  # the yes-or-no filters: free, accessible, fritidskort, trial, equipment


_FILTER_LABELS: dict[str, FilterLabels] = {}


def filter_labels() -> FilterLabels:
    """The search form's fixed choices in the request's language, named once per process and
    language (some 50 translated names: they change only with the catalogs)."""
    language = str(get_locale())
    labels = _FILTER_LABELS.get(language)
    if labels is None:
        labels = _FILTER_LABELS[language] = FilterLabels(
            ages=[(age, ngettext("%(num)d år", "%(num)d år", age)) for age in AGES],
            grades=[(grade, grade_label(grade)) for grade in GRADES],
            weekdays=weekday_names(),
            times=time_of_day_labels(),
            within={km: km_text(km) for km in WITHIN_KM_CHOICES},
            marks={
                "free": _("Gratis"),
                "accessible": _("Tilrettelagt for barn med funksjonsnedsettelser"),
                "fritidskort": _("Kan betales med fritidskortet"),
                "trial": _("Gratis prøvetime"),
                "equipment": _("Utstyr lånes ut eller trengs ikke"),
            },
        )
    return labels


PARSED_KEPT = "parsed_searches"


def parse_leniently(args: MultiDict) -> tuple[SearchQuery, dict[str, str]]:
    """The query with every bad parameter left out, and each bad parameter's message.

    The page shows all the messages at once, each next to its filter, with the rest of the
    visitor's choices still in the form. Parsing depends on the parameters and the language
    (of the messages) alone: this process keeps the last 1,024 searches' (a query is frozen;
    the caller gets its own copy of the messages).
    """
    key = (current_language(), tuple(args.items(multi=True)))
    parsed = current_app.extensions.get(PARSED_KEPT)
    if parsed is None:
        parsed = current_app.extensions[PARSED_KEPT] = Shelf(1024)
    found = parsed.get(key)
    if found is None:
        found = _parse_leniently(args)
        parsed.put(key, found)
    return found[0], dict(found[1])


def _parse_leniently(args: MultiDict) -> tuple[SearchQuery, dict[str, str]]:
    remaining = MultiDict(args)
    errors: dict[str, str] = {}
    while True:
        try:
            return parse_search_args(remaining), errors
        except QueryError as exc:
            errors.setdefault(exc.param, exc.message)
            if exc.param not in remaining:  # nothing left to drop: give up on the rest
                return SearchQuery(), errors
            remaining.poplist(exc.param)


def _as_multidict(args: dict[str, object]) -> MultiDict:
    """query_to_args() output as the request arguments it stands for."""
    return MultiDict(
        [
            (k, str(v))
            for k, values in args.items()
            for v in (values if isinstance(values, list) else [values])
        ]
    )


def _chips(query: SearchQuery, endpoint: str, names: dict[str, dict]) -> list[Chip]:
    """The active filters, each with the URL of the same search without it (and that search,
    parsed from the same parameters, so that its count is the count of the link)."""
    chips: list[Chip] = []

    def add(label: str, phrase: str, counts_as_filter: bool = True, **changes) -> None:
        args = query_to_args(query, page=None, **changes)
        chips.append(Chip(label, kept_url_for(endpoint, **args), counts_as_filter, phrase, args))

    if query.text:
        add(_("«%(text)s»", text=query.text), query.text, False, q=None)
    if query.age is not None:
        age = ngettext("%(num)d år", "%(num)d år", query.age)
        add(age, age, age=None)
    if query.grade is not None:
        add(grade_label(query.grade), grade_label(query.grade), grade=None)
    for slug in query.categories:
        rest = [c for c in query.categories if c != slug] or None
        name = names["category"].get(slug, slug)
        add(name, name, category=rest)
    days = weekday_names()
    # The day as written within a sentence: "tirsdag" in Norwegian, "Tuesday" in English.
    day_phrases = get_day_names("wide", locale=get_locale())
    for day in query.weekdays:
        rest = [d for d in query.weekdays if d != day] or None
        add(days[day], day_phrases[day - 1], weekday=rest)
    labels, phrases = time_of_day_labels(), time_of_day_phrases()
    for time in query.times:
        rest = [t for t in query.times if t != time] or None
        add(labels[time], phrases[time], time=rest)
    if query.free:
        add(_("Gratis"), _("gratis"), free=None)
    if query.accessible:
        add(_("Tilrettelagt"), _("tilrettelagt"), accessible=None)
    if query.fritidskort:
        add(_("Fritidskortet"), _("kan betales med fritidskortet"), fritidskort=None)
    if query.trial:
        add(_("Gratis prøvetime"), _("med gratis prøvetime"), trial=None)
    if query.equipment:
        add(_("Utstyr lånes ut"), _("utstyr lånes ut eller trengs ikke"), equipment=None)
    for param in LOOKUP_PARAMS:
        slug = getattr(query, param)
        if slug:
            name = names[param].get(slug, slug)
            add(name, name, **{param: None})
    if query.near:
        # Measuring filters nothing; leaving the school goes with its distance limit and order.
        name = names["school"].get(query.near, query.near)
        add(_("Nær %(school)s", school=name), _("nær %(school)s", school=name),
            near=None, within_km=None, sort=_sort_without_near(query))  # fmt: skip
        if query.within_km is not None:
            # Without the school the limit goes too: loosening says so once, at the limit.
            chips[-1] = replace(chips[-1], loosening_args=None)
    if query.within_km is not None:
        km = km_text(query.within_km)
        add(_("Innen %(km)s", km=km), _("innen %(km)s", km=km), within_km=None)
    if query.date_from:
        day = format_date(query.date_from, _("d. MMMM y"))
        add(_("Fra %(date)s", date=day), _("fra %(date)s", date=day), **{"from": None})
    if query.date_to:
        day = format_date(query.date_to, _("d. MMMM y"))
        add(_("Til %(date)s", date=day), _("til %(date)s", date=day), to=None)
    return chips


def _loosenings(chips: list[Chip]) -> list[Loosening]:
    """For a search that found nothing: each filter whose removal brings results back, with
    how many, most first (counts only, through the search service)."""
    candidates = [c for c in chips if c.loosening_args is not None][:MAX_LOOSENED]
    totals = count_matches(c.loosened for c in candidates)  # type: ignore[misc]
    found = [Loosening(c.phrase, c.url, n) for c, n in zip(candidates, totals, strict=True) if n]
    return sorted(found, key=lambda loosening: -loosening.total)


def _sort_without_near(query: SearchQuery) -> str | None:
    """The `sort` parameter of the same search without its `near` school (None: the default)."""
    if query.sort in ("distance", default_sort(query.text, None)):
        return None
    return query.sort


@bp.app_template_filter("km")
def km_text(value: float) -> str:
    """A distance in the interface language's way: "1,2 km" in Norwegian."""
    return _("%(km)s km", km=format_decimal(value, format="#,##0.0"))


def facet_labeller(query: SearchQuery, facets: dict, within: dict):
    """The count shown next to a filter choice, as what choosing it would do.

    A group without a choice: "(3)", the results ticking it leaves. A multi-select group with a
    choice: a ticked value shows how many of the results have it, "(3)"; an unticked one how
    many more results ticking it too would add, "(+2)" (the results that have it under the other
    filters, less those already shown).
    """

    def label(facet: str, value: object) -> str:
        key = str(value)
        attribute = MULTI_SELECT_FACETS.get(facet)
        chosen = [str(v) for v in getattr(query, attribute)] if attribute else []
        if not chosen:
            return f"({facets.get(facet, {}).get(key, 0)})"
        shown = within.get(facet, {}).get(key, 0)
        if key in chosen:
            return f"({shown})"
        return f"(+{max(0, facets.get(facet, {}).get(key, 0) - shown)})"

    return label


@bp.route("/", endpoint="home")
@bp.route("/activities", endpoint="search")
# One generous limit per client address for both search pages: only a loop meets it.
@limiter.shared_limit(lambda: current_app.config["SEARCH_RATE_LIMIT"], scope="search")
def home():
    """Search and browse public activities: text, filters with counts, cards, pages, feeds.

    A bad parameter shows the form again with its message next to its filter (400); an unknown
    school, organisation or municipality likewise (404).
    """
    endpoint = request.endpoint or "activities.home"
    clean = clean_search_args(request.args)
    if clean != list(request.args.items(multi=True)):
        # The same search without empty or default parameters: a URL worth sharing.
        query_string = f"?{urlencode(clean)}" if clean else ""
        return redirect(request.script_root + request.path + query_string)
    query, errors = parse_leniently(request.args)
    status = 400 if errors else 200
    result = None
    facets: dict[str, dict[str, int]] = {}
    if not errors:
        try:
            result = search_activities(query)
        except UnknownFilterValue as exc:
            errors[exc.param] = exc.message
            status = 404
        except QueryError as exc:  # a `near` school without coordinates
            errors[exc.param] = exc.message
            status = 400
        else:
            # The service's counts, the same as the API's (directory.search.service.facet_counts).
            facets = result.facets

    locale = _locale()
    labels = filter_labels()
    lists = loading.filter_lists()  # kept in this process until the public data changes
    # Hidden categories are no filter choice; an old link's chip still shows the name.
    categories = sorted(
        ((c.slug, c.name_in(locale)) for c in lists.categories if not c.hidden),
        key=lambda choice: choice[1].casefold(),
    )
    municipalities = lists.municipalities
    schools = lists.schools
    names: dict[str, dict] = {
        "category": {c.slug: c.name_in(locale) for c in lists.categories},
        "school": {s.slug: s.name for s in schools},
        "municipality": {m.slug: m.name for m in municipalities},
        "organisation": {},
    }
    if query.organisation and "organisation" not in errors:
        names["organisation"] = dict(
            db.session.execute(
                select(Organisation.slug, Organisation.name).where(
                    Organisation.slug == query.organisation
                )
            ).all()
        )
    chips = _chips(query, endpoint, names) if result is not None else []
    loosenings = _loosenings(chips) if result is not None and not result.total else []
    # What the sort control shows: empty is the default order (relevance with text).
    sort = query_to_args(query).get("sort", "")
    return render_template(
        "activities/home.html",
        endpoint=endpoint,
        query=query,
        result=result,
        cards=page_cards(result) if result is not None else [],
        landing=_landing(result, categories, schools, municipalities, labels)
        if endpoint == "activities.home"
        and result is not None
        and not [name for name in request.args if name != "lang"]
        else None,
        errors=errors,
        raw=request.args,
        facets=facets,
        chips=chips,
        filter_count=sum(chip.counts_as_filter for chip in chips),
        filter_summary=[chip.phrase for chip in chips if chip.counts_as_filter],
        loosenings=loosenings,
        # Whether every filter was tried on its own (for "removing one does not help").
        all_loosened=len(chips) <= MAX_LOOSENED,
        categories=categories,
        municipalities=municipalities,
        schools=schools,
        school_choices=[(s.slug, s.name) for s in schools],
        # «Nær skole» offers the schools a distance can be measured from.
        near_schools=[s for s in schools if s.latitude is not None and s.longitude is not None],
        within_choices=[
            (f"{km:g}", labels.within.get(km) or km_text(km))
            for km in sorted({*WITHIN_KM_CHOICES, *([query.within_km] if query.within_km else [])})
        ],
        ages=labels.ages,
        grades=labels.grades,
        **_checkbox_groups(query, facets, result, categories, labels),
        sort="" if sort == "relevance" else sort,
        pager=result.pagination() if result else None,
        feeds=feed_urls(query) if result is not None else None,
        args=query_to_args(query, page=None),
        fix_args=query_to_args(query, **{**dict.fromkeys(errors), **_fix_near(query, errors)}),
    ), status


def _checkbox_groups(query: SearchQuery, facets: dict, result, categories, labels: FilterLabels):
    """The search form's checkbox groups (directory.activities.search_form.checkboxes), each
    box with the count of what ticking it would do when the page has counts."""
    label = facet_labeller(query, facets, result.facets_within if result else {})

    def group(name: str, choices) -> list[Choice]:
        return [
            Choice(name, value, text, checked, label(name, value) if facets else None)
            for value, text, checked in choices
        ]

    def marks(*names: str) -> list[Choice]:
        return [
            Choice(
                name,
                1,
                labels.marks[name],
                bool(getattr(query, name)),
                label(name, 1) if facets else None,
            )
            for name in names
        ]

    return {
        "category_choices": group(
            "category", ((slug, name, slug in query.categories) for slug, name in categories)
        ),
        "weekday_choices": group(
            "weekday", ((d, name, d in query.weekdays) for d, name in labels.weekdays.items())
        ),
        "time_choices": group(
            "time", ((t, name, t in query.times) for t, name in labels.times.items())
        ),
        "price_choices": marks("free", "accessible"),
        "start_choices": marks("fritidskort", "trial", "equipment"),
    }


LANDING_KEPT = "landing"


def _landing(result, categories, schools, municipalities, labels: FilterLabels) -> Markup:
    """The home page's welcome before any search (templates/activities/_landing.html).

    It shows the same to every visitor: the categories with their counts on the home listing,
    this week, the ages and the schools. This process makes it once for each language, week
    and set of counts, and keeps it while the public data stays as it is (with the result
    cards, directory.data_version.kept_shelf); the icons it draws come back with it."""
    counts = result.facets.get("category", {})
    week = this_week()
    key = (current_language(), request.script_root, week, tuple(sorted(counts.items())))
    shelf = data_version.kept_shelf(LANDING_KEPT, "CARD_CACHE_ENTRIES")
    kept = shelf.get(key) if shelf is not None else None
    if kept is None:
        kept = rendered_apart(
            lambda: Markup(  # noqa: S704 - an autoescaping template's own output
                render_template(
                    "activities/_landing.html",
                    counts=counts,
                    week=week,
                    categories=categories,
                    schools=schools,
                    municipalities=municipalities,
                    ages=labels.ages,
                )
            )
        )
        if shelf is not None:
            shelf.put(key, kept)
    use_icons(kept[1])
    return kept[0]


def _fix_near(query: SearchQuery, errors: dict[str, str]) -> dict[str, object]:
    """The link "without the errors" leaves the first page; without its `near` school, the
    distance limit and order go too (they need the school)."""
    changes: dict[str, object] = {"page": None}
    if "near" in errors:
        changes.update(near=None, within_km=None, sort=_sort_without_near(query))
    return changes


def back_to_results_url(referrer: str | None) -> str | None:
    """The link back to the search the visitor came from: when the Referer is this site's own
    search page (/ or /activities on this host), that search rebuilt from its parsed parameters
    as a path on this site; otherwise None. Never a link elsewhere, whatever the header says."""
    if not referrer or len(referrer) > 4000:
        return None
    try:
        parts = urlsplit(referrer)
        hostname = parts.hostname
    except ValueError:  # a malformed header (a bad port, brackets)
        return None
    trusted = current_app.config.get("TRUSTED_HOSTS")
    same_host = parts.netloc == request.host or (
        isinstance(trusted, list | tuple) and hostname in trusted
    )
    if parts.scheme not in ("http", "https") or not same_host:
        return None
    endpoints = {f"{request.script_root}/": "activities.home"}
    endpoints[f"{request.script_root}/activities"] = "activities.search"
    endpoint = endpoints.get(parts.path)
    if endpoint is None:
        return None
    query, errors = parse_leniently(MultiDict(parse_qsl(parts.query, keep_blank_values=True)))
    if errors:
        return url_for(endpoint)
    return url_for(endpoint, **query_to_args(query))


@bp.route("/activities/<int:activity_id>")
def show_activity(activity_id: int):
    """One activity with everything about it; drafts only for its organisation and admin.

    Coming from a search on this site, a link leads back to it (from the Referer header, which
    the browser sends within the site: nothing is added to the card links, nothing stored)."""
    activity = loading.activity(activity_id)
    if not can_view_activity(current_user, activity):
        abort(404)  # a draft's existence is nobody else's business
    content = _content_in(activity, request.args.get("content"))
    facts = _schedule_facts(activity)
    can_edit = can_edit_activity(current_user, activity)
    response = make_response(
        render_template(
            "activities/show.html",
            activity=activity,
            content=content,
            text=content.translation if content else activity,
            content_links=_content_links(activity),
            dates=facts.dates,
            schedule_texts=facts.schedule_texts,
            category_name=activity.category.name_in(_locale()) if activity.category else None,
            languages=language_names(activity.languages, _locale()),
            json_ld=facts.json_ld,
            calendar=facts.calendar,
            can_edit=can_edit,
            fritidskort_hint=fritidskort_hint(activity) if can_edit else None,
            actions=allowed_actions(activity.status) if can_edit else [],
            # Other organisations' offers at the same time: a hint for the organiser only.
            clashes=clashes.find_for(activity) if can_edit else [],
            back_url=back_to_results_url(request.referrer),
        )
    )
    response.vary.add("Referer")  # the back link depends on it
    return response


ACTIVITY_FACTS_KEPT = "activity_facts"


@dataclass(frozen=True)
class ScheduleFacts:
    """What the activity page says of its schedules: the next five dates, each schedule in
    words, the schema.org data and the calendar buttons (None: not published, or no date
    left)."""

    upcoming: list
    dates: list[tuple[str, str, str]]  # each next date's ISO start, start and end in words
    schedule_texts: list[str]
    json_ld: Markup
    calendar: object


def _schedule_facts(activity: Activity) -> ScheduleFacts:
    """The activity page's schedule facts; for a public activity, kept by this process while
    the public data stays the same, until its next date has ended or the day turns (they
    depend on nothing else but the language and the site's address)."""
    now = utcnow()

    def make() -> ScheduleFacts:
        upcoming = next_occurrences(activity.schedules, after=now, limit=5)
        # TRANSLATORS: a CLDR date pattern: EEEE weekday, d day, MMMM month, HH:mm time; quote words as in 'kl.'.
        pattern = _("EEEE d. MMMM 'kl.' HH:mm")
        return ScheduleFacts(
            upcoming=upcoming,
            dates=[
                (
                    o.start.isoformat(),
                    format_datetime(o.start, pattern),
                    format_time(o.end, "HH:mm"),
                )
                for o in upcoming
            ],
            schedule_texts=[describe_schedule(s) for s in activity.schedules],
            json_ld=event_json_ld(activity, upcoming),
            calendar=activity_calendar_links(activity, now=now)
            if activity.status == "published"
            else None,
        )

    shelf = data_version.kept_shelf(ACTIVITY_FACTS_KEPT, "CARD_CACHE_ENTRIES")
    if shelf is None or not activity.is_public:
        return make()
    key = (activity.id, current_language(), request.host_url, request.script_root)
    kept = shelf.get(key)
    if kept is not None and kept[0] <= now < kept[1]:
        return kept[2]
    facts = make()
    tomorrow = datetime.combine(oslo_today(now) + timedelta(days=1), clock_time(), tzinfo=OSLO)
    until = min(facts.upcoming[0].end, tomorrow) if facts.upcoming else tomorrow
    shelf.put(key, (now, until, facts))
    return facts


@dataclass(frozen=True)
class ContentLink:
    """A link to the activity's text in another language («Les på polsk»)."""

    language: ContentLanguage
    name: str  # in the interface language
    url: str
    absolute_url: str  # for <link rel="alternate" hreflang>


@dataclass(frozen=True)
class ContentView:
    """The activity page showing its text in another language."""

    language: ContentLanguage
    name: str
    translation: ActivityTranslation


def _content_in(activity: Activity, code: str | None) -> ContentView | None:
    """The translation `?content=` asks for; None without the parameter; 404 with a message for
    a language the site does not offer or the activity has no text in."""
    translation = content_text(activity, code)
    if translation is None:
        return None
    language = CONTENT_LANGUAGES[translation.language]
    return ContentView(language, language.name(_locale()), translation)


def _content_links(activity: Activity) -> list[ContentLink]:
    """The activity's other languages, in the order of the language list."""
    links = []
    for translation in in_language_order(activity.translations):
        language = CONTENT_LANGUAGES[translation.language]
        values = {"activity_id": activity.id, "content": language.code}
        links.append(
            ContentLink(
                language,
                language.name(_locale()),
                url_for("activities.show_activity", **values),
                url_for("activities.show_activity", _external=True, **values),
            )
        )
    return links


bp.add_app_template_global(result_card)


@bp.app_template_filter("in_language_order")
def _in_language_order_filter(translations):
    """Translations in the order of the content languages (for the cards)."""
    return in_language_order(translations)


@bp.app_template_filter("endonym")
def endonym(code: str) -> str:
    """A content language's own name ("Українська"), or the code as given."""
    language = content_language(code)
    return language.endonym if language else code


@bp.app_template_filter("content_direction")
def content_direction(code: str) -> str:
    """A content language's writing direction: "rtl" or "ltr"."""
    language = content_language(code)
    return language.direction if language else "ltr"


@bp.app_template_filter("card_picture")
def card_picture(image_filename: str) -> str:
    """The media name a result card shows for a stored image: its small WebP rendition."""
    return card_name(image_filename) or image_filename


@bp.route("/media/<name>")
def media(name: str):
    """An uploaded image or flyer, when it belongs to an activity the visitor may see, or an
    organisation's logo, when the visitor may see the organisation; or an image's card
    rendition, made on its first request when missing, else the image itself."""
    images = card_image_names(name)  # a card rendition's possible images; none for the others
    if images:
        owned_by = Activity.image_filename.in_(images)
    elif STORED_NAME.fullmatch(name):
        owned_by = or_(Activity.image_filename == name, Activity.flyer_filename == name)
    else:
        abort(404)
    owners = db.session.scalars(
        select(Activity).where(owned_by).options(selectinload(Activity.organisation))
    ).all()
    if not owners:
        # An organisation's logo: public while the organisation is (not rejected); a rejected
        # one's only for those who may still see its page.
        names = images or [name]
        logo_owner = db.session.scalar(
            select(Organisation).where(Organisation.logo_filename.in_(names)).limit(1)
        )
        if logo_owner is None or not can_view_organisation(current_user, logo_owner):
            abort(404)
        served = name
        if images:
            logo = logo_owner.logo_filename
            served = _card_or_image(logo)
        return _send_media(served, public=not logo_owner.rejected)
    if not any(can_view_activity(current_user, a) for a in owners):
        abort(404)
    served = name
    if images:
        image = owners[0].image_filename  # copies of an activity share the same file
        served = _card_or_image(image)
    return _send_media(served, public=all(a.is_public for a in owners))


def _card_or_image(image: str) -> str:
    """The name to serve for an image's card: its rendition, made (and, in the database,
    committed) now when missing, else the image itself."""
    return run_in_transaction(lambda: ensure_card_rendition(image)) or image


def _send_media(served: str, *, public: bool):
    """A stored file as /media/ serves it; `public` when anyone may see it (cacheable).

    The same answer from either storage: Content-Length, an ETag and Last-Modified, a 304 to
    a matching conditional request, ranges, an hour's max-age; the folder's file is sent from
    disk, the database's from its row (its ETag the content's SHA-256, the same on every host).
    """
    is_pdf = served.endswith(".pdf")
    found = upload_storage().get(served)
    if found is None:
        abort(404)
    mimetype = "application/pdf" if is_pdf else found.content_type
    if found.path is not None:
        response = send_from_directory(
            found.path.parent,
            served,
            mimetype="application/pdf" if is_pdf else None,
            max_age=3600,
            conditional=True,
        )
    else:
        response = send_file(
            io.BytesIO(found.read()),
            mimetype=mimetype,
            download_name=served,
            etag=found.etag,
            last_modified=found.modified,
            max_age=3600,
            conditional=True,
        )
    # A flyer is saved and opened in the reader's own PDF viewer, never rendered as a page of
    # this site's origin (the activity page's link says "Last ned"). CSP's sandbox would keep
    # it inline, but Chrome's and Safari's viewers then show nothing at all.
    response.headers["Content-Disposition"] = (
        'attachment; filename="flygeblad.pdf"' if is_pdf else "inline"
    )
    if not public:
        response.headers["Cache-Control"] = "private, no-store"
    return response


# --- management ------------------------------------------------------------------------------


@bp.route("/organisations/<slug>/activities")
@login_required
def list_manage(slug: str):
    """All the organisation's activities, in every status, with their action buttons."""
    organisation = loading.organisation(slug)
    if not can_edit_organisation(current_user, organisation):
        abort(403)
    activities = db.session.scalars(
        select(Activity)
        .where(Activity.organisation_id == organisation.id)
        .options(selectinload(Activity.schedules))
        .order_by(Activity.created_at.desc(), Activity.id.desc())
    ).all()
    rows = [
        {"activity": a, "next_start": next_start(a.schedules), "actions": allowed_actions(a.status)}
        for a in activities
    ]
    return render_template(
        "activities/list_manage.html",
        organisation=organisation,
        rows=rows,
    )


def _flash_clashes(activity: Activity) -> None:
    """After a save or publish: a short hint when other organisations' offers clash (the
    activity page lists them for the organiser); the save itself stands either way."""
    found = clashes.find_for(activity)
    if found:
        flash(clashes.summary(found), "warning")


class _ActivityFiles:
    """Uploads stored during a save: removed again when the save fails (a concurrent edit's
    409, any error before the commit), so that no orphan is left in the upload folder (in the
    database the rollback took them already). Only files stored in this request are listed,
    never ones in use."""

    stored: list[str]

    def failed(self) -> None:
        discard_unused_files(self.stored)  # should this fail too, an orphan is left, not a loss


@route(bp, "/organisations/<slug>/activities/new", "new_activity")
class NewActivity(_ActivityFiles, Handler):
    """Create a draft activity for the organisation."""

    methods = ["GET", "POST"]

    def load(self, slug: str) -> None:
        self.organisation = loading.organisation(slug)
        self.stored = []

    def check(self) -> None:
        if not can_edit_organisation(current_user, self.organisation):
            abort(403)

    def make_form(self) -> ActivityForm:
        return _activity_form(None, self.organisation)

    def current_version(self) -> None:
        return None  # a new activity: nothing to be stale against

    def show(self, form: ActivityForm, status: int = 200):
        return render_template(
            "activities/new.html", form=form, organisation=self.organisation, activity=None
        ), status

    def invalid(self, form: ActivityForm):
        return self.show(form, 400)

    def act(self, form: ActivityForm) -> Activity:
        files, _unused = _file_changes(form, None, self.stored)
        return create_activity(
            self.organisation,
            ActivityData(
                fields={**form.activity_values(), **_placement(form, self.organisation), **files},
                schedule=form.schedule_values(),
            ),
            actor=current_user,
        )

    def done(self, activity: Activity):
        flash(_("Aktiviteten er lagret som utkast. Publiser den når den er klar."), "info")
        _flash_clashes(activity)
        return redirect(url_for("activities.show_activity", activity_id=activity.id))


class _OneActivity(Handler):
    """A handler for an action on one activity by its organiser's members."""

    def load(self, activity_id: int) -> None:
        self.activity = loading.activity(activity_id)

    def check(self) -> None:
        # Others get 403, or 404 when they may not even see the activity.
        if not can_edit_activity(current_user, self.activity):
            abort(activity_refusal_status(current_user, self.activity))

    def current_version(self) -> int:
        return self.activity.version


@route(bp, "/activities/<int:activity_id>/edit", "edit_activity")
class EditActivity(_ActivityFiles, _OneActivity):
    """Edit an activity and its first schedule; a stale form is refused with 409.

    Another editor's save may land between the version check and the commit: the version
    column then refuses it (StaleDataError, a 409 as well).
    """

    methods = ["GET", "POST"]

    def load(self, activity_id: int) -> None:
        super().load(activity_id)
        self.stored = []
        self.replaced: list[str | None] = []

    def make_form(self) -> ActivityForm:
        return _activity_form(self.activity, self.activity.organisation)

    def show(self, form: ActivityForm, status: int = 200):
        activity = self.activity
        first = activity.schedules[0] if activity.schedules else None
        return render_template(
            "activities/edit.html",
            form=form,
            organisation=activity.organisation,
            activity=activity,
            other_schedules=len(activity.schedules) - 1 if activity.schedules else 0,
            fritidskort_hint=fritidskort_hint(activity),
            rule_too_complex=first is not None and summarise_rule(first).repeat is None,
        ), status

    def invalid(self, form: ActivityForm):
        return self.show(form, 400)

    def act(self, form: ActivityForm) -> bool:
        files, self.replaced = _file_changes(form, self.activity, self.stored)
        placed = _placement(form, self.activity.organisation)
        return update_activity(
            self.activity,
            ActivityData(
                fields={**form.activity_values(), **placed, **files},
                schedule=form.schedule_values(),
            ),
            actor=current_user,
        )

    def done(self, changes: bool):
        # After the commit, in a transaction of its own: never a file still in use.
        run_in_transaction(lambda: discard_unused_files(self.replaced))
        flash(_("Endringene er lagret.") if changes else _("Ingen endringer å lagre."), "info")
        _flash_clashes(self.activity)
        return redirect(url_for("activities.show_activity", activity_id=self.activity.id))


STATUS_MESSAGES = {
    "publish": _l("Aktiviteten er publisert."),
    "unpublish": _l("Aktiviteten er gjort om til utkast og vises ikke lenger offentlig."),
    "cancel": _l("Aktiviteten er avlyst. Den vises fortsatt, merket som avlyst."),
    "archive": _l("Aktiviteten er arkivert og vises ikke lenger offentlig."),
}


class ChangeStatus(_OneActivity):
    """One status button (publish, unpublish, cancel, archive); then back where it was."""

    form_class = StatusForm
    action: ClassVar[str]

    def act(self, form: StatusForm) -> None:
        self.return_to = form.return_to.data
        change_activity_status(
            self.activity, {"action": self.action, "note": form.note.data}, actor=current_user
        )

    def done(self, result: None):
        flash(str(STATUS_MESSAGES[self.action]), "info")
        if self.action == "publish":
            _flash_clashes(self.activity)
        if self.return_to == "detail":
            return redirect(url_for("activities.show_activity", activity_id=self.activity.id))
        return redirect(url_for("activities.list_manage", slug=self.activity.organisation.slug))


# Make a draft (or cancelled) activity public (it needs a date in the future); take it back to
# draft; mark it cancelled (it stays visible with its note); hide it for good (it can come back
# as a draft).
for _action in STATUS_MESSAGES:
    type(f"{_action.title()}Activity", (ChangeStatus,), {"action": _action}).route(
        bp, f"/activities/<int:activity_id>/{_action}", f"{_action}_activity"
    )


@route(bp, "/activities/<int:activity_id>/copy", "copy_activity")
class CopyActivity(_OneActivity):
    """Copy an activity to next season as a draft, dates moved 52 weeks, and edit the copy."""

    form_class = Form

    def act(self, form: Form) -> Activity:
        return copy_activity(self.activity, actor=current_user)

    def done(self, copy: Activity):
        flash(
            _("Aktiviteten er kopiert til neste sesong som utkast. Se over datoene og lagre."),
            "info",
        )
        return redirect(url_for("activities.edit_activity", activity_id=copy.id))


# --- the offer in other languages (issue 14) ---------------------------------------------------


@bp.route("/activities/<int:activity_id>/translations")
@login_required
def list_translations(activity_id: int):
    """The activity's text in each other language: written ones to edit or remove, the rest
    to add."""
    activity = loading.activity(activity_id)
    if not can_edit_activity(current_user, activity):
        abort(activity_refusal_status(current_user, activity))
    written = {t.language: t for t in activity.translations}
    rows = [
        (language, language.name(_locale()), written.get(code))
        for code, language in CONTENT_LANGUAGES.items()
    ]
    return render_template("activities/translations.html", activity=activity, rows=rows)


class _OneTranslation(_OneActivity):
    """An action on the activity's text in one language (404 for a language not offered)."""

    def load(self, activity_id: int, language: str) -> None:
        super().load(activity_id)
        found = content_language(language)
        if found is None:
            abort_with(404, _("Vi tilbyr ikke tekst på det språket."))
        self.language = found
        self.translation = next(
            (t for t in self.activity.translations if t.language == found.code), None
        )


@route(bp, "/activities/<int:activity_id>/translations/<language>", "edit_translation")
class EditTranslation(_OneTranslation):
    """Write or change the activity's title, summary and description in one language."""

    methods = ["GET", "POST"]

    def make_form(self) -> TranslationForm:
        if request.method == "GET" and self.translation is not None:
            return TranslationForm(
                data={
                    "title": self.translation.title,
                    "summary": self.translation.summary,
                    "description": self.translation.description,
                }
            )
        return TranslationForm()

    def show(self, form: TranslationForm, status: int = 200):
        return render_template(
            "activities/edit_translation.html",
            activity=self.activity,
            language=self.language,
            language_name=self.language.name(_locale()),
            translation=self.translation,
            form=form,
        ), status

    def invalid(self, form: TranslationForm):
        return self.show(form, 400)

    def act(self, form: TranslationForm) -> bool:
        return translate_activity(
            self.activity,
            self.language.code,
            {"title": form.title.data, "summary": form.summary.data,
             "description": form.description.data},
            actor=current_user,
        )  # fmt: skip

    def done(self, changed: bool):
        name = self.language.name(_locale())
        flash(
            _("Teksten på %(language)s er lagret.", language=name)
            if changed
            else _("Ingen endringer å lagre."),
            "info",
        )
        return redirect(url_for("activities.list_translations", activity_id=self.activity.id))


@route(bp, "/activities/<int:activity_id>/translations/<language>/delete", "delete_translation")
class DeleteTranslation(_OneTranslation):
    """Remove the activity's text in one language."""

    form_class = VersionedForm

    def act(self, form: VersionedForm) -> None:
        untranslate_activity(self.activity, self.language.code, actor=current_user)

    def done(self, result: None):
        flash(
            _("Teksten på %(language)s er fjernet.", language=self.language.name(_locale())),
            "info",
        )
        return redirect(url_for("activities.list_translations", activity_id=self.activity.id))


# --- listings that stay current (issue 14) ---------------------------------------------------


def _confirmed_message(until) -> str:
    return _(
        "Takk! Aktiviteten er bekreftet som aktuell til %(date)s.",
        date=format_date(until, "long"),
    )


@route(bp, "/activities/<int:activity_id>/confirm", "confirm_listing")
class ConfirmListing(_OneActivity):
    """«Fortsatt aktuell»: a member confirms the listing in one click (no version: renewing
    twice is harmless), then back where the button was."""

    form_class = ConfirmListingForm

    def current_version(self) -> None:
        return None

    def act(self, form: ConfirmListingForm):
        self.return_to = form.return_to.data
        return confirm_listing(self.activity, {"via": "button"}, actor=current_user)

    def done(self, until):
        flash(_confirmed_message(until), "success")
        if self.return_to == "detail":
            return redirect(url_for("activities.show_activity", activity_id=self.activity.id))
        return redirect(url_for("activities.list_manage", slug=self.activity.organisation.slug))


# A refused «Fortsatt aktuell» link: its status and why, in words.
LINK_REFUSALS = {
    "invalid": (404, _l("Lenken er ikke gyldig. Kopier hele lenken fra e-posten, eller logg inn og bekreft aktiviteten på aktivitetslista.")),
    "expired": (410, _l("Lenken er for gammel. Logg inn og bekreft aktiviteten på aktivitetslista.")),
    "used": (410, _l("Lenken er allerede brukt, eller aktiviteten er bekreftet på annen måte siden e-posten ble sendt.")),
    "member": (403, _l("Du er ikke lenger med i organisasjonen som har aktiviteten, så lenken virker ikke.")),
    "not_public": (409, _l("Aktiviteten er ikke publisert, så den kan ikke bekreftes. Logg inn og publiser den på nytt.")),
}  # fmt: skip


@route(bp, "/listings/confirm/<token>", "confirm_listing_by_link")
class ConfirmListingByLink(Handler):
    """The e-mailed «Fortsatt aktuell» link: signed, single use, 30 days, no login for this one
    act. GET shows the button and changes nothing (mail scanners follow links); POST renews."""

    methods = ["GET", "POST"]
    decorators = []  # the link is the key
    form_class = Form

    def load(self, token: str) -> None:
        try:
            link = resolve_confirmation_link(token)
        except LinkRefused as refused:
            status, message = LINK_REFUSALS[refused.reason]
            page = render_template("activities/confirm_listing_invalid.html", message=message)
            abort(make_response(page, status))
        self.activity, self.user = link.activity, link.user

    def show(self, form: Form):
        return render_template(
            "activities/confirm_listing.html",
            form=form,
            activity=self.activity,
            new_date=default_confirmed_until(oslo_today()),
            confirmed_until=None,
        )

    def act(self, form: Form):
        return confirm_listing(self.activity, {"via": "link"}, actor=self.user)

    def done(self, until):
        return render_template(
            "activities/confirm_listing.html", form=None, activity=self.activity,
            new_date=None, confirmed_until=until,
        )  # fmt: skip
