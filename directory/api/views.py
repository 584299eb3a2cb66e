"""Views of the api domain."""

from flask import Blueprint

bp = Blueprint("api", __name__)
