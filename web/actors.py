"""Who acts in the current request, as the runtime's services take it."""

from flask import g, request
from flask_login import current_user

from runtime.actors import Actor


def current_actor() -> Actor:
    """The API's caller (by token, or a page's session calling the API: web.api.authenticate), else the user
    signed in to a page."""
    account = g.user if request.blueprint == "api" else current_user.account
    return Actor(user_id=account.id, is_partner=account.is_partner)
