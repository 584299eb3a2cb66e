"""The municipal admin's blueprint, shared by its view modules (views, account_views), and its gate."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user

from directory.extensions import login_manager
from directory.permissions import can_administer_municipality

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def require_municipal_admin():
    """Every admin page needs a signed-in municipal admin: others get the login page or 403."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not can_administer_municipality(current_user):
        abort(403)
    return None
