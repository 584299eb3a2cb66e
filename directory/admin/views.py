"""The municipal admin's pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/organisations")
def list_organisations():
    """Organisations waiting for verification."""
    return "", 501
