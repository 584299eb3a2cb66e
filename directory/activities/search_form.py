"""The search form's repeated controls, written in Python as WTForms writes its widgets.

The form on every search page has some sixty of them (a checkbox with its count for each
category, weekday, time of day and mark; an option for each age and grade): as Jinja macro calls
they cost a third of the page. Each text is escaped here; the template places the groups
(templates/activities/_filters.html).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

from flask import Flask
from markupsafe import Markup, escape


class Choice(NamedTuple):
    """One checkbox: the parameter and its value, the label, whether it is ticked, and the
    count of what ticking it would do ("(3)", "(+2)"; None: no counts on the page)."""

    name: str
    value: object
    label: str
    checked: bool
    count: str | None


@lru_cache(maxsize=4096, typed=True)
def _escaped(value: object) -> str:
    """A name, value or label escaped once: the same few hundred recur on every page."""
    return str(escape(value))


def checkboxes(choices: Iterable[Choice]) -> Markup:
    """A group's checkboxes, each labelled, with its count."""
    parts = []
    for name, value, label, checked, count in choices:
        ident = _escaped(f"{name}-{value}")
        tick = " checked" if checked else ""
        shown = f' <span class="count">{_escaped(count)}</span>' if count is not None else ""
        parts.append(
            f'<div class="choice"><input type="checkbox" id="{ident}" name="{_escaped(name)}" '
            f'value="{_escaped(value)}"{tick}> <label for="{ident}">{_escaped(label)}{shown}'
            "</label></div>"
        )
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped


def options(choices: Iterable[tuple[object, str]], selected: object) -> Markup:
    """A select's options (after its empty one), the one whose value is `selected` chosen."""
    return Markup(  # noqa: S704 - every text is escaped
        "".join(
            f'<option value="{_escaped(value)}"{" selected" if value == selected else ""}>'
            f"{_escaped(label)}</option>"
            for value, label in choices
        )
    )


def field_error(errors: dict[str, str], name: str) -> Markup:
    """The message for a bad parameter, at its field (empty when it is good)."""
    message = errors.get(name)
    if not message:
        return Markup("")
    return Markup('<p class="errors" id="{0}-err">{1}</p>').format(name, message)


def field_invalid(errors: dict[str, str], name: str) -> Markup:
    """The attributes that tie a bad parameter's field to its message (empty when it is good)."""
    if not errors.get(name):
        return Markup("")
    return Markup(' aria-invalid="true" aria-describedby="{0}-err"').format(name)


def init_app(app: Flask) -> None:
    """Offer the controls to the templates."""
    app.jinja_env.globals.update(
        checkboxes=checkboxes, options=options, field_error=field_error, field_invalid=field_invalid
    )
