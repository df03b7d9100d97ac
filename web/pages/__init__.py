"""Server-rendered pages. One blueprint; each area of the app adds its routes in its own module."""

from flask import Blueprint

pages = Blueprint("pages", __name__)

# Routes register on import.
from . import auth, designer  # noqa: E402,F401
