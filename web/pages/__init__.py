"""Server-rendered pages. One blueprint; each area of the app adds its routes in its own module."""

from apiflask import APIBlueprint

# An APIFlask blueprint left out of the OpenAPI description: pages are not part of the API.
pages = APIBlueprint("pages", __name__, enable_openapi=False)

# Routes register on import.
from . import (  # noqa: E402,F401
    auth,
    designer,
    dictionary,
    dossiers,
    inbox,
    incidents,
    migrations,
    overview,
    pilotage,
    portal,
    profile,
    shared_work,
)
from .workspace import long_text  # noqa: E402

pages.add_app_template_filter(long_text, "long")
