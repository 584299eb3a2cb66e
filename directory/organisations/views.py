"""Organisations: public pages, editing, members."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("organisations", __name__)


@bp.route("/organisations")
def list_organisations():
    """All organisations with published activities."""
    return "", 501


@bp.route("/organisations/<slug>")
def show_organisation(slug: str):
    """One organisation's page."""
    return "", 501
