"""The request workflow's blueprint, shared by its view modules (one per audience)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("approvals", __name__)
