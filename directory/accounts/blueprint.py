"""The accounts blueprint, shared by its view modules (views.py and two_factor_views.py)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("accounts", __name__)
