"""The schools blueprint, shared by its view modules (views: policies and the school register;
staff_views: a school's staff and its invitations)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("schools", __name__)
