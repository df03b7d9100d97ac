"""Login for internal users and partners (session cookie), and the permission check for pages."""

from functools import wraps

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_login import UserMixin, current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired

from kernel.accounts import User, user_by_email, user_by_id

from ..extensions import db, login_manager
from ..permissions import Perm, allows
from . import pages


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
            target = request.args.get("next") or ""
            # Only local paths: never bounce a fresh session to another site.
            if not target.startswith("/") or target.startswith("//"):
                target = url_for("pages.home")
            return redirect(target)
        limiter.failed(*keys)
        error = "E-mail ou mot de passe incorrect."
    return render_template("auth/login.html", form=form, error=error), 401 if error else 200


@pages.route("/logout", methods=["POST"])
def logout():
    logout_user()
    return redirect(url_for("pages.login"))


@pages.route("/")
@login_required
def home():
    account = current_user.account
    if account.is_partner:
        return (
            redirect(url_for("pages.portal_home"))
            if "pages.portal_home" in _endpoints()
            else render_template("home.html")
        )
    return render_template("home.html")


def _endpoints() -> set[str]:
    from flask import current_app

    return {rule.endpoint for rule in current_app.url_map.iter_rules()}
