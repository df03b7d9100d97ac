"""Login for internal users and partners (session cookie), and the permission check for pages."""

from functools import wraps

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_login import UserMixin, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from kernel.accounts import User, UserRole, user_by_email, user_by_id

from ..extensions import db, login_manager
from ..permissions import Perm, allows
from . import pages
from .workspace import local_target


class LoginUser(UserMixin):
    """The session's view of an account."""

    def __init__(self, account: User):
        self.account = account
        self.id = str(account.id)


@login_manager.user_loader
def load_user(user_id: str) -> LoginUser | None:
    account = user_by_id(db.session, int(user_id))
    return LoginUser(account) if account is not None and account.active else None


login_manager.login_view = "pages.login"


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired()])
    password = PasswordField("Mot de passe", validators=[DataRequired()])


def page_allowed(perm: Perm):
    """Pages mirror the API: unauthenticated → login; partners → 404; others without the right → 403."""

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            account = current_user.account
            if not allows(account, perm):
                abort(404 if account.is_partner else 403)
            return view(*args, **kwargs)

        wrapper.permission = perm
        return wrapper

    return decorate


@pages.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        limiter = current_app.extensions["login_limiter"]
        keys = (f"ip:{request.remote_addr}", f"email:{email}")
        wait = limiter.blocked(*keys)
        if wait:
            error = f"Trop de tentatives : réessayez dans {int(wait // 60) + 1} minute(s)."
            return render_template("auth/login.html", form=form, error=error), 429
        account = user_by_email(db.session, email)
        if account is not None and account.active and account.check_password(form.password.data):
            limiter.succeeded(*keys)
            login_user(LoginUser(account))
            return redirect(landing(account))
        limiter.failed(*keys)
        error = "E-mail ou mot de passe incorrect."
    return render_template("auth/login.html", form=form, error=error), 401 if error else 200


@pages.route("/logout", methods=["POST"])
def logout():
    logout_user()
    return redirect(url_for("pages.login"))


# Where each profile starts its day: a manager's actions; an analyst's sequences; an admin, who seldom
# holds a role, the overview of every sequence's dossiers; a partner, the portal.
LANDING = {
    UserRole.MANAGER: "pages.inbox",
    UserRole.ANALYST: "pages.designer_library",
    UserRole.ADMIN: "pages.overview",
}


def start_page(account: User) -> str:
    if account.is_partner:
        return url_for("pages.portal_home")
    return url_for(LANDING.get(account.role, "pages.dossier_list"))


def landing(account: User) -> str:
    """Where a fresh session goes: a safe `next` (a path of this site; for a partner, of the portal), else
    the profile's start page."""
    target = local_target(start_page(account))
    if account.is_partner and not target.startswith("/portal/"):
        return start_page(account)
    return target


@pages.route("/")
@login_required
def home():
    return redirect(start_page(current_user.account))
