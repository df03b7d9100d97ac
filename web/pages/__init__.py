"""Server-rendered pages. One blueprint; each area of the app adds its routes in its own module."""

from flask import Blueprint

pages = Blueprint("pages", __name__)

from . import auth  # noqa: E402,F401  (routes register on import)
