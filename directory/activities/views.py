"""Activities: the public pages and the organiser's management."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("activities", __name__)


@bp.route("/")
def home():
    """Upcoming published activities."""
    return render_template("activities/home.html", activities=[])
